//! Pauses of an app node and the lease-lock service: a lease holder that
//! stalls past its TTL writes after the next holder (lease-lock oversells),
//! and a fencing token in the row turns the stale write away
//! (lease-lock-fenced holds).

mod command;
mod sweeping;
use sweeping::tally;

use command::{stderr, stdout, stockrace};

use stockrace::lease::{LeaseAnswer, LeaseCall};
use stockrace::trace::{Fault, TraceEvent};
use stockrace::{
    CheckConfig, CheckResult, Execution, Faults, Guard, Invariant, Progress, Reply, Shape,
    Simulation, Statement, Strategies, Update,
};

/// 3 orders of 1 unit against `stock`, on 2 app nodes (a lease matters
/// only between processes), statements taking 2 ms each way.
fn simulation(strategy: &str, stock: i64, items: usize, faults: Faults) -> Simulation {
    let mut scenario = Shape {
        orders: 3,
        stock,
        items,
        nodes: 2,
        ..Shape::new(strategy)
    }
    .scenario();
    scenario.faults = faults;
    scenario.latency.statement_ms = 2;
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

const PAUSE: Faults = Faults {
    pauses: 1,
    ..Faults::NONE
};

fn pauses(execution: &Execution) -> Vec<(u64, u32, u64)> {
    execution
        .trace
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Fault {
                time_ms,
                fault: Fault::Pause { node, until_ms },
                ..
            } => Some((time_ms, node, until_ms)),
            _ => None,
        })
        .collect()
}

/// With statements that take time, an app stall is bounded and the lease
/// serialises the orders; a pause past the TTL lets a second holder in
/// while the first still writes, and units are sold twice.
#[test]
fn a_pause_past_the_ttl_breaks_the_lease_lock() {
    let clean = tally(&simulation("lease-lock", 2, 1, Faults::NONE), 1000);
    assert_eq!(clean.violations, 0, "{clean:?}");
    let paused = simulation("lease-lock", 2, 1, PAUSE);
    let t = tally(&paused, 1000);
    assert!(t.violations > 0, "{t:?}");
    assert!(
        t.pauses > 900 && t.pauses <= 1000,
        "at most one pause per run: {t:?}"
    );
    for invariant in t.by_invariant.keys() {
        assert!(
            matches!(invariant, Invariant::NoOversell | Invariant::Conservation),
            "{t:?}"
        );
    }
    // In a failing run, the lease was granted again while its first holder
    // still ran: a grant to another order before the holder's release.
    let seed = t.failing_seeds[0];
    let execution = paused.run_seed(seed);
    let grants: Vec<(u32, u64)> = execution
        .trace
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Lease {
                order,
                event:
                    stockrace::lease::LeaseEvent {
                        answer: LeaseAnswer::Granted { token, .. },
                        ..
                    },
                ..
            } => Some((order, token)),
            _ => None,
        })
        .collect();
    let stale_release = execution.trace.iter().any(|e| {
        matches!(
            e,
            TraceEvent::Lease {
                event: stockrace::lease::LeaseEvent {
                    call: LeaseCall::Release { .. },
                    answer: LeaseAnswer::Lost,
                },
                ..
            }
        )
    });
    assert!(grants.len() >= 2, "{}", execution.render());
    assert!(
        stale_release,
        "a holder outlived its lease:\n{}",
        execution.render()
    );
}

/// The fencing token turns the stale holder's write away: no violation in
/// sweeps with pauses (one and two items), and none in any schedule of 2
/// orders with a pause.
#[test]
fn the_fencing_token_keeps_the_lease_lock_safe_under_pauses() {
    for items in [1, 2] {
        let fenced = simulation("lease-lock-fenced", 2, items, PAUSE);
        let t = tally(&fenced, 1000);
        assert_eq!(t.violations, 0, "{items} item(s): {t:?}");
        assert!(t.pauses > 900 && t.pauses <= 1000, "{t:?}");
        // The token did the work: holders that lost their lease were
        // fenced out (a claim or write matching no row) and started over.
        let mut fenced_out = 0;
        fenced.run_seeds(0..1000, |execution| {
            fenced_out += execution
                .trace
                .iter()
                .filter(|e| {
                    matches!(e, TraceEvent::Statement { event, .. } if matches!(
                        (event.statement, event.progress),
                        (
                            Statement::Update(Update { guard: Guard::Version(_) | Guard::VersionBelow(_), .. }),
                            Progress::Done(Ok(Reply::Update { count: 0, .. })),
                        )
                    ))
                })
                .count();
            true
        });
        assert!(fenced_out > 0, "{items} item(s): nobody was fenced out");
    }
    let mut scenario = Shape {
        orders: 2,
        nodes: 2,
        ..Shape::new("lease-lock-fenced")
    }
    .scenario();
    scenario.faults = PAUSE;
    scenario.latency.statement_ms = 1;
    let fenced = Simulation::new(scenario.clone(), &Strategies::builtin()).unwrap();
    let config = CheckConfig {
        max_runs: Some(100_000),
        ..CheckConfig::default()
    };
    assert_eq!(fenced.check(config).result, CheckResult::Complete);
    scenario
        .orders
        .iter_mut()
        .for_each(|o| o.strategy = "lease-lock".into());
    let unfenced = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    assert_eq!(unfenced.check(config).result, CheckResult::Violated);
}

