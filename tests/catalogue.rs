//! The strategy catalogue at each isolation level: which paths hold and which
//! break, and how. `STOCKRACE_SEEDS=10000 cargo test --release --test catalogue`
//! runs the deep version.

use stockrace::scenario::{LockOrder, Shape};
use stockrace::{sweep, Invariant, Isolation, Simulation, Strategies, SweepReport};

const RC: Isolation = Isolation::ReadCommitted;
const RR: Isolation = Isolation::RepeatableRead;
const SER: Isolation = Isolation::Serializable;

fn seeds() -> u64 {
    std::env::var("STOCKRACE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn run(shape: Shape) -> SweepReport {
    let simulation = Simulation::new(shape.scenario(), &Strategies::builtin()).expect("valid");
    let report = sweep(&simulation, 0..seeds(), false);
    assert!(report.panic.is_none(), "{:?}", report.panic);
    report
}

fn shape(strategy: &str, isolation: Isolation, orders: usize, stock: i64, quantity: i64) -> Shape {
    Shape {
        orders,
        stock,
        quantity,
        isolation,
        ..Shape::new(strategy)
    }
}

/// Holds for orders 2-8 and stock 1-5 (quantity 1).
fn assert_holds(strategy: &str, isolation: Isolation) {
    for orders in [2, 4, 8] {
        for stock in [1, 3, 5] {
            let report = run(shape(strategy, isolation, orders, stock, 1));
            if let Some(failure) = &report.first_failure {
                panic!(
                    "{strategy} at {isolation:?}, {orders} orders, stock {stock}: seed {:?}\n{}",
                    failure.seed,
                    failure.render()
                );
            }
        }
    }
}

/// Some seed of 2-4 orders against stock 1-2 breaks `invariant`.
fn assert_violates(strategy: &str, isolation: Isolation, invariant: Invariant) {
    let found = [(2, 1), (4, 2)].into_iter().any(|(orders, stock)| {
        run(shape(strategy, isolation, orders, stock, 1))
            .tally
            .by_invariant
            .contains_key(&invariant)
    });
    assert!(found, "{strategy} at {isolation:?} never broke {invariant}");
}

#[test]
fn plain_update_breaks_at_read_committed_and_is_rejected_cleanly_above() {
    assert_violates("plain-update", RC, Invariant::NoOversell);
    assert_holds("plain-update", RR);
    assert_holds("plain-update", SER);
    // The stricter levels reject with 40001 instead.
    assert!(run(shape("plain-update", RR, 4, 2, 1)).tally.errors_40001 > 0);
}

#[test]
fn atomic_decrement_oversells_but_never_loses_an_update() {
    for orders in [2, 4, 8] {
        for stock in [1, 3, 5] {
            let report = run(shape("atomic-decrement", RC, orders, stock, 1));
            assert!(
                !report
                    .tally
                    .by_invariant
                    .contains_key(&Invariant::Conservation),
                "{orders} orders, stock {stock}"
            );
        }
    }
    assert_violates("atomic-decrement", RC, Invariant::NoOversell);
}

#[test]
fn reservation_breaks_at_read_committed_only() {
    assert_violates("reservation", RC, Invariant::NoOversell);
    assert_holds("reservation", RR);
    assert_holds("reservation", SER);
}

#[test]
fn reservation_insert_only_is_write_skew_below_serializable() {
    assert_violates("reservation-insert-only", RC, Invariant::NoOversell);
    assert_violates("reservation-insert-only", RR, Invariant::NoOversell);
    assert_holds("reservation-insert-only", SER);
    assert!(
        run(shape("reservation-insert-only", SER, 2, 1, 1))
            .tally
            .errors_40001
            > 0,
        "SSI rejects one order"
    );
}

#[test]
fn medusa_update_levels_breaks_at_every_level() {
    for isolation in [RC, RR, SER] {
        let violated = [(2, 1), (4, 2)].into_iter().any(|(orders, stock)| {
            run(shape("medusa-update-levels", isolation, orders, stock, 1))
                .tally
                .violations
                > 0
        });
        assert!(violated, "{isolation:?}");
    }
}

#[test]
fn the_safe_paths_hold_at_every_level() {
    for strategy in [
        "optimistic",
        "row-lock",
        "guarded-decrement",
        "serializable-retry",
        "advisory-lock",
        "lease-lock-fenced",
    ] {
        for isolation in [RC, RR, SER] {
            assert_holds(strategy, isolation);
        }
    }
}

/// A lease serialises the orders only while its holder finishes within the
/// TTL. Without a statement latency the scheduler may stall any request
/// for as long as it likes, so at READ COMMITTED a holder outlives its
/// lease and writes a stale value; with one (requests are served within
/// it) the lease holds without faults. Above READ COMMITTED the stale
/// write fails with 40001 instead.
#[test]
fn lease_lock_breaks_when_a_holder_outlives_its_lease() {
    assert_violates("lease-lock", RC, Invariant::NoOversell);
    for orders in [2, 4] {
        let mut scenario = Shape {
            nodes: 2,
            ..shape("lease-lock", RC, orders, 1, 1)
        }
        .scenario();
        scenario.latency.statement_ms = 1;
        let simulation = Simulation::new(scenario, &Strategies::builtin()).expect("valid");
        let report = sweep(&simulation, 0..seeds(), false);
        assert!(
            report.first_failure.is_none(),
            "{orders} orders: {:?}",
            report.tally
        );
    }
    assert_holds("lease-lock", RR);
    assert_holds("lease-lock", SER);
}

/// adjustInventory has no floor at zero, so it is swept with stock for every
/// order; what is at stake is conservation.
#[test]
fn medusa_adjust_loses_updates_and_an_in_process_lock_only_helps_on_one_node() {
    let adjust = |strategy: &str, orders: usize, quantity: i64, nodes: u32| {
        run(Shape {
            nodes,
            ..shape(strategy, RC, orders, 100, quantity)
        })
    };
    let lost = adjust("medusa-adjust", 2, 1, 1);
    assert!(lost
        .tally
        .by_invariant
        .contains_key(&Invariant::Conservation));
    assert!(!lost.tally.by_invariant.contains_key(&Invariant::NoOversell));
    for orders in [2, 4, 8] {
        for quantity in [1, 2, 3] {
            let one_node = adjust("medusa-adjust-locked", orders, quantity, 1);
            assert_eq!(
                one_node.tally.violations, 0,
                "{orders} orders of {quantity} on one node"
            );
        }
    }
    let two_nodes = adjust("medusa-adjust-locked", 2, 1, 2);
    assert!(
        two_nodes
            .tally
            .by_invariant
            .contains_key(&Invariant::Conservation),
        "two nodes do not share the lock"
    );
}

/// Two-item orders, every second one listing the items in reverse: locking
/// in listed order deadlocks (40P01, a clean failure, never a hang); sorted
/// order never does.
#[test]
fn listed_lock_order_deadlocks_and_sorted_does_not() {
    for strategy in [
        "row-lock",
        "guarded-decrement",
        "plain-update",
        "optimistic",
        "advisory-lock",
    ] {
        let two_items = |lock_order| Shape {
            items: 2,
            lock_order,
            ..shape(strategy, RC, 4, 5, 1)
        };
        let listed = run(two_items(LockOrder::Listed));
        assert!(
            listed.tally.errors_40p01 > 0,
            "{strategy}: listed order never deadlocked"
        );
        assert!(
            !listed
                .tally
                .by_invariant
                .contains_key(&Invariant::Termination),
            "{strategy}: a hang"
        );
        let sorted = run(two_items(LockOrder::Sorted));
        assert_eq!(
            sorted.tally.errors_40p01, 0,
            "{strategy}: sorted order deadlocked"
        );
        assert!(!sorted
            .tally
            .by_invariant
            .contains_key(&Invariant::Termination));
    }
}

/// medusa-adjust-locked on one node never loses an update, but it has no
/// floor at zero: whenever the orders want more than the stock it oversells,
/// at the default stock of 1 in every run. The README says exactly that.
#[test]
fn medusa_adjust_locked_on_one_node_keeps_every_update_but_oversells_short_stock() {
    let simulation = Simulation::new(
        shape("medusa-adjust-locked", RC, 2, 1, 1).scenario(),
        &Strategies::builtin(),
    )
    .unwrap();
    for seed in 0..seeds() {
        let execution = simulation.run_seed(seed);
        let violation = execution.verdict.violation().expect("oversells at stock 1");
        assert_eq!(violation.invariant, Invariant::NoOversell, "seed {seed}");
        // Both decrements landed: 1 - 2, no update lost.
        assert_eq!(execution.final_rows[0].stocked, -1, "seed {seed}");
    }
    // With stock for every order it holds (see the test above: stock 100).
    let enough = run(shape("medusa-adjust-locked", RC, 4, 4, 1));
    assert_eq!(enough.tally.violations, 0);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| medusa-adjust-locked |"))
        .expect("a README row for medusa-adjust-locked");
    assert!(
        row.contains("oversells when the orders want more than the stock"),
        "{row}"
    );
    assert!(row.contains("loses updates on 2"), "{row}");
}
