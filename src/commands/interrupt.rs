//! Ctrl-C (SIGINT) and SIGTERM during a sweep: a flag the sweep checks
//! between seeds, so it stops and the seeds done so far are reported. A
//! second signal ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status 130: stopped by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

static FLAG: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only async-signal-safe work here: an atomic, and _exit.
    if FLAG.swap(true, Ordering::SeqCst) {
        unsafe { libc::_exit(i32::from(INTERRUPTED)) };
    }
}

/// Installs the handler and returns the flag it sets.
pub fn catch() -> &'static AtomicBool {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches an atomic and calls _exit.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    &FLAG
}
