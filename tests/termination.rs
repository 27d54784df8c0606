//! A strategy that never ends, waits forever or panics is reported, never a
//! hung test.

use std::time::Duration;
use stockrace::scenario::{Budget, Level, LineSpec, OrderSpec};
use stockrace::{
    Assign, DbError, Invariant, Isolation, Order, Outcome, Sale, Scenario, Session, Simulation,
    Strategies, Strategy, Update,
};

fn simulation(strategy: Strategy, scenario: Scenario) -> Simulation {
    let mut registry = Strategies::builtin();
    registry.add(strategy);
    Simulation::new(scenario, &registry).unwrap()
}

async fn sleeps_forever(mut db: Session, _order: Order) -> Result<Sale, DbError> {
    loop {
        db.sleep(Duration::from_secs(1)).await;
    }
}

async fn polls_forever(mut db: Session, order: Order) -> Result<Sale, DbError> {
    loop {
        db.select(order.lines[0].level).await?;
    }
}

async fn panics(_db: Session, _order: Order) -> Result<Sale, DbError> {
    panic!("the strategy has a bug")
}

/// Locks the order's lines in the order listed, holding each lock.
async fn lock_in_listed_order(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(Isolation::ReadCommitted).await?;
    for line in &order.lines {
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

#[test]
fn sleeping_forever_exhausts_the_virtual_time_budget() {
    let mut scenario = Scenario::single("sleeper", 2, 1, 1, Isolation::ReadCommitted);
    scenario.budget = Budget {
        max_steps: 10_000,
        max_virtual_ms: 5_000,
    };
    let execution = simulation(Strategy::new("sleeper", sleeps_forever), scenario).run_seed(1);
    let violation = execution.verdict.violation().expect("termination");
    assert_eq!(violation.invariant, Invariant::Termination);
    assert!(
        violation.detail.contains("virtual-time budget (5000 ms)"),
        "{}",
        violation.detail
    );
    assert_eq!(
        execution.outcomes,
        vec![Outcome::Unfinished, Outcome::Unfinished]
    );
}

#[test]
fn an_endless_loop_of_statements_exhausts_the_step_budget() {
    let mut scenario = Scenario::single("poller", 2, 1, 1, Isolation::ReadCommitted);
    scenario.budget = Budget {
        max_steps: 500,
        max_virtual_ms: 60_000,
    };
    let execution = simulation(Strategy::new("poller", polls_forever), scenario).run_seed(1);
    let violation = execution.verdict.violation().expect("termination");
    assert_eq!(violation.invariant, Invariant::Termination);
    assert!(
        violation.detail.contains("step budget (500 steps)"),
        "{}",
        violation.detail
    );
}

#[test]
fn a_panicking_strategy_is_reported_not_propagated() {
    let scenario = Scenario::single("panics", 2, 1, 1, Isolation::ReadCommitted);
    let simulation = simulation(Strategy::new("panics", panics), scenario);
    let execution = simulation.run_seed(0);
    assert_eq!(execution.panic(), Some((0, "the strategy has a bug")));
    let report = stockrace::sweep(&simulation, 0..10, false);
    assert_eq!(
        report.panic,
        Some((0, 0, "the strategy has a bug".to_string()))
    );
    assert_eq!(report.runs, 1, "the sweep stops at the first panic");
}

#[test]
fn a_lock_cycle_without_deadlock_detection_is_a_termination_violation() {
    // Two items; T1 buys (1, 2), T2 buys (2, 1), each locking in listed order.
    let level = |item: &str| Level {
        item: item.into(),
        location: "location-1".into(),
        stocked: 5,
        reserved: 0,
        backorder: false,
    };
    let order = |first: u32, second: u32| OrderSpec {
        strategy: "listed-order".into(),
        isolation: Isolation::ReadCommitted,
        lines: vec![
            LineSpec {
                level: first,
                quantity: 1,
            },
            LineSpec {
                level: second,
                quantity: 1,
            },
        ],
    };
    let scenario = Scenario {
        levels: vec![level("a"), level("b")],
        orders: vec![order(1, 2), order(2, 1)],
        budget: Budget::default(),
        check_nonnegative: false,
    };
    let simulation = simulation(
        Strategy::new("listed-order", lock_in_listed_order),
        scenario,
    );
    let report = stockrace::sweep(&simulation, 0..100, false);
    let failure = report
        .first_failure
        .expect("some schedule closes the cycle");
    let violation = failure.verdict.violation().unwrap();
    assert_eq!(violation.invariant, Invariant::Termination);
    assert!(
        violation
            .detail
            .contains("T1 waits for a lock, T2 waits for a lock"),
        "{}",
        violation.detail
    );
    // Schedules that do not interleave the two orders finish: not every seed hangs.
    assert!(report.violations < report.runs);
}
