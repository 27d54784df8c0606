//! Cost in virtual time: statement latency and think time come from the
//! scenario, so an order's latency, its lock waits and throughput are exact
//! and reproducible.

mod command;
use command::{stdout, stockrace};
use stockrace::model::Progress;
use stockrace::trace::TraceEvent;
use stockrace::{sweep, Isolation, Latency, Scenario, Simulation, Strategies};

fn simulation(strategy: &str, orders: usize, stock: i64, latency: Latency) -> Simulation {
    let mut scenario = Scenario::single(strategy, orders, stock, 1, Isolation::ReadCommitted);
    scenario.latency = latency;
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

fn statements(trace: &[TraceEvent]) -> usize {
    trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Statement { event, .. } if !event.resumed))
        .count()
}

#[test]
fn a_lone_order_takes_its_statements_round_trips_plus_think_time() {
    for strategy in Strategies::BUILTIN {
        for (statement_ms, think_ms) in [(0, 0), (3, 0), (2, 5)] {
            let latency = Latency {
                statement_ms,
                think_ms,
            };
            let execution = simulation(strategy, 1, 5, latency).run_seed(0);
            let n = statements(&execution.trace) as u64;
            let expected = n * statement_ms + (n - 1) * think_ms;
            assert_eq!(
                execution.end_times_ms(),
                vec![Some(expected)],
                "{strategy}, {n} statements at {statement_ms} ms + think {think_ms} ms"
            );
            assert_eq!(
                execution.lock_wait_ms(),
                vec![0],
                "{strategy}: nobody to wait for"
            );
        }
    }
}

#[test]
fn lock_wait_time_runs_from_the_wait_to_the_grant() {
    // Seed 6 (trace checked by hand): T2 locks the row; T3 and T1 queue at
    // 3 ms; T2 commits at 3 ms, so T3 gets the row at once (0 ms) and T1
    // waits again behind T3 until T3 commits at 5 ms (2 ms). The orders
    // start together (no arrival window), as when this was checked.
    let latency = Latency {
        statement_ms: 1,
        think_ms: 0,
    };
    let mut scenario = Scenario::single("row-lock", 3, 2, 1, Isolation::ReadCommitted);
    scenario.latency = latency;
    scenario.arrivals.window_ms = Some(0);
    let execution = Simulation::new(scenario, &Strategies::builtin())
        .unwrap()
        .run_seed(6);
    assert_eq!(
        execution.lock_wait_ms(),
        vec![2, 0, 0],
        "{}",
        execution.render()
    );
}

#[test]
fn only_orders_that_waited_have_lock_wait_time() {
    let latency = Latency {
        statement_ms: 1,
        think_ms: 0,
    };
    for strategy in ["row-lock", "plain-update", "optimistic", "advisory-lock"] {
        let simulation = simulation(strategy, 3, 2, latency);
        let mut total = 0;
        for seed in 0..200 {
            let execution = simulation.run_seed(seed);
            let waits = execution.lock_wait_ms();
            for order in 0..3u32 {
                let blocked = execution.trace.iter().any(|e| {
                    matches!(e, TraceEvent::Statement { event, .. }
                        if event.session.0 == order && matches!(event.progress, Progress::Waiting { .. }))
                });
                if !blocked {
                    assert_eq!(
                        waits[order as usize],
                        0,
                        "{strategy} seed {seed} T{}",
                        order + 1
                    );
                }
            }
            assert!(waits.iter().all(|w| *w <= execution.duration_ms()));
            total += waits.iter().sum::<u64>();
        }
        assert!(total > 0, "{strategy}: some order waited in 200 seeds");
    }
}

#[test]
fn with_a_statement_latency_time_does_not_pass_while_requests_wait() {
    // Without a latency the scheduler may let time pass while statements
    // are pending (an app stalled), up to a deadlock check 1 s later. With
    // one, a request is served within its latency, so a row lock held
    // for a few statements costs a few milliseconds, not a second.
    let stalls = sweep(
        &simulation("row-lock", 4, 2, Latency::default()),
        0..300,
        false,
    );
    assert!(stalls.tally.figures().latency_p99_ms.unwrap() >= 1000);
    let served = sweep(
        &simulation(
            "row-lock",
            4,
            2,
            Latency {
                statement_ms: 1,
                think_ms: 0,
            },
        ),
        0..300,
        false,
    );
    let p99 = served.tally.figures().latency_p99_ms.unwrap();
    // 4 orders queue on one row, each holds it for 4 round trips at most.
    assert!(p99 <= 4 * 4 * 2, "p99 {p99} ms");
}

#[test]
fn figures_follow_from_the_counts() {
    let report = sweep(
        &simulation(
            "optimistic",
            4,
            2,
            Latency {
                statement_ms: 2,
                think_ms: 1,
            },
        ),
        0..500,
        false,
    );
    let t = &report.tally;
    assert_eq!(t.runs, 500);
    assert_eq!(t.orders, 2000);
    assert_eq!(t.sold + t.out_of_stock + t.failed + t.unfinished, t.orders);
    assert_eq!(t.sold, 1000, "stock 2: exactly two sales per run");
    let f = t.figures();
    assert_eq!(f.retries_per_order, Some(t.retries as f64 / 2000.0));
    assert!(
        t.retries > 0,
        "optimistic orders retry after losing the version race"
    );
    assert!(f.latency_p50_ms.unwrap() <= f.latency_p99_ms.unwrap());
    assert_eq!(
        f.orders_per_virtual_s,
        Some(t.latency_ms.count() as f64 * 1000.0 / t.virtual_ms as f64)
    );
    assert_eq!(f.violations_per_10k_runs, Some(0.0));
}

#[test]
fn sweep_prints_cost_figures_only_with_a_statement_latency() {
    let base = [
        "sweep",
        "--strategy",
        "row-lock",
        "--orders",
        "3",
        "--stock",
        "2",
        "--seeds",
        "50",
    ];
    for (extra, figures) in [
        (&[][..], false),
        (&["--think-ms", "1"][..], false),
        (&["--latency-ms", "1"][..], true),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let text = stdout(&stockrace(&args));
        assert_eq!(
            text.contains("virtual time: latency p50"),
            figures,
            "{extra:?}: {text}"
        );
        assert_eq!(
            text.contains("cost: give statements a latency"),
            !figures,
            "{extra:?}: {text}"
        );
    }
}
