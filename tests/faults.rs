//! Faults as choices: app node crashes and lost replies, spent from a
//! per-run budget, replayed like any other step, and judged by the
//! invariants that only faults can break (exactly-once, stranded-stock).

mod command;
mod sweeping;
use sweeping::tally;

use command::{stderr, stdout, stockrace};

use stockrace::trace::{Fault, TraceEvent};
use stockrace::{
    CheckConfig, CheckResult, Faults, Invariant, Outcome, Progress, Reply, Scenario, Shape,
    Simulation, SqlState, Statement, Strategies, Sweep,
};

fn simulation(strategy: &str, orders: usize, stock: i64, nodes: u32, faults: Faults) -> Simulation {
    let mut scenario = Shape {
        orders,
        stock,
        nodes,
        ..Shape::new(strategy)
    }
    .scenario();
    scenario.faults = faults;
    scenario.latency.statement_ms = 1;
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

const LOST_REPLY: Faults = Faults {
    crashes: 0,
    lost_replies: 1,
    ..Faults::NONE
};
const CRASH: Faults = Faults {
    crashes: 1,
    lost_replies: 0,
    ..Faults::NONE
};

/// A COMMIT whose reply is lost has committed: an order that gives up on
/// the error leaves its decrement behind (stranded-stock); one that retries
/// any error applies it twice (exactly-once) or, finding the stock gone,
/// is told out of stock for units it took.
#[test]
fn a_lost_commit_reply_strands_stock_and_a_blind_retry_applies_it_twice() {
    let guarded = simulation("guarded-decrement", 2, 3, 1, LOST_REPLY);
    let mut stranded = 0;
    guarded.run_seeds(0..300, |execution| {
        let Some(violation) = execution.verdict.violation() else {
            return true;
        };
        assert_eq!(
            violation.invariant,
            Invariant::StrandedStock,
            "{}",
            execution.render()
        );
        // The lost reply was a COMMIT's, and the server committed it.
        let lost = execution
            .trace
            .iter()
            .position(|e| {
                matches!(
                    e,
                    TraceEvent::Fault {
                        fault: Fault::LostReply,
                        ..
                    }
                )
            })
            .expect("a lost reply");
        let TraceEvent::Statement { event, .. } = execution.trace[lost - 1] else {
            panic!("the fault follows its statement:\n{}", execution.render());
        };
        assert_eq!(event.statement, Statement::Commit);
        assert_eq!(event.progress, Progress::Done(Ok(Reply::Commit)));
        assert!(execution.outcomes.iter().any(|o| matches!(o,
            Outcome::Failed(e) if e.state == SqlState::ConnectionFailure)));
        stranded += 1;
        true
    });
    assert!(stranded > 0);

    let blind = tally(&simulation("retry-on-error", 2, 3, 1, LOST_REPLY), 300);
    assert!(
        blind
            .by_invariant
            .get(&Invariant::ExactlyOnce)
            .copied()
            .unwrap_or(0)
            > 0,
        "{blind:?}"
    );
    assert_eq!(blind.failed, 0, "every error was retried: {blind:?}");
    assert!(blind.lost_replies > 0 && blind.lost_replies <= blind.runs);
    // Without faults the same path is safe: the invariants are not fooled
    // by the retries themselves.
    let clean = tally(
        &simulation("retry-on-error", 2, 3, 1, Faults::default()),
        300,
    );
    assert_eq!(clean.violations, 0, "{clean:?}");
}

/// A crashed node's orders stop and are told nothing; the server rolls back
/// what they had open, so a path that commits in one transaction loses no
/// unit, except when the crash falls between the commit and the reply.
#[test]
fn a_crash_rolls_back_what_its_node_had_open() {
    let simulation = simulation("row-lock", 3, 2, 2, CRASH);
    let mut crashed_open = 0;
    simulation.run_seeds(0..500, |execution| {
        let crashes = sweeping::faults(&execution, |f| matches!(f, Fault::Crash { .. }));
        assert!(
            crashes <= 1,
            "the budget is one crash:\n{}",
            execution.render()
        );
        for (order, outcome) in execution.outcomes.iter().enumerate() {
            if *outcome == Outcome::Crashed {
                assert_eq!(simulation.orders()[order].node, {
                    let TraceEvent::Fault {
                        fault: Fault::Crash { node },
                        ..
                    } = execution
                        .trace
                        .iter()
                        .find(|e| matches!(e, TraceEvent::Fault { .. }))
                        .unwrap()
                    else {
                        unreachable!()
                    };
                    *node
                });
            }
        }
        // A crash with a transaction open is followed by the server's ROLLBACK.
        if let Some(at) = execution
            .trace
            .iter()
            .position(|e| matches!(e, TraceEvent::Fault { .. }))
        {
            if let Some(TraceEvent::Statement { event, .. }) = execution.trace.get(at + 1) {
                if event.statement == Statement::Rollback {
                    crashed_open += 1;
                }
            }
        }
        match execution.verdict.violation() {
            None => {}
            Some(v) => assert_eq!(
                v.invariant,
                Invariant::StrandedStock,
                "{}",
                execution.render()
            ),
        }
        true
    });
    assert!(crashed_open > 0, "some crash caught a transaction open");
}

/// Faults are choices: a run with faults replays exactly from its
/// schedule, whatever madsim's seed, and the sweep's path gives the same
/// runs as a single run's.
#[test]
fn a_run_with_faults_is_a_pure_function_of_its_schedule() {
    for strategy in ["retry-on-error", "row-lock", "medusa-update-levels"] {
        let simulation = simulation(
            strategy,
            3,
            2,
            2,
            Faults {
                crashes: 1,
                lost_replies: 2,
                ..Faults::NONE
            },
        );
        let mut swept = Vec::new();
        simulation.run_seeds(0..60, |execution| {
            swept.push(execution);
            true
        });
        for (seed, from_sweep) in swept.iter().enumerate() {
            let single = simulation.run_seed(seed as u64);
            assert_eq!(single.trace, from_sweep.trace, "{strategy} seed {seed}");
            let replayed = simulation.replay(&single.schedule, Some(seed as u64 + 7));
            assert_eq!(replayed.trace, single.trace, "{strategy} seed {seed}");
            assert_eq!(replayed.verdict, single.verdict);
            let lost = single
                .trace
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        TraceEvent::Fault {
                            fault: Fault::LostReply,
                            ..
                        }
                    )
                })
                .count();
            assert!(lost <= 2, "{strategy} seed {seed}: the budget is 2");
        }
    }
}