/// While a node is paused none of its orders runs code: it sends nothing,
/// calls no lease service, sleeps and ends nothing; only a statement it had
/// sent before may be answered (or, if the node crashes, rolled back).
/// Time elsewhere goes on.
#[test]
fn a_paused_node_runs_nothing_until_the_pause_ends() {
    for strategy in [
        "lease-lock",
        "lease-lock-fenced",
        "row-lock",
        "medusa-adjust",
        "idempotent",
    ] {
        let simulation = simulation(
            strategy,
            2,
            2,
            Faults {
                pauses: 2,
                crashes: 1,
                // idempotent recovers: its recovery waits for the pause too.
                restart: true,
                ..Faults::NONE
            },
        );
        let mut paused_runs = 0;
        simulation.run_seeds(0..300, |execution| {
            let nodes = simulation.orders().iter().map(|o| o.node).collect::<Vec<_>>();
            for (from, node, until) in pauses(&execution) {
                paused_runs += 1;
                let mut crashed = false;
                for event in &execution.trace {
                    if matches!(event, TraceEvent::Fault { fault: Fault::Crash { node: n }, .. } if *n == node)
                    {
                        crashed = true;
                    }
                    let t = event.time_ms();
                    let on_node = nodes[event.order().index()] == node;
                    if !on_node || t <= from || t >= until {
                        continue;
                    }
                    let allowed = matches!(
                        event,
                        TraceEvent::Statement { event, .. }
                            if event.resumed
                                || matches!(event.progress, Progress::Waiting { .. })
                                // A crash closes the node's connections.
                                || (crashed && event.statement == Statement::Rollback)
                    ) || matches!(event, TraceEvent::Fault { .. } | TraceEvent::Finished { .. });
                    assert!(
                        allowed,
                        "{strategy} seed {:?}: node {node} paused {from}..{until}ms, yet {event:?}\n{}",
                        execution.seed,
                        execution.render()
                    );
                }
            }
            true
        });
        assert!(paused_runs > 300, "{strategy}: {paused_runs} pauses");
    }
}

/// The fencing claim and write keep the version column moving: an
/// optimistic order on the same row (which checks the version it read)
/// notices a fenced write, and neither loses the other's update.
#[test]
fn fenced_and_optimistic_orders_share_a_row_safely() {
    let mut scenario = Shape {
        orders: 4,
        stock: 3,
        nodes: 2,
        ..Shape::new("lease-lock-fenced")
    }
    .scenario();
    for (i, order) in scenario.orders.iter_mut().enumerate() {
        if i % 2 == 1 {
            order.strategy = "optimistic".into();
        }
    }
    scenario.latency.statement_ms = 1;
    scenario.faults = PAUSE;
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let t = tally(&simulation, 2000);
    assert_eq!(t.violations, 0, "{t:?}");
}

/// A pause is a choice like any other: runs replay from their schedule
/// and the sweep's path gives the single run's trace.
#[test]
fn a_run_with_pauses_is_a_pure_function_of_its_schedule() {
    let simulation = simulation(
        "lease-lock-fenced",
        2,
        2,
        Faults {
            pauses: 2,
            lost_replies: 1,
            crashes: 1,
            pause_ms: 120,
            restart: false,
        },
    );
    let mut swept = Vec::new();
    simulation.run_seeds(0..50, |execution| {
        swept.push(execution);
        true
    });
    for (seed, from_sweep) in swept.iter().enumerate() {
        let single = simulation.run_seed(seed as u64);
        assert_eq!(single.trace, from_sweep.trace, "seed {seed}");
        let replayed = simulation.replay(&single.schedule, Some(seed as u64 + 3));
        assert_eq!(replayed.trace, single.trace, "seed {seed}");
        assert!(pauses(&single).len() <= 2);
        for (from, _, until) in pauses(&single) {
            assert_eq!(until - from, 120, "pause_ms is the pause's length");
        }
    }
}

