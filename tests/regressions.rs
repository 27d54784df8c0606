//! Every regression file under seeds/ replays and shows what it expects; its
//! trace is a snapshot, so any change in behaviour shows up as a diff.

use std::path::Path;
use stockrace::regression::{load_dir, Expect};
use stockrace::{Invariant, Simulation, Strategies};

#[test]
fn every_kept_regression_replays_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let files = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !files.is_empty(),
        "no regression files in {}",
        dir.display()
    );
    let registry = Strategies::builtin();
    for (path, regression) in &files {
        if !regression.cli_can_replay() {
            // A strategy of a test's own (the README's, say): that test
            // replays it before it sweeps (tests/in_your_own_tests.rs).
            continue;
        }
        let simulation = Simulation::new(regression.scenario.clone(), &registry)
            .unwrap_or_else(|e| panic!("{}: scenario.{e}", path.display()));
        let execution = simulation.replay(&regression.schedule, regression.seed);
        if let Err(why) = regression.check(&execution) {
            panic!("{}: {why}\n\n{}", path.display(), execution.render());
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        insta::assert_snapshot!(name, execution.render());
    }
}

/// The two hazards the harness exists for are documented by kept schedules:
/// the oversell of the last unit, and the lost update with stock to spare.
#[test]
fn the_plain_update_hazards_are_kept() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let files = load_dir(&dir).unwrap();
    let kept = |invariant: Invariant, stock: i64, quantity: i64| {
        files.iter().any(|(_, r)| {
            r.strategy == "plain-update"
                && r.expect == Expect::Violates
                && r.invariant == Some(invariant)
                && r.scenario.orders.len() == 2
                && r.scenario.levels[0].stocked == stock
                && r.scenario
                    .orders
                    .iter()
                    .all(|o| o.lines[0].quantity == quantity)
        })
    };
    assert!(
        kept(Invariant::NoOversell, 1, 1),
        "plain-update oversell (stock 1, 2 orders) is not kept"
    );
    assert!(
        kept(Invariant::Conservation, 10, 3),
        "plain-update lost update (stock 10, 2 orders of 3) is not kept"
    );
}
