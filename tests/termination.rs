//! A strategy that never ends, waits forever or panics is reported, never a
//! hung test.

use std::time::Duration;
use stockrace::scenario::{Budget, Shape};
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

/// Takes an in-process lock per line, in the order listed, then sells.
/// In-process locks have no deadlock detection: opposite orders hang.
async fn process_locks_in_listed_order(mut db: Session, order: Order) -> Result<Sale, DbError> {
    for line in &order.lines {
        db.process_lock(u64::from(line.level.sql_id())).await;
    }
    db.begin(Isolation::ReadCommitted).await?;
    for line in &order.lines {
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    for line in &order.lines {
        db.process_unlock(u64::from(line.level.sql_id()));
    }
    Ok(Sale::Sold)
}

#[test]
fn sleeping_forever_exhausts_the_virtual_time_budget() {
    let mut scenario = Scenario::single("sleeper", 2, 1, 1, Isolation::ReadCommitted);
    scenario.budget = Budget {
        max_steps: Some(10_000),
        max_virtual_ms: Some(5_000),
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
        max_steps: Some(500),
        max_virtual_ms: Some(60_000),
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
    assert_eq!(report.tally.runs, 1, "the sweep stops at the first panic");
}

#[test]
fn an_in_process_lock_cycle_is_a_termination_violation() {
    // Two items; T1 lists (1, 2), T2 lists (2, 1); both on one app node.
    let scenario = Shape {
        orders: 2,
        items: 2,
        stock: 5,
        ..Shape::new("process-locks")
    }
    .scenario();
    let simulation = simulation(
        Strategy::new("process-locks", process_locks_in_listed_order),
        scenario,
    );
    let report = stockrace::sweep(&simulation, 0..100, false);
    let failure = report
        .first_failure
        .expect("some schedule closes the cycle");
    let violation = failure.verdict.violation().unwrap();
    assert_eq!(violation.invariant, Invariant::Termination);
    assert!(
        violation.detail.contains(
            "T1 waits for in-process lock 2 on app node 0, T2 waits for in-process lock 1"
        ),
        "{}",
        violation.detail
    );
    assert!(
        failure
            .render()
            .contains("waits for in-process lock 2 (held by T2)"),
        "{}",
        failure.render()
    );
    // Schedules that do not interleave the two orders finish: not every seed hangs.
    assert!(report.tally.violations < report.tally.runs);
}

#[test]
fn the_step_budget_message_says_what_ran_out_and_when() {
    let mut scenario = Scenario::single("poller", 2, 1, 1, Isolation::ReadCommitted);
    scenario.budget.max_steps = Some(500);
    let execution = simulation(Strategy::new("poller", polls_forever), scenario).run_seed(1);
    let violation = execution.verdict.violation().expect("termination");
    // The verdict's step is a trace line; the budget counts scheduling
    // steps. The message says both, and they are true.
    assert_eq!(violation.step, execution.trace.len());
    assert!(
        violation.detail.contains("the scheduler took 500 steps"),
        "{}",
        violation.detail
    );
    assert!(
        violation
            .detail
            .contains(&format!("by trace line {}", execution.trace.len())),
        "{}",
        violation.detail
    );
}

/// Safe strategies at shapes the flags accept finish within the default
/// budgets, which grow with the orders and their lines.
#[test]
fn default_budgets_scale_with_the_scenario() {
    for strategy in ["guarded-decrement", "row-lock"] {
        let scenario = Shape {
            orders: 64,
            items: 3,
            ..Shape::new(strategy)
        }
        .scenario();
        let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
        assert!(simulation.scenario().budget.max_virtual_ms > Some(60_000));
        assert!(simulation.scenario().budget.max_steps > Some(10_000));
        let report = stockrace::sweep(&simulation, 0..200, false);
        assert_eq!(
            report.tally.by_invariant.get(&Invariant::Termination),
            None,
            "{strategy}: {:?}",
            report.first_failure.map(|f| f.verdict)
        );
    }
    // Small scenarios keep the budgets they always had (kept regression
    // files record them).
    let small = Simulation::new(Shape::new("row-lock").scenario(), &Strategies::builtin()).unwrap();
    assert_eq!(
        small.scenario().budget,
        Budget {
            max_steps: Some(10_000),
            max_virtual_ms: Some(60_000)
        }
    );
}

/// Orders queued on one row: every release re-runs each waiter, but a
/// waiter that must wait again is not a new trace line, so the trace grows
/// with the orders, not with their square.
#[test]
fn a_queue_on_one_row_gives_a_trace_linear_in_the_orders() {
    for strategy in ["guarded-decrement", "row-lock"] {
        for orders in [100, 300] {
            let scenario = Scenario::single(strategy, orders, 1, 1, Isolation::ReadCommitted);
            let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
            for seed in 0..4 {
                let execution = simulation.run_seed(seed);
                assert!(execution.verdict.holds(), "{:?}", execution.verdict);
                assert!(
                    execution.trace.len() <= 8 * orders,
                    "{strategy}, {orders} orders, seed {seed}: {} trace lines",
                    execution.trace.len()
                );
            }
        }
    }
}
