//! The MariaDB 10.11 reference transcripts replayed on a real MariaDB,
//! through the same driver as the InnoDB model's test
//! (tests/transcripts/innodb.rs, tests/conformance_mariadb_model.rs): the
//! reference re-observed on every run, with the same skip list plus the
//! server-only skips below.
//!
//! The server is the one STOCKRACE_MARIADB (`mysql://user:password@host:port/`)
//! or the MARIADB_* / MYSQL_* variables name (`.ci/run` starts a throwaway
//! one). Without one the test says it was skipped and why; under `CI=true`
//! a missing server is a failure. Each case runs in a database of its own,
//! dropped afterwards; a few cases run at once.
//!
//! Time: the transcripts' one lock wait timeout (`timeout`, 50 s on the
//! reference server) is the server's `innodb_lock_wait_timeout` set to
//! 3 s per session, which the driver's virtual time stands for; think
//! time (`SELECT SLEEP(1.5)`) passes at the same rate (90 ms).
//!
//! `cargo test --test conformance_mariadb -- --nocapture` prints the count.

mod mariadb;
mod transcripts;

use mariadb::server;
use stockrace::adapters::mariadb::MariaDbBackend;
use stockrace::model::{Event, LevelId, Row, SessionId, Statement};
use transcripts::innodb::{replay_all, InnoDb, SKIPPED};

const REFERENCE: &str = include_str!("conformance/reference/mariadb-10.11-transcripts.txt");

/// Cases the server does not run as recorded, beyond the model's
/// [`SKIPPED`], by key, and why.
const SERVER_SKIPPED: &[(&str, &str)] = &[];

/// Cases replayed at once (each on its own connections and database;
/// the reads of InnoDB's lock tables are shared).
const THREADS: usize = 4;

impl InnoDb for MariaDbBackend<'_> {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        MariaDbBackend::execute(self, session, statement, out)
    }
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        MariaDbBackend::time_passed(self, now_ms, out)
    }
    fn next_timeout_ms(&self) -> Option<u64> {
        MariaDbBackend::next_timeout_ms(self)
    }
    fn in_transaction(&self, session: SessionId) -> bool {
        MariaDbBackend::in_transaction(self, session)
    }
    fn lock_wait_timeout_ms(&self) -> u64 {
        self.config().lock_wait_timeout_ms
    }
    fn committed_rows(&self) -> Vec<Row> {
        MariaDbBackend::committed_rows(self)
    }
    fn committed_reservations(&self, level: LevelId) -> i64 {
        MariaDbBackend::committed_reservations(self, level)
    }
    fn committed_reservation_count(&self, level: LevelId) -> usize {
        MariaDbBackend::committed_reservation_count(self, level)
    }
}

#[test]
fn every_mariadb_transcript_passes_on_the_server_or_is_skipped_with_a_reason() {
    let Some(server) = server() else {
        return;
    };
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    let started = std::time::Instant::now();
    let verdicts = replay_all(&cases, SERVER_SKIPPED, THREADS, |setup| {
        server
            .backend(&setup.rows, setup.sessions, setup.config)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    println!(
        "MariaDB transcripts on {} ({}): {} of {} pass, {} skipped, in {:.1} s",
        server.description,
        server.version,
        verdicts.passed,
        verdicts.cases,
        verdicts.skipped,
        started.elapsed().as_secs_f64()
    );
    verdicts.assert_clean();
}

#[test]
fn every_server_skip_names_a_case_the_model_runs() {
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    for (key, reason) in SERVER_SKIPPED {
        assert!(!reason.is_empty());
        assert!(
            cases.iter().any(|c| c.key() == *key),
            "no case {key} in the reference"
        );
        assert!(
            SKIPPED.iter().all(|(k, _)| k != key),
            "{key} is skipped for the model already"
        );
    }
}
