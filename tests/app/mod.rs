//! What the app tests share: the server they run on (the PG* variables), and
//! one run at a time (order processes are timed against settle_ms, so two
//! sweeps must not share the machine's cores).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use stockrace::adapters::app::{AppFile, AppOptions, AppRunner};
use stockrace::adapters::postgres::PgServer;

/// Whether there is a server; without one, says so on stderr (a failure
/// under `CI=true`).
pub fn have_server() -> bool {
    match PgServer::connect(None) {
        Ok(_) => true,
        Err(e) => skip(&format!("no PostgreSQL to run the app tests on: {e}")),
    }
}

/// Reports a skip (false), or panics under `CI=true`.
pub fn skip(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true, and {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    false
}

pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A session on the app file at `path` (relative to the repository).
pub fn runner(path: &str) -> AppRunner {
    let app = AppFile::load(&repo(path)).unwrap_or_else(|e| panic!("{e}"));
    AppRunner::open(app, &AppOptions::default()).unwrap_or_else(|e| panic!("{path}: {e}"))
}
