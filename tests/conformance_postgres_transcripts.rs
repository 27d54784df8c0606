//! The PostgreSQL 15 reference transcripts
//! (tests/conformance/reference/postgres-15-transcripts.txt) replayed
//! statement by statement through the driver in tests/transcripts (the one
//! the MariaDB reference runs through): every result, error (SQLSTATE and
//! message), wait, and every waiting statement that returned in between,
//! then the final rows. On the model always; on a real PostgreSQL when the
//! PG* variables name one (`pg_virtualenv -t -v 15 cargo test --test
//! conformance_postgres_transcripts`), skipped with the reason when there
//! is none (a failure under CI=true), as tests/conformance_postgres.rs.
//!
//! A case either passes or is in `transcripts::postgres::SKIPPED` with the
//! reason; a skipped case that starts passing fails the test, so the list
//! cannot go stale. `-- --nocapture` prints the counts.

mod postgres;
mod transcripts;

use stockrace::model::{Store, StoreConfig};
use transcripts::postgres::{cases, replay_all, DEADLOCK_TIMEOUT_MS, SKIPPED};
use transcripts::replay::skip_reason;
use transcripts::sql::translate;
use transcripts::Step;

/// Cases the server does not run as recorded, beyond [`SKIPPED`], by key,
/// and why.
const SERVER_SKIPPED: &[(&str, &str)] = &[];

#[test]
fn every_postgres_transcript_passes_on_the_model_or_is_skipped_with_a_reason() {
    let cases = cases().expect("the reference parses");
    assert_eq!(cases.len(), 66, "cases in the reference");
    let verdicts = replay_all(&cases, &[], |rows, sessions| {
        Store::new(rows, sessions, StoreConfig::default())
    });
    println!(
        "PostgreSQL transcripts on the model: {} of {} pass, {} skipped",
        verdicts.passed, verdicts.cases, verdicts.skipped
    );
    verdicts.assert_clean();
}

#[test]
fn every_postgres_transcript_passes_on_the_server_or_is_skipped_with_a_reason() {
    let Some(server) = postgres::server() else {
        return;
    };
    // The cases time lock waits (deadlock checks) on the server.
    let _turn = postgres::one_at_a_time();
    let cases = cases().expect("the reference parses");
    let started = std::time::Instant::now();
    let verdicts = replay_all(&cases, SERVER_SKIPPED, |rows, sessions| {
        server
            .backend_for(rows, &vec![None; sessions], false, DEADLOCK_TIMEOUT_MS)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    println!(
        "PostgreSQL transcripts on {}: {} of {} pass, {} skipped, in {:.1} s",
        server.description,
        verdicts.passed,
        verdicts.cases,
        verdicts.skipped,
        started.elapsed().as_secs_f64()
    );
    verdicts.assert_clean();
}

/// The cut statements were completed (each one a case runs is a statement
/// the model has), and every skip names a case, once, with a reason.
#[test]
fn every_statement_is_whole_and_every_skip_names_a_case() {
    let cases = cases().expect("the reference parses");
    let run = cases
        .iter()
        .filter(|c| skip_reason(c, SKIPPED, &[]).is_none());
    let statements = run.flat_map(|c| &c.steps).filter_map(|s| match s {
        Step::Sent { sql, .. } => Some(sql),
        _ => None,
    });
    for sql in statements {
        assert!(translate(sql, 2).is_ok(), "`{sql}` is no model statement");
    }
    for (i, (key, reason)) in SKIPPED.iter().chain(SERVER_SKIPPED).enumerate() {
        assert!(!reason.is_empty(), "{key}: no reason");
        assert!(
            cases.iter().any(|c| c.key() == *key),
            "no case {key} in the reference"
        );
        assert!(
            SKIPPED
                .iter()
                .chain(SERVER_SKIPPED)
                .skip(i + 1)
                .all(|(k, _)| k != key),
            "{key} is skipped twice"
        );
    }
}
