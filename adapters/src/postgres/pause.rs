//! Pausing the server's waiting backends, so that wake-ups happen one at a
//! time, in an order the driver chooses.
//!
//! Why. When a transaction that updated a row commits, PostgreSQL wakes the
//! backends waiting for it, and they race inside the server: the first
//! waiter (holding the tuple lock) and the one queued behind it both chase
//! the row's new version (heapam_tuple_lock follows the update chain after
//! the wait), and a waiter that follows the chain to a version its holder
//! has already updated waits for that transaction directly, without the
//! tuple lock, so a later newcomer is no longer queued behind it. Which
//! backend the operating system runs first decides who gets the row. The
//! first waiter nearly always wins, but not always (about one run in three
//! of some four-order schedules on a 2-core machine), and no order in which
//! the client sends statements can prevent it: the race starts inside the
//! COMMIT. A waiting backend's deadlock_timeout is likewise a real-time
//! timer that fires whenever the server's clock says, not when the
//! scheduler's virtual clock does.
//!
//! So while a backend waits for a lock it is stopped (SIGSTOP); the driver
//! lets it run again (SIGCONT) only when its lock has been granted, oldest
//! wait first, one at a time until it answers or waits again, or when the
//! scheduler fires its timer. A stopped backend holds no lightweight locks:
//! it is stopped only while it sleeps on its latch in ProcSleep
//! (`/proc/PID/wchan` says `do_epoll_wait`), where it has released them.
//!
//! This needs the server's processes on this machine and the right to
//! signal them (the same user, or root): with pg_virtualenv, as in the
//! README and CI. A backend is recognised by its command line, which names
//! the client's address and port as the server saw them. Elsewhere (a
//! server in a container or on another host) nothing is paused, and the
//! races above stay races: `diff` replays a disagreeing run to tell them
//! from a wrong model.

use std::time::Duration;

/// A server backend this process can stop and continue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pausable {
    pid: i32,
}

impl Pausable {
    /// The backend `pid`, if it runs on this machine, is the one serving the
    /// client at `client_port` (none: a Unix socket), and may be signalled.
    pub(crate) fn find(pid: i32, client_port: Option<i32>) -> Option<Pausable> {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        let ours = match client_port {
            Some(port) => cmdline.contains(&format!("({port})")),
            None => cmdline.contains("[local]"),
        };
        // Signal 0 checks the right to signal without sending anything.
        let allowed = unsafe { libc::kill(pid, 0) } == 0;
        (cmdline.starts_with("postgres") && ours && allowed).then_some(Pausable { pid })
    }

    /// Stops the backend once it sleeps on its latch; false if it did not
    /// settle there within `patience` (it is then left running).
    pub(crate) async fn stop(self, patience: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            if self.wchan().as_deref() == Some("do_epoll_wait") {
                unsafe { libc::kill(self.pid, libc::SIGSTOP) };
                // The signal takes effect when the kernel next looks at the
                // process; wait for it, so the caller knows it is stopped.
                while self.state() != Some('T') {
                    if self.state().is_none() {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Lets the backend run again; returns its count of voluntary context
    /// switches just before, for [`Pausable::slept_again_since`].
    pub(crate) fn resume(self) -> u64 {
        let switches = self.voluntary_switches().unwrap_or(0);
        unsafe { libc::kill(self.pid, libc::SIGCONT) };
        switches
    }

    /// Whether the backend, resumed when it had made `switches` voluntary
    /// context switches, has run and gone back to sleep on its latch: a
    /// timer that expired while it was stopped has then been handled
    /// (PostgreSQL's deadlock check runs in ProcSleep's loop, before it
    /// sleeps again).
    pub(crate) fn slept_again_since(self, switches: u64) -> bool {
        self.voluntary_switches().is_some_and(|now| now > switches)
            && self.state() == Some('S')
            && self.wchan().as_deref() == Some("do_epoll_wait")
    }

    fn wchan(self) -> Option<String> {
        std::fs::read_to_string(format!("/proc/{}/wchan", self.pid)).ok()
    }

    /// The state letter of /proc/PID/stat (R, S, T, ...).
    fn state(self) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // The command name in parentheses may hold spaces: the state follows
        // the last closing parenthesis.
        stat.rsplit_once(") ")?.1.chars().next()
    }

    fn voluntary_switches(self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|n| n.trim().parse().ok())
    }
}
