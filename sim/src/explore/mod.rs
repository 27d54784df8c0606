//! Exploring a scenario's schedules systematically, rather than by seed.
//!
//! - [`dfs`]: every schedule up to equivalence, depth-first, with sleep
//!   sets, symmetry of identical orders, a visited-state cache and a
//!   preemption bound.
//! - [`cache`]: the visited-state cache, and why its keys are sound.
//! - [`independence`]: which pending steps commute.
//! - [`shrink`]: a failing schedule made as small as it can be.
//!
//! [`Simulation::check`] runs the search and reports what a scenario can
//! end in: COMPLETE (every schedule of this scenario, on the model, up to
//! the reductions, which are tested to lose no outcome), BOUNDED (clean as
//! far as it looked, not a proof), or the first violation found.

pub mod cache;
pub mod dfs;
pub mod independence;
pub mod shrink;

use crate::execution::Execution;
use crate::simulation::Simulation;
use dfs::{Dfs, Reductions};
use independence::AbortRules;
use std::collections::BTreeMap;

/// How far `check` may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckConfig {
    pub reductions: Reductions,
    /// Stop after this many runs (the result is then BOUNDED at best).
    pub max_runs: Option<u64>,
    /// Stop at the first violation (otherwise explore on and list every
    /// terminal outcome; the first violation is still the one reported).
    pub stop_at_violation: bool,
}

impl Default for CheckConfig {
    fn default() -> CheckConfig {
        CheckConfig {
            reductions: Reductions::ALL,
            max_runs: None,
            stop_at_violation: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    /// Every schedule up to equivalence ran; every invariant held.
    Complete,
    /// Every run held, but the preemption bound or `max_runs` cut the search.
    Bounded,
    /// A run broke an invariant.
    Violated,
}

pub struct CheckReport {
    pub result: CheckResult,
    pub runs: u64,
    /// Runs cut short part-way because every option there was asleep, or
    /// because the state there was explored from before: they repeat an
    /// equivalent run (counted in `runs`).
    pub pruned: u64,
    /// Of `pruned`, the runs cut short by the visited-state cache.
    pub cache_hits: u64,
    /// Distinct states the cache recorded (0 with the cache off).
    pub states_cached: u64,
    /// The distinct terminal outcomes and how many runs ended in each.
    pub outcomes: BTreeMap<String, u64>,
    /// The first violating run, in search order.
    pub violation: Option<Execution>,
    pub cut_by_max_runs: bool,
    pub cut_by_preemption_bound: bool,
}

impl Simulation {
    /// Every schedule of the scenario up to the reductions, depth-first;
    /// stops at the first violation.
    pub fn check(&self, config: CheckConfig) -> CheckReport {
        let classes = self.symmetry_classes();
        let mut dfs = Dfs::new(
            config.reductions,
            classes.clone(),
            AbortRules::of(self.scenario()),
        );
        let mut report = CheckReport {
            result: CheckResult::Complete,
            runs: 0,
            pruned: 0,
            cache_hits: 0,
            states_cached: 0,
            outcomes: BTreeMap::new(),
            violation: None,
            cut_by_max_runs: false,
            cut_by_preemption_bound: false,
        };
        while let Some(mut run) = dfs.next_run() {
            if config.max_runs.is_some_and(|max| report.runs >= max) {
                report.cut_by_max_runs = true;
                break;
            }
            let execution = self.run(&mut run, None);
            let cache_hit = run.cache_hit;
            let blocked = run.finish();
            report.runs += 1;
            report.pruned += u64::from(blocked);
            report.cache_hits += u64::from(cache_hit);
            *report
                .outcomes
                .entry(terminal_outcome(&classes, &execution))
                .or_default() += 1;
            if !execution.verdict.holds() && report.violation.is_none() {
                report.violation = Some(execution);
                if config.stop_at_violation {
                    break;
                }
            }
        }
        report.cut_by_preemption_bound = dfs.bounded;
        report.states_cached = dfs.visited.states() as u64;
        report.result = if report.violation.is_some() {
            CheckResult::Violated
        } else if report.cut_by_max_runs || report.cut_by_preemption_bound {
            CheckResult::Bounded
        } else {
            CheckResult::Complete
        };
        report
    }

    /// Identical orders share a class: same strategy, lines, isolation,
    /// lock order, node and lock timeout. This assumes a strategy does not
    /// behave differently by `Order::index` (no built-in one does); a
    /// strategy that does needs the symmetry reduction off.
    pub fn symmetry_classes(&self) -> Vec<u32> {
        let mut seen: Vec<String> = Vec::new();
        self.scenario()
            .orders
            .iter()
            .zip(self.orders())
            .map(|(spec, order)| {
                let key = format!(
                    "{}|{:?}|{:?}|{:?}|{}|{:?}",
                    spec.strategy,
                    order.isolation,
                    order.lines,
                    order.lock_order,
                    order.node,
                    spec.lock_timeout_ms
                );
                match seen.iter().position(|k| *k == key) {
                    Some(i) => i as u32,
                    None => {
                        seen.push(key);
                        (seen.len() - 1) as u32
                    }
                }
            })
            .collect()
    }
}

/// A run's end state: the committed rows and reservations, and how the
/// orders ended, listed per class of identical orders (`classes`, from
/// [`Simulation::symmetry_classes`]) and sorted within it: identical orders
/// are interchangeable.
pub fn terminal_outcome(classes: &[u32], execution: &Execution) -> String {
    let mut by_class: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (order, outcome) in execution.outcomes.iter().enumerate() {
        by_class
            .entry(classes[order])
            .or_default()
            .push(outcome.to_string());
    }
    for outcomes in by_class.values_mut() {
        outcomes.sort();
    }
    let rows: Vec<String> = execution
        .final_rows
        .iter()
        .zip(&execution.final_reservations)
        .map(|(r, reserved_rows)| {
            format!(
                "stocked={} reserved={} version={} reservation_rows={reserved_rows}",
                r.stocked, r.reserved, r.version
            )
        })
        .collect();
    let orders: Vec<String> = by_class.values().map(|o| o.join(", ")).collect();
    format!("{} | {}", rows.join("; "), orders.join(" / "))
}
