//! Jobs change how fast a sweep runs, never what it reports: counts, the
//! first failure, the lowest failing seeds, where it stops on a panic.

use stockrace::{
    Assign, DbError, Guard, Isolation, Latency, Order, Sale, Scenario, Session, Simulation,
    Strategies, Strategy, Sweep, SweepReport, Update,
};

fn simulation(strategy: &str, orders: usize, stock: i64, latency_ms: u64) -> Simulation {
    let mut scenario = Scenario::single(strategy, orders, stock, 1, Isolation::ReadCommitted);
    scenario.latency = Latency {
        statement_ms: latency_ms,
        think_ms: 0,
    };
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

/// Everything a report says, comparable.
fn key(report: &SweepReport) -> String {
    format!(
        "{:?} {:?} {:?} {:?}",
        report.tally,
        report
            .first_failure
            .as_ref()
            .map(|e| (e.seed, e.schedule.clone(), e.render())),
        report.panic,
        report.seeds
    )
}

#[test]
fn every_number_of_jobs_gives_the_same_report() {
    for (strategy, orders, stock, latency) in [
        ("plain-update", 2, 1, 0),
        ("optimistic", 4, 2, 1),
        ("row-lock", 8, 3, 2),
        ("medusa-update-levels", 3, 2, 1),
    ] {
        let simulation = simulation(strategy, orders, stock, latency);
        // 5,000 seeds: several chunks per job, so jobs interleave for real.
        let one = Sweep::new(&simulation, 17..5017).jobs(1).run();
        for jobs in [2, 3, 8] {
            let many = Sweep::new(&simulation, 17..5017).jobs(jobs).run();
            assert_eq!(key(&one), key(&many), "{strategy} with {jobs} jobs");
        }
        assert_eq!(one.tally.runs, 5000);
    }
}

#[test]
fn stopping_at_the_first_violation_stops_at_the_same_seed_whatever_the_jobs() {
    let simulation = simulation("medusa-update-levels", 3, 2, 1);
    let one = Sweep::new(&simulation, 0..20_000)
        .stop_at_first_violation(true)
        .run();
    let seed = one.first_failure.as_ref().expect("a failure").seed.unwrap();
    assert_eq!(one.tally.runs, seed + 1, "runs end at the failing seed");
    for jobs in [2, 4] {
        let many = Sweep::new(&simulation, 0..20_000)
            .jobs(jobs)
            .stop_at_first_violation(true)
            .run();
        assert_eq!(key(&one), key(&many), "{jobs} jobs");
    }
}

/// Panics in some interleavings only: when the second order reads the row
/// after the first order's decrement committed.
async fn panics_at_some_seeds(mut db: Session, order: Order) -> Result<Sale, DbError> {
    let level = order.lines[0].level;
    let row = db.select(level).await?;
    db.update(Update {
        stocked: Assign::Add(-1),
        guard: Guard::StockedAtLeast(1),
        ..Update::new(level)
    })
    .await?;
    if row.stocked == 1 && order.index == 1 {
        panic!("saw the last unit late");
    }
    Ok(Sale::Sold)
}

#[test]
fn a_panic_is_reported_at_the_lowest_panicking_seed_whatever_the_jobs() {
    let mut registry = Strategies::builtin();
    registry.add(Strategy::new("panics-sometimes", panics_at_some_seeds));
    let scenario = Scenario::single("panics-sometimes", 2, 2, 1, Isolation::ReadCommitted);
    let simulation = Simulation::new(scenario, &registry).unwrap();
    let one = Sweep::new(&simulation, 0..3000).run();
    let (seed, _, _) = one.panic.clone().expect("some schedule panics");
    assert_eq!(one.tally.runs, seed + 1, "the sweep stops at the panic");
    for jobs in [2, 5] {
        let many = Sweep::new(&simulation, 0..3000).jobs(jobs).run();
        assert_eq!(key(&one), key(&many), "{jobs} jobs");
    }
}

#[test]
fn progress_counts_every_seed_once() {
    let simulation = simulation("plain-update", 2, 1, 0);
    let seen = std::sync::atomic::AtomicU64::new(0);
    let count = |n| {
        seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    Sweep::new(&simulation, 5..10_005)
        .jobs(2)
        .progress(&count)
        .run();
    assert_eq!(seen.into_inner(), 10_000);
}
