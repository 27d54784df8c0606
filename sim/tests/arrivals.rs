//! Arrival windows: with a statement latency, orders arrive at offsets the
//! chooser picks within a window (choices in the schedule like any other),
//! so a schedule replays them; without one they start together, as before.

use stockrace_sim::chooser::{Action, Actor, Choice};
use stockrace_sim::explore::independence::{independent, AbortRules};
use stockrace_sim::scenario::Arrivals;
use stockrace_sim::trace::TraceEvent;
use stockrace_sim::{Isolation, Latency, Scenario, Simulation, Strategies};

const PG: AbortRules = AbortRules {
    check_nonnegative: false,
    deadlocks_at_once: false,
};

fn simulation(latency_ms: u64, window_ms: Option<u64>) -> Simulation {
    let mut scenario = Scenario::single("reservation", 2, 1, 1, Isolation::ReadCommitted);
    scenario.latency = Latency {
        statement_ms: latency_ms,
        think_ms: 0,
    };
    scenario.arrivals = Arrivals { window_ms };
    Simulation::new(scenario, &Strategies::builtin()).unwrap()
}

#[test]
fn with_a_latency_orders_arrive_within_a_few_latencies_and_replay() {
    let simulation = simulation(2, None);
    assert_eq!(simulation.scenario().arrival_window_ms(), 8);
    let mut late = 0;
    for seed in 0..100 {
        let execution = simulation.run_seed(seed);
        assert_eq!(execution.arrivals_ms.len(), 2);
        assert!(execution.arrivals_ms.iter().all(|at| *at <= 8));
        // The arrivals open the schedule; replaying it gives the same run.
        let again = simulation.replay(&execution.schedule, None);
        assert_eq!(again.arrivals_ms, execution.arrivals_ms, "seed {seed}");
        assert_eq!(again.trace, execution.trace, "seed {seed}");
        assert_eq!(again.verdict, execution.verdict, "seed {seed}");
        assert_eq!(again.divergence, None);
        for (order, at) in execution
            .arrivals_ms
            .iter()
            .enumerate()
            .filter(|(_, at)| **at > 0)
        {
            late += 1;
            // A late order sleeps until it arrives: its first line.
            let first = execution
                .trace
                .iter()
                .find(|e| e.order().index() == order)
                .unwrap();
            assert_eq!(
                *first,
                TraceEvent::Sleep {
                    time_ms: 0,
                    order: order as u32,
                    until_ms: *at
                },
                "seed {seed}"
            );
        }
    }
    assert!(late > 100, "orders arrive at different times: {late} late");
    // Not lockstep any more: some runs of the unsafe path hold.
    let holds = (0..100)
        .filter(|s| simulation.run_seed(*s).verdict.holds())
        .count();
    assert!(holds > 0, "every run violates, as in lockstep");
}

#[test]
fn without_a_latency_or_with_a_zero_window_orders_start_together() {
    for (latency, window) in [(0, None), (3, Some(0))] {
        let simulation = simulation(latency, window);
        for seed in 0..50 {
            let execution = simulation.run_seed(seed);
            assert_eq!(execution.arrivals_ms, vec![0, 0]);
            assert!(!matches!(execution.trace[0], TraceEvent::Sleep { .. }));
        }
    }
    // Every lockstep run with a latency violates: the artefact the window removes.
    let lockstep = simulation(1, Some(0));
    assert!((0..50).all(|s| !lockstep.run_seed(s).verdict.holds()));
}

#[test]
fn a_wide_window_offers_a_bounded_number_of_offsets() {
    let simulation = simulation(1, Some(1_000_000));
    let offsets: Vec<u64> = simulation.scenario().arrival_offsets().collect();
    assert_eq!(offsets.len(), 65);
    assert_eq!((offsets[0], offsets[64]), (0, 1_000_000));
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn an_arrival_is_dependent_with_everything() {
    let arrive = |order, at_ms| Choice {
        actor: Actor::Order(order),
        action: Action::Arrive { at_ms },
    };
    let begin = Choice {
        actor: Actor::Order(1),
        action: Action::Statement {
            statement: stockrace_sim::model::Statement::Begin(Isolation::ReadCommitted),
            isolation: Isolation::ReadCommitted,
            in_transaction: false,
        },
    };
    assert!(!independent(&arrive(0, 3), &begin, PG));
    assert!(!independent(&begin, &arrive(0, 3), PG));
    assert!(!independent(&arrive(0, 3), &arrive(1, 0), PG));
}
