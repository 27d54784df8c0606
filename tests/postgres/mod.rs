//! The PostgreSQL server the differential tests run on: the one the PG*
//! variables name (`.ci/run` starts one with pg_virtualenv). Without one the
//! tests say they were skipped and why; under `CI=true` a missing server is
//! a failure, never a silent skip.

#![allow(dead_code)]

use std::io::Write;
use std::sync::{Mutex, MutexGuard, OnceLock};
use stockrace::adapters::postgres::PgServer;

/// The shared server, or `None` (after saying why) when there is none.
pub fn server() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match PgServer::connect(None) {
            Ok(server) => Some(server),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and no PostgreSQL to test against: {e}")
            }
            Err(e) => {
                // Straight to stderr: the test harness would swallow eprintln!
                // of a passing test, and a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the PostgreSQL tests in this file did not run: {e}"
                );
                None
            }
        })
        .as_ref()
}

/// Tests that time lock waits on the server take turns, so that one test's
/// load does not skew another's timeouts.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}
