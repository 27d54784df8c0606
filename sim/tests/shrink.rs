//! Shrinking: a failure is made as small as it can be, and still fails the
//! same way.

use stockrace_sim::scenario::Shape;
use stockrace_sim::{Simulation, Strategies};

fn first_failure(simulation: &Simulation) -> stockrace_sim::Execution {
    (0..1000u64)
        .map(|seed| simulation.run_seed(seed))
        .find(|e| !e.verdict.holds())
        .expect("a failing seed")
}

#[test]
fn the_eight_order_race_shrinks_to_two_orders_and_one_preemption() {
    let simulation = Simulation::new(
        Shape {
            orders: 8,
            ..Shape::new("plain-update")
        }
        .scenario(),
        &Strategies::builtin(),
    )
    .unwrap();
    let failure = first_failure(&simulation);
    let shrunk = simulation.shrink(&failure.schedule).expect("it fails");
    assert_eq!(shrunk.minimal.orders, 2, "{}", shrunk.execution.render());
    assert_eq!(
        shrunk.minimal.preemptions,
        1,
        "{}",
        shrunk.execution.render()
    );
    assert!(
        shrunk.minimal <= shrunk.original,
        "{:?} > {:?}",
        shrunk.minimal,
        shrunk.original
    );
    assert!(
        shrunk.original.orders > 2,
        "the sweep's failure involved {:?}",
        shrunk.original
    );
    // The kept schedule replays to the same violation.
    let again = simulation.replay(&shrunk.schedule, None);
    assert_eq!(
        again.verdict.violation().map(|v| v.invariant),
        failure.verdict.violation().map(|v| v.invariant)
    );
    assert_eq!(again.render(), shrunk.execution.render());
}

#[test]
fn a_schedule_that_holds_does_not_shrink() {
    let simulation = Simulation::new(
        Shape::new("guarded-decrement").scenario(),
        &Strategies::builtin(),
    )
    .unwrap();
    let run = simulation.run_seed(0);
    assert!(run.verdict.holds());
    assert!(simulation.shrink(&run.schedule).is_none());
}
