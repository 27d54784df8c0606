//! Deadlocks and lock timeouts in virtual time, as PostgreSQL decides them:
//! the first waiter whose deadlock_timeout runs out while a cycle exists is
//! the victim (40P01); a statement waiting longer than lock_timeout gets 55P03.

use std::time::Duration;
use stockrace::scenario::Shape;
use stockrace::trace::TraceEvent;
use stockrace::{
    model::Progress, Assign, DbError, Execution, Isolation, Order, Sale, Scenario, Session,
    Simulation, SqlState, Strategies, Strategy, Update,
};

/// Decrements each line in listed order in one transaction; the second order
/// (T2) pauses `pause_ms` between its two updates.
async fn opposite(mut db: Session, order: Order, pause_ms: u64) -> Result<Sale, DbError> {
    db.begin(Isolation::ReadCommitted).await?;
    for (i, line) in order.lines.iter().enumerate() {
        if i == 1 && order.index == 1 {
            db.sleep(Duration::from_millis(pause_ms)).await;
        }
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

fn simulation(name: &str, scenario: Scenario, strategy: Strategy) -> Simulation {
    let mut registry = Strategies::builtin();
    registry.add(strategy);
    let mut scenario = scenario;
    for order in &mut scenario.orders {
        order.strategy = name.to_string();
    }
    Simulation::new(scenario, &registry).unwrap()
}

/// (order, time) of every statement that failed with `state`.
fn failures(execution: &Execution, state: SqlState) -> Vec<(String, u64)> {
    execution
        .trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Statement { time_ms, event } => match event.progress {
                Progress::Done(Err(err)) if err.state == state => {
                    Some((event.session.to_string(), *time_ms))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// When order `index` (0 = T1) first began waiting for a lock, if it did.
fn wait_start(execution: &Execution, index: u32) -> Option<u64> {
    execution.trace.iter().find_map(|e| match e {
        TraceEvent::Statement { time_ms, event }
            if event.session.0 == index && matches!(event.progress, Progress::Waiting { .. }) =>
        {
            Some(*time_ms)
        }
        _ => None,
    })
}

/// Pattern f both ways: the cycle closes `pause_ms` after T1 began waiting.
fn victim(pause_ms: u64) -> (String, u64) {
    let scenario = Shape {
        items: 2,
        stock: 5,
        ..Shape::new("opposite")
    }
    .scenario();
    let strategy = Strategy::new("opposite", move |db, order| opposite(db, order, pause_ms));
    let simulation = simulation("opposite", scenario, strategy);
    for seed in 0..500 {
        let execution = simulation.run_seed(seed);
        let deadlocks = failures(&execution, SqlState::DeadlockDetected);
        // The schedules of interest: T1 waits from t=0, then T2 closes the cycle after its pause.
        if wait_start(&execution, 0) == Some(0) && deadlocks.len() == 1 {
            assert!(execution.verdict.holds(), "{}", execution.render());
            return deadlocks[0].clone();
        }
    }
    panic!("no seed in 500 produced the schedule");
}

#[test]
fn the_first_waiter_whose_timeout_runs_out_in_a_cycle_is_the_victim() {
    // The cycle closes 0.45 s after T1 began waiting: T1's check at 1.0 s finds it.
    assert_eq!(victim(450), ("T1".to_string(), 1000));
    // It closes 1.5 s after: T1's check at 1.0 s found nothing, so T2, which
    // began waiting at 1.5 s, finds it at 2.5 s.
    assert_eq!(victim(1500), ("T2".to_string(), 2500));
}

#[test]
fn deadlock_timeout_is_configurable() {
    let mut scenario = Shape {
        items: 2,
        stock: 5,
        orders: 2,
        ..Shape::new("row-lock")
    }
    .scenario();
    scenario.deadlock_timeout_ms = 300;
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let times: Vec<u64> = (0..200)
        .flat_map(|seed| failures(&simulation.run_seed(seed), SqlState::DeadlockDetected))
        .map(|(_, t)| t)
        .collect();
    assert!(!times.is_empty(), "row-lock with opposite lists deadlocks");
    assert!(times.iter().all(|t| t % 300 == 0), "{times:?}");
}

/// T1 holds the row for 1 s; T2 waits at most 200 ms.
async fn hold_or_wait(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(Isolation::ReadCommitted).await?;
    let line = order.lines[0];
    db.update(Update {
        stocked: Assign::Add(-line.quantity),
        ..Update::new(line.level)
    })
    .await?;
    if order.index == 0 {
        db.sleep(Duration::from_millis(1000)).await;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

#[test]
fn lock_timeout_fails_a_long_wait_with_55p03() {
    let mut scenario = Shape {
        stock: 5,
        ..Shape::new("hold")
    }
    .scenario();
    scenario.orders[1].lock_timeout_ms = Some(200);
    let simulation = simulation("hold", scenario, Strategy::new("hold", hold_or_wait));
    let mut seen = false;
    for seed in 0..200 {
        let execution = simulation.run_seed(seed);
        assert!(execution.verdict.holds(), "{}", execution.render());
        let timeouts = failures(&execution, SqlState::LockNotAvailable);
        if let Some(start) = wait_start(&execution, 0) {
            // T1 waited for T2: T1 has no lock_timeout and waits it out.
            assert!(timeouts.is_empty(), "seed {seed}: T1 waited from {start}");
        } else if let Some(start) = wait_start(&execution, 1) {
            // T2 waited for T1: unless T1 committed within 200 ms, T2 timed out
            // exactly 200 ms after it began waiting.
            if !timeouts.is_empty() {
                assert_eq!(
                    timeouts,
                    vec![("T2".to_string(), start + 200)],
                    "{}",
                    execution.render()
                );
                assert_eq!(execution.outcomes[1].name(), "failed");
                seen = true;
            }
        }
    }
    assert!(seen, "some schedule makes T2 wait for T1");
}

#[test]
fn an_order_on_an_unknown_node_is_rejected() {
    let mut scenario = Shape::new("row-lock").scenario();
    scenario.orders[0].node = Some(3);
    let error = Simulation::new(scenario, &Strategies::builtin()).unwrap_err();
    assert_eq!(error.field, "orders[0].node");
}