/// A crashed lease holder never releases its lease: the next order gets
/// it only once its TTL has passed.
#[test]
fn a_crashed_holders_lease_runs_out_at_its_ttl() {
    let simulation = simulation(
        "lease-lock",
        3,
        1,
        Faults {
            crashes: 1,
            ..Faults::NONE
        },
    );
    let mut seen = 0;
    simulation.run_seeds(0..400, |execution| {
        let nodes: Vec<u32> = simulation.orders().iter().map(|o| o.node).collect();
        let Some(crashed) = execution.trace.iter().find_map(|e| match *e {
            TraceEvent::Fault {
                fault: Fault::Crash { node },
                time_ms,
                ..
            } => Some((node, time_ms)),
            _ => None,
        }) else {
            return true;
        };
        // The last grant before the crash, if its holder died with it.
        let mut held: Option<u64> = None;
        for event in &execution.trace {
            if event.time_ms() > crashed.1 {
                break;
            }
            match *event {
                TraceEvent::Lease {
                    order,
                    event: stockrace::lease::LeaseEvent { answer, .. },
                    ..
                } => match answer {
                    LeaseAnswer::Granted { until_ms, .. } => {
                        held = (nodes[order as usize] == crashed.0).then_some(until_ms)
                    }
                    LeaseAnswer::Released => held = None,
                    _ => {}
                },
                TraceEvent::Fault { .. } => break,
                _ => {}
            }
        }
        let Some(until) = held else {
            return true;
        };
        seen += 1;
        let next_grant = execution
            .trace
            .iter()
            .skip_while(|e| !matches!(e, TraceEvent::Fault { .. }))
            .find_map(|e| match *e {
                TraceEvent::Lease {
                    time_ms,
                    event:
                        stockrace::lease::LeaseEvent {
                            answer: LeaseAnswer::Granted { .. },
                            ..
                        },
                    ..
                } => Some(time_ms),
                _ => None,
            });
        if let Some(at) = next_grant {
            assert!(
                at >= until,
                "granted at {at}ms, the dead holder's lease ran to {until}ms\n{}",
                execution.render()
            );
        }
        true
    });
    assert!(seen > 10, "{seen} runs crashed a lease holder");
}

#[test]
fn pause_and_lease_settings_come_from_flags_and_files_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paused.toml");
    std::fs::write(
        &file,
        "lease_ttl_ms = 40\nnodes = 2\n\n[faults]\npauses = 1\npause_ms = 90\n\n[latency]\nstatement_ms = 1\n\n[[levels]]\nitem = \"a\"\nlocation = \"b\"\nstocked = 2\n\n[[orders]]\nstrategy = \"lease-lock\"\nlines = [{ level = 1, quantity = 1 }]\ncount = 3\n",
    )
    .unwrap();
    let scenario =
        stockrace::Scenario::load(&file, |n| Strategies::builtin().get(n).is_some()).unwrap();
    assert_eq!((scenario.faults.pauses, scenario.faults.pause_ms), (1, 90));
    assert_eq!(scenario.lease_ttl_ms, 40);
    let simulation = Simulation::new(scenario, &Strategies::builtin()).unwrap();
    let execution = simulation.run_seed(0);
    for (from, _, until) in pauses(&execution) {
        assert_eq!(until - from, 90);
    }
    let ttl = execution.trace.iter().find_map(|e| match *e {
        TraceEvent::Lease {
            time_ms,
            event:
                stockrace::lease::LeaseEvent {
                    answer: LeaseAnswer::Granted { until_ms, .. },
                    ..
                },
            ..
        } => Some(until_ms - time_ms),
        _ => None,
    });
    assert_eq!(ttl, Some(40));

    let output = stockrace(&[
        "sweep",
        "--scenario",
        file.to_str().unwrap(),
        "--seeds",
        "50",
    ]);
    let text = stdout(&output);
    assert!(text.contains("pause(s) of 90 ms"), "{text}");

    for (flag, value, says) in [
        ("--pause-ms", "0", "a pause must last at least 1 ms"),
        ("--lease-ttl-ms", "0", "a lease must last at least 1 ms"),
    ] {
        let output = stockrace(&[
            "sweep",
            "--strategy",
            "lease-lock",
            flag,
            value,
            "--seeds",
            "5",
        ]);
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let err = stderr(&output);
        assert!(err.contains(flag) && err.contains(says), "{flag}: {err}");
    }
}
