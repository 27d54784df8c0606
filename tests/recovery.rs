//! Restarts after a crash: with `[faults] restart = true` a crashed app
//! node comes back at once, and each order it ran whose strategy has a
//! recovery runs it on a new connection. The idempotent path recovers (its
//! sale row says whether the crashed attempt committed); the others stay
//! crashed, and what they left behind stays.

mod sweeping;
use sweeping::tally;

use stockrace::trace::{Fault, TraceEvent};
use stockrace::{
    CheckConfig, CheckResult, Execution, Faults, Invariant, Outcome, Shape, Simulation, Strategies,
};

fn simulation(strategy: &str, orders: usize, faults: Faults) -> Simulation {
    let mut scenario = Shape {
        orders,
        stock: 2,
        nodes: 2,
        ..Shape::new(strategy)
    }
    .scenario();
    scenario.faults = faults;
    scenario.latency.statement_ms = 1;
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

fn restarts(execution: &Execution) -> usize {
    sweeping::faults(execution, |f| matches!(f, Fault::Restart { .. }))
}

const CRASH_AND_LOST_REPLY: Faults = Faults {
    crashes: 1,
    lost_replies: 1,
    ..Faults::NONE
};

const RESTARTING: Faults = Faults {
    restart: true,
    ..CRASH_AND_LOST_REPLY
};

/// Without a restart a crash between the idempotent path's COMMIT and its
/// reply strands the unit; with one, the recovery meets its own sale row
/// and tells the customer the order sold, and nothing is stranded.
#[test]
fn the_idempotent_path_recovers_what_a_crash_left() {
    let without = tally(&simulation("idempotent", 3, CRASH_AND_LOST_REPLY), 3000);
    assert!(
        without.by_invariant.contains_key(&Invariant::StrandedStock),
        "{without:?}"
    );
    assert!(without.crashed > 0, "{without:?}");

    let restarting = simulation("idempotent", 3, RESTARTING);
    let t = tally(&restarting, 3000);
    assert_eq!(t.violations, 0, "{t:?}");
    assert_eq!(t.crashed, 0, "every crashed order recovered: {t:?}");
    assert!(t.crashes > 2000, "{t:?}");
    let mut recovered = 0;
    restarting.run_seeds(0..300, |execution| {
        let crashes = sweeping::faults(&execution, |f| matches!(f, Fault::Crash { .. }));
        // Every order on the crashed node recovers: at least one restart
        // line per crash, and each recovered order ends sold or out of stock.
        assert!(restarts(&execution) >= crashes, "{}", execution.render());
        recovered += restarts(&execution);
        for outcome in &execution.outcomes {
            assert!(
                matches!(outcome, Outcome::Sold | Outcome::OutOfStock),
                "{}",
                execution.render()
            );
        }
        true
    });
    assert!(recovered > 100, "{recovered} recoveries");
}

/// A strategy without a recovery stays crashed under `restart`: the same
/// runs, the same verdicts as without it.
#[test]
fn a_strategy_without_a_recovery_stays_crashed() {
    for strategy in ["guarded-decrement", "medusa-update-levels", "lease-lock"] {
        assert!(!Strategies::builtin().get(strategy).unwrap().recovers());
        let plain = simulation(strategy, 3, CRASH_AND_LOST_REPLY);
        let restarting = simulation(strategy, 3, RESTARTING);
        let mut runs = Vec::new();
        plain.run_seeds(0..200, |execution| {
            runs.push(execution);
            true
        });
        restarting.run_seeds(0..200, |execution| {
            let seed = execution.seed.unwrap() as usize;
            assert_eq!(restarts(&execution), 0, "{strategy}");
            assert_eq!(execution.trace, runs[seed].trace, "{strategy} seed {seed}");
            assert_eq!(execution.outcomes, runs[seed].outcomes);
            true
        });
        assert!(tally(&restarting, 200).crashed > 0, "{strategy}");
    }
}

/// Restarts are steps like any other: a run replays from its schedule.
#[test]
fn a_run_with_restarts_is_a_pure_function_of_its_schedule() {
    let simulation = simulation(
        "idempotent",
        3,
        Faults {
            crashes: 2,
            pauses: 1,
            ..RESTARTING
        },
    );
    let mut swept = Vec::new();
    simulation.run_seeds(0..80, |execution| {
        swept.push(execution);
        true
    });
    assert!(swept.iter().any(|e| restarts(e) > 0));
    for (seed, from_sweep) in swept.iter().enumerate() {
        let single = simulation.run_seed(seed as u64);
        assert_eq!(single.trace, from_sweep.trace, "seed {seed}");
        let replayed = simulation.replay(&single.schedule, Some(seed as u64 + 11));
        assert_eq!(replayed.trace, single.trace, "seed {seed}");
        assert_eq!(replayed.outcomes, single.outcomes, "seed {seed}");
    }
}

/// `check` proves it: every schedule of 2 idempotent orders with a crash
/// and a restart keeps every invariant; without the restart one strands a
/// unit.
#[test]
fn check_proves_the_recovery_and_finds_the_stranded_unit_without_it() {
    let config = CheckConfig {
        max_runs: Some(200_000),
        ..CheckConfig::default()
    };
    let crash = Faults {
        crashes: 1,
        ..Faults::NONE
    };
    let report = simulation("idempotent", 2, crash).check(config);
    assert_eq!(report.result, CheckResult::Violated, "{} runs", report.runs);
    assert_eq!(
        report
            .violation
            .and_then(|f| f.verdict.violation().map(|v| v.invariant)),
        Some(Invariant::StrandedStock)
    );
    let restarting = Faults {
        restart: true,
        ..crash
    };
    let report = simulation("idempotent", 2, restarting).check(config);
    assert_eq!(report.result, CheckResult::Complete, "{} runs", report.runs);
}

/// Medusa's compensation lives in the workflow engine's memory: alone, an
/// order whose COMMIT reply was lost writes the values it read back and
/// leaves the stock as it found it; a crash after the COMMIT loses the
/// compensation with the process, and nothing recovers it: the unit is
/// stranded, restart or not.
#[test]
fn medusa_compensates_a_lost_reply_but_a_crash_strands_the_unit() {
    let alone = |faults: Faults| {
        let mut scenario = Shape {
            orders: 1,
            stock: 3,
            ..Shape::new("medusa-update-levels")
        }
        .scenario();
        scenario.faults = faults;
        scenario.latency.statement_ms = 1;
        Simulation::new(scenario, &Strategies::builtin()).unwrap()
    };
    let lost = alone(Faults {
        lost_replies: 1,
        ..Faults::NONE
    });
    let t = tally(&lost, 2000);
    assert_eq!(t.violations, 0, "{t:?}");
    assert!(t.failed > 0, "{t:?}");
    // The failed orders left the stock as they found it.
    lost.run_seeds(0..200, |execution| {
        if matches!(execution.outcomes[0], Outcome::Failed(_)) {
            assert_eq!(execution.final_rows[0].stocked, 3, "{}", execution.render());
        }
        true
    });
    for restart in [false, true] {
        let crashed = alone(Faults {
            crashes: 1,
            restart,
            ..Faults::NONE
        });
        let t = tally(&crashed, 2000);
        assert!(
            t.by_invariant.contains_key(&Invariant::StrandedStock),
            "restart {restart}: {t:?}"
        );
    }
}

/// A crashed order's connection can close at any moment, not only in a
/// step the scheduler took: here the ROLLBACK of another order that
/// returned with its transaction open answers the crashed order's waiting
/// statement. Its recovery still starts, and the run goes on to its end.
#[test]
fn a_recovery_starts_whenever_the_dead_connection_closes() {
    let toml = r#"
nodes = 2
deadlock_timeout_ms = 1000

[faults]
crashes = 1
restart = true

[latency]
statement_ms = 1

[[levels]]
item = "a"
location = "w"
stocked = 2

[[levels]]
item = "b"
location = "w"
stocked = 2

[[orders]]
strategy = "idempotent"
node = 0
lines = [{ level = 1, quantity = 1 }, { level = 2, quantity = 1 }]

[[orders]]
strategy = "row-lock"
node = 1
lock_timeout_ms = 10
lines = [{ level = 2, quantity = 1 }, { level = 1, quantity = 1 }]
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("late-restart.toml");
    std::fs::write(&file, toml).unwrap();
    let scenario =
        stockrace::Scenario::load(&file, |n| Strategies::builtin().get(n).is_some()).unwrap();
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let mut late_restarts = 0;
    simulation.run_seeds(0..3000, |execution| {
        assert!(
            matches!(execution.outcomes[0], Outcome::Sold | Outcome::OutOfStock),
            "the idempotent order recovers: {:?}\n{}",
            execution.outcomes,
            execution.render()
        );
        // The row-lock order may strand a unit (it has no recovery), but
        // the run ends: nothing hangs.
        assert!(
            execution.verdict.violation().map(|v| v.invariant) != Some(Invariant::Termination),
            "{}",
            execution.render()
        );
        // Its restart came after the other order finished, when the
        // other's closing ROLLBACK let its waiting statement go.
        let finished = execution
            .trace
            .iter()
            .position(|e| matches!(e, TraceEvent::Finished { order: 1, .. }));
        let restarted = execution.trace.iter().position(|e| {
            matches!(
                e,
                TraceEvent::Fault {
                    fault: Fault::Restart { .. },
                    ..
                }
            )
        });
        if let (Some(f), Some(r)) = (finished, restarted) {
            if r > f && r - f <= 3 {
                late_restarts += 1;
            }
        }
        true
    });
    assert!(late_restarts > 0, "the case never came up");
}
