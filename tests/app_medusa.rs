//! The Medusa 2.12.3 example: each order path of examples/medusa, run by
//! `stockrace app` over 20 seeds on PostgreSQL, shows its expected verdict.
//! The unlocked paths (the team's update-levels through core-flows'
//! workflow, the module's updateInventoryLevels, adjustInventory,
//! createReservationItems) oversell the last unit; the advisory-locked
//! update-levels never does. Needs `npm ci` in examples/medusa (.ci/run does it).

mod app;

use app::{have_server, one_at_a_time, repo, runner, skip};
use stockrace::adapters::app::AppSweep;

const SEEDS: u64 = 20;

fn sweep(path: &str) -> Option<AppSweep> {
    let _turn = one_at_a_time();
    if !have_server() {
        return None;
    }
    if !repo("examples/medusa/node_modules/@medusajs/core-flows").is_dir() {
        skip("examples/medusa has no node_modules: run `npm ci` there");
        return None;
    }
    let mut runner = runner(path);
    let sweep = runner
        .sweep(0..SEEDS, 1, &|_| {})
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(sweep.runs, SEEDS);
    assert_eq!(
        sweep.failed, 0,
        "{path}: orders failed: {:?}",
        sweep.failures
    );
    assert_eq!(sweep.unfinished, 0, "{path}");
    assert_eq!(
        sweep.runs_with_stalls, 0,
        "{path}: an order stalled past settle_ms"
    );
    Some(sweep)
}

/// The path oversells: some seed sells the last unit twice, and the check
/// that says so is no-oversell.
fn oversells(path: &str) {
    let Some(sweep) = sweep(path) else { return };
    assert!(
        sweep.violations > 0,
        "{path}: no violation in {SEEDS} seeds"
    );
    assert!(
        sweep.by_check.contains_key("no-oversell"),
        "{path}: {:?}",
        sweep.by_check
    );
    let failure = sweep.first_failure.expect("a failure");
    assert!(
        failure.schedule.len() > 1,
        "a failure needs interleaving: {:?}",
        failure.schedule
    );
    assert_eq!(failure.sold(), 2, "{}", failure.render());
}

#[test]
fn update_levels_through_core_flows_oversells() {
    oversells("examples/medusa/update-levels.toml");
}

#[test]
fn update_inventory_levels_on_the_module_oversells() {
    oversells("examples/medusa/update-levels-service.toml");
}

#[test]
fn adjust_inventory_without_a_lock_oversells() {
    oversells("examples/medusa/adjust.toml");
}

#[test]
fn create_reservation_items_oversubscribes() {
    oversells("examples/medusa/reserve.toml");
}

#[test]
fn update_levels_under_an_advisory_lock_holds() {
    let Some(sweep) = sweep("examples/medusa/update-levels-locked.toml") else {
        return;
    };
    assert_eq!(
        sweep.violations,
        0,
        "{:?}",
        sweep.first_failure.map(|f| f.render())
    );
    // Every run sold the last unit once and turned the other buyer away.
    assert_eq!(sweep.sold, SEEDS);
    assert_eq!(sweep.out_of_stock, SEEDS);
}
