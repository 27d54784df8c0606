//! The MariaDB 10.11 reference transcripts
//! (tests/conformance/reference/mariadb-10.11-transcripts.txt) replayed on
//! the InnoDB model, statement by statement, through the driver in
//! tests/transcripts/innodb.rs (the one tests/conformance_mariadb.rs runs
//! on a real server): every result, error (number, SQLSTATE and whether
//! the transaction survived), wait, and every waiting statement that
//! returned in between, then the final rows. A case either passes or is in
//! the driver's `SKIPPED` with the reason; a skipped case that starts
//! passing fails the test, so the list cannot go stale.
//!
//! Run it with `cargo test --test conformance_mariadb_model -- --nocapture`
//! to see the count.

mod transcripts;

use stockrace::model::innodb::InnoDbStore;
use transcripts::innodb::{replay_all, SKIPPED};

const REFERENCE: &str = include_str!("conformance/reference/mariadb-10.11-transcripts.txt");

#[test]
fn every_mariadb_transcript_passes_or_is_skipped_with_a_reason() {
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    assert_eq!(cases.len(), 257, "cases in the reference");
    let verdicts = replay_all(&cases, &[], 1, |setup| {
        InnoDbStore::new(&setup.rows, setup.sessions, setup.config)
    });
    println!(
        "MariaDB transcripts on the InnoDB model: {} of {} pass, {} skipped",
        verdicts.passed, verdicts.cases, verdicts.skipped
    );
    verdicts.assert_clean();
}

#[test]
fn every_skip_names_a_case() {
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    for (key, reason) in SKIPPED {
        assert!(!reason.is_empty());
        assert!(
            cases.iter().any(|c| c.key() == *key),
            "no case {key} in the reference"
        );
    }
}
