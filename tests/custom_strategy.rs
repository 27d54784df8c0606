//! A user's own decrement path, written in a test file against the public API
//! with no change to stockrace: exactly what a shop's test suite does.

mod own_strategies;

// Checks with a plain read, then decrements relatively. It never loses an
// update, but the check can be stale: two buyers of the last unit both pass
// it, and stock goes to -1.
use own_strategies::check_then_decrement;
use stockrace::{
    Assign, Builder, DbError, Guard, Invariant, Order, Sale, Session, Strategy, Update,
};

/// The fix: let the database check in the same statement.
async fn decrement_if_enough(mut db: Session, order: Order) -> Result<Sale, DbError> {
    for line in &order.lines {
        // Outside BEGIN each statement is its own transaction (autocommit).
        let updated = db
            .update(Update {
                stocked: Assign::Add(-line.quantity),
                guard: Guard::StockedAtLeast(line.quantity),
                ..Update::new(line.level)
            })
            .await?;
        if updated.is_none() {
            return Ok(Sale::OutOfStock);
        }
    }
    Ok(Sale::Sold)
}

#[test]
fn the_fixed_path_holds() {
    let dir = tempfile::tempdir().unwrap();
    Builder::new(Strategy::new("decrement-if-enough", decrement_if_enough))
        .orders(4)
        .stock(3)
        .seeds(300)
        .seeds_dir(dir.path())
        .run()
        .assert_holds();
}

#[test]
fn the_stale_check_oversells_and_the_failure_is_kept_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let builder = Builder::new(Strategy::new("check-then-decrement", check_then_decrement))
        .orders(2)
        .stock(1)
        .seeds(100)
        .seeds_dir(dir.path());

    let report = builder.run();
    let failure = report
        .sweep
        .first_failure
        .as_ref()
        .expect("the stale check oversells");
    assert_eq!(
        failure.verdict.violation().unwrap().invariant,
        Invariant::NoOversell
    );
    assert_eq!(
        failure.final_rows[0].stocked, -1,
        "relative updates: no lost update, but below zero"
    );

    let message = *std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report.assert_holds()))
        .expect_err("assert_holds must fail")
        .downcast::<String>()
        .unwrap();
    let seed = failure.seed.unwrap();
    assert!(message.contains(&format!("at seed {seed}")), "{message}");
    assert!(
        message.contains(&format!("schedule: {:?}", failure.schedule)),
        "{message}"
    );
    // A strategy of the test's own: the message says how to replay it from
    // the test (the command line does not know the strategy).
    let test = "the_stale_check_oversells_and_the_failure_is_kept_and_replayed";
    assert!(
        message.contains(&format!("replay: STOCKRACE_SEED={seed} cargo test {test}")),
        "{message}"
    );
    assert!(
        message.contains("or: STOCKRACE_REPLAY=")
            && message.contains(&format!(".toml cargo test {test}")),
        "{message}"
    );
    assert!(!message.contains("stockrace replay"), "{message}");
    assert!(
        message.contains("verdict: VIOLATED no-oversell"),
        "the trace is in the message: {message}"
    );

    // The failure was kept; the next run replays it before any seed.
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("check-then-decrement-"));
    let again = builder.clone().seeds(0).run();
    assert_eq!(again.regressions.len(), 1);
    assert!(
        !again.regressions[0].2.verdict.holds(),
        "the kept schedule still oversells"
    );
    assert_eq!(again.regressions[0].2.schedule, failure.schedule);
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| again.assert_holds())).is_err()
    );
}
