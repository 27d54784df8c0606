//! The MariaDB server the live tests run on: the one STOCKRACE_MARIADB or
//! the MARIADB_* / MYSQL_* variables name (`.ci/run` starts a throwaway
//! one). Without one the tests say they were skipped and why; under
//! `CI=true` a missing server is a failure, never a silent skip.

use std::io::Write;
use std::sync::OnceLock;
use stockrace::adapters::mariadb::MariaDbServer;

/// The shared server, or `None` (after saying why) when there is none.
pub fn server() -> Option<&'static MariaDbServer> {
    static SERVER: OnceLock<Option<MariaDbServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match MariaDbServer::connect(None) {
            Ok(server) => Some(server),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and no MariaDB to test against: {e}")
            }
            Err(e) => {
                // Straight to stderr: the test harness would swallow
                // eprintln! of a passing test, and a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the MariaDB tests in this file did not run: {e}"
                );
                None
            }
        })
        .as_ref()
}