/// `check` explores faults too: the exhaustive search proves the guarded
/// decrement safe without them and finds the stranded unit with one lost
/// reply.
#[test]
fn check_finds_the_stranded_unit_a_lost_reply_leaves() {
    let config = CheckConfig {
        max_runs: Some(200_000),
        ..CheckConfig::default()
    };
    let clean = simulation("guarded-decrement", 2, 2, 1, Faults::default());
    assert_eq!(clean.check(config).result, CheckResult::Complete);
    let faulty = simulation("guarded-decrement", 2, 2, 1, LOST_REPLY);
    let report = faulty.check(config);
    assert_eq!(report.result, CheckResult::Violated, "{} runs", report.runs);
    let failure = report.violation.expect("a failure");
    assert_eq!(
        failure.verdict.violation().map(|v| v.invariant),
        Some(Invariant::StrandedStock)
    );
}

#[test]
fn faults_come_from_scenario_files_and_flags_and_show_in_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faulty.toml");
    std::fs::write(
        &file,
        "[faults]\nlost_replies = 1\n\n[latency]\nstatement_ms = 1\n\n[[levels]]\nitem = \"a\"\nlocation = \"b\"\nstocked = 3\n\n[[orders]]\nstrategy = \"retry-on-error\"\nlines = [{ level = 1, quantity = 1 }]\ncount = 2\n",
    )
    .unwrap();
    let scenario = Scenario::load(&file, |n| Strategies::builtin().get(n).is_some()).unwrap();
    assert_eq!(scenario.faults, LOST_REPLY);

    let output = stockrace(&[
        "sweep",
        "--scenario",
        file.to_str().unwrap(),
        "--seeds",
        "300",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("faults injected: 0 app node crash(es), "),
        "{text}"
    );
    assert!(text.contains("exactly-once: "), "{text}");
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: stockrace "))
        .unwrap();
    let output = stockrace(&replay.split(' ').collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("FAULT: the reply was lost"),
        "{}",
        stdout(&output)
    );

    let output = stockrace(&[
        "sweep",
        "--strategy",
        "row-lock",
        "--orders",
        "3",
        "--nodes",
        "2",
        "--crashes",
        "1",
        "--latency-ms",
        "1",
        "--seeds",
        "50",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["scenario"]["faults"]["crashes"], 1);
    assert!(json["crashes"].as_u64().unwrap() > 0);
    assert!(json["crashed"].as_u64().unwrap() > 0);

    let output = stockrace(&["sweep", "--strategy", "row-lock", "--crashes", "-1"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Every built-in strategy on both databases, with crashes and lost replies
/// on two nodes: every run ends (a crash that frees an in-process lock
/// must not hand it to another order of the crashed node, which once hung
/// the simulator), and each fault budget holds.
#[test]
fn every_strategy_runs_to_its_end_under_faults() {
    let registry = Strategies::builtin();
    for database in stockrace::Database::ALL {
        for strategy in Strategies::BUILTIN {
            if registry.refusal(strategy, database).is_some() {
                continue;
            }
            let mut scenario = Shape {
                orders: 4,
                items: 2,
                stock: 3,
                nodes: 2,
                ..Shape::new(strategy)
            }
            .scenario();
            scenario.database = database;
            scenario.faults = Faults {
                crashes: 2,
                lost_replies: 2,
                ..Faults::NONE
            };
            let simulation = Simulation::new(scenario, &registry).unwrap();
            let report = Sweep::new(&simulation, 0..150)
                .stop_at_first_violation(false)
                .run();
            assert!(
                report.panic.is_none(),
                "{strategy} on {database}: {:?}",
                report.panic
            );
            let t = &report.tally;
            assert_eq!(t.runs, 150);
            assert!(
                t.crashes <= 2 * 150 && t.lost_replies <= 2 * 150,
                "{strategy} on {database}"
            );
            assert!(
                t.crashes > 0,
                "{strategy} on {database}: crashes are offered"
            );
        }
    }
}

/// `compare --faults`: the catalogue under one crash and one lost reply per
/// run; the paths that sell in one transaction strand stock, the blind
/// retry applies twice.
#[test]
fn compare_with_faults_shows_which_paths_survive() {
    let output = stockrace(&[
        "compare",
        "--faults",
        "--strategies",
        "guarded-decrement,retry-on-error",
        "--orders",
        "2",
        "--stock",
        "3",
        "--nodes",
        "2",
        "--seeds",
        "300",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let cell = |strategy: &str| {
        json["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["strategy"] == strategy)
            .unwrap()
            .clone()
    };
    assert!(
        cell("guarded-decrement")["by_invariant"]["stranded-stock"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        cell("retry-on-error")["by_invariant"]["exactly-once"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(cell("retry-on-error")["crashes"].as_u64().unwrap() > 0);
    assert!(cell("retry-on-error")["lost_replies"].as_u64().unwrap() > 0);
}

/// The idempotent path survives lost replies on both databases: a retry
/// after a lost COMMIT reply meets its own committed sale row and knows it
/// sold. A crash between a COMMIT and its reply still strands the unit
/// (nothing recovers a crashed order yet), so only lost replies here.
#[test]
fn the_idempotent_path_survives_lost_replies_on_both_databases() {
    for database in stockrace::Database::ALL {
        let mut scenario = Shape {
            orders: 3,
            stock: 3,
            ..Shape::new("idempotent")
        }
        .scenario();
        scenario.database = database;
        scenario.latency.statement_ms = 1;
        scenario.faults = Faults {
            crashes: 0,
            lost_replies: 2,
            ..Faults::NONE
        };
        let simulation = Simulation::new(scenario.clone(), &Strategies::builtin()).unwrap();
        let t = tally(&simulation, 2000);
        assert_eq!(t.violations, 0, "{database}: {t:?}");
        assert_eq!(
            t.failed, 0,
            "{database}: every lost reply was retried: {t:?}"
        );
        assert!(t.lost_replies > 2000, "{database}: {t:?}");
        // The same faults on the blind retry: applied twice.
        scenario
            .orders
            .iter_mut()
            .for_each(|o| o.strategy = "retry-on-error".into());
        let blind = tally(
            &Simulation::new(scenario, &Strategies::builtin()).unwrap(),
            2000,
        );
        assert!(
            blind.by_invariant.contains_key(&Invariant::ExactlyOnce),
            "{database}: {blind:?}"
        );
    }
}
