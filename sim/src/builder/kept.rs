//! The kept regression files a builder run meets: those that belong to its
//! scenario (replayed), and those of its strategies that no longer apply
//! (reported once, with what differs).

use super::env;
use crate::file_error::FileError;
use crate::regression::{load_dir, Regression};
use crate::scenario::Scenario;
use crate::simulation::Simulation;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A kept file of this test's strategies that its scenario no longer
/// replays, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplying {
    pub path: PathBuf,
    pub why: String,
    /// Kept by this very test (so certainly stale), not by another one or
    /// the command line.
    pub this_test: bool,
}

pub(super) struct Sorted {
    pub applying: Vec<(PathBuf, Regression)>,
    pub not_applying: Vec<NotApplying>,
}

/// Sorts the files of `dir` for a run of `simulation` by the test `test`,
/// whose own strategies are `own`. Files kept by another test are that
/// test's business and left out; a malformed file is an error.
pub(super) fn sort(
    dir: &Path,
    simulation: &Simulation,
    own: &[String],
    test: Option<&str>,
) -> Result<Sorted, FileError> {
    let mut sorted = Sorted {
        applying: Vec::new(),
        not_applying: Vec::new(),
    };
    let scenario = simulation.scenario();
    let label = scenario.strategy_label();
    for (path, r) in load_dir(dir)? {
        let judged = r.invariant.map_or(true, |i| simulation.judges(i));
        if r.strategy == label && &r.scenario == scenario && judged {
            sorted.applying.push((path, r));
            continue;
        }
        let this_test = test.is_some() && r.test.as_deref() == test;
        let ours = this_test || (r.test.is_none() && own.contains(&r.strategy));
        if !ours {
            continue;
        }
        let why = if r.strategy != label {
            format!(
                "it was kept for strategy {:?}; this test runs {label:?}",
                r.strategy
            )
        } else if &r.scenario != scenario {
            format!(
                "its scenario is not this test's: {}",
                differences(&r.scenario, scenario)
            )
        } else {
            format!(
                "it was kept for the invariant {:?}, which this test does not check",
                r.invariant.map_or("", |i| i.name())
            )
        };
        sorted.not_applying.push(NotApplying {
            path,
            why,
            this_test,
        });
    }
    Ok(sorted)
}

/// Prints each file once per test process (several tests may meet the
/// same file), past the output capture, so a passing test says it too.
pub(super) fn announce(files: &[NotApplying], crate_dir: Option<&Path>) {
    static SAID: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(|p| p.into_inner());
    for file in files {
        if !said.insert(file.path.clone()) {
            continue;
        }
        let what = if file.this_test {
            "this test kept it and no longer replays it: delete it (or give it a test of its own)"
        } else {
            "if no test runs its scenario any more, delete it"
        };
        env::say(&format!(
            "stockrace: kept file {} no longer applies, so it is not replayed: {}; {what}\n",
            env::shown(&file.path, crate_dir),
            file.why
        ));
    }
}

/// What differs between a kept file's scenario and the test's, briefly.
pub(super) fn differences(file: &Scenario, test: &Scenario) -> String {
    let mut found: Vec<String> = Vec::new();
    fn differ(found: &mut Vec<String>, what: &str, file: String, test: String) {
        if file != test {
            found.push(format!("{what} {test} here, {file} in the file"));
        }
    }
    let count = |s: &Scenario| s.orders.len().to_string();
    differ(&mut found, "orders", count(file), count(test));
    let stock = |s: &Scenario| {
        format!(
            "{:?}",
            s.levels.iter().map(|l| l.stocked).collect::<Vec<_>>()
        )
    };
    differ(&mut found, "stock", stock(file), stock(test));
    if file.orders.len() == test.orders.len() {
        let lines = |s: &Scenario| {
            let lines: Vec<Vec<(u32, i64)>> = s
                .orders
                .iter()
                .map(|o| o.lines.iter().map(|l| (l.level, l.quantity)).collect())
                .collect();
            format!("{lines:?}")
        };
        differ(
            &mut found,
            "lines (level, quantity)",
            lines(file),
            lines(test),
        );
        let strategies = |s: &Scenario| {
            format!(
                "{:?}",
                s.orders
                    .iter()
                    .map(|o| o.strategy.as_str())
                    .collect::<Vec<_>>()
            )
        };
        differ(&mut found, "strategies", strategies(file), strategies(test));
        let isolation = |s: &Scenario| {
            format!(
                "{:?}",
                s.orders
                    .iter()
                    .map(|o| o.isolation.name())
                    .collect::<Vec<_>>()
            )
        };
        differ(&mut found, "isolation", isolation(file), isolation(test));
    }
    let latency = |s: &Scenario| format!("{:?}", s.latency);
    differ(&mut found, "latency", latency(file), latency(test));
    let arrivals = |s: &Scenario| format!("{:?}", s.arrivals);
    differ(&mut found, "arrivals", arrivals(file), arrivals(test));
    differ(
        &mut found,
        "nodes",
        file.nodes.to_string(),
        test.nodes.to_string(),
    );
    let timeout = |s: &Scenario| s.deadlock_timeout_ms.to_string();
    differ(
        &mut found,
        "deadlock timeout (ms)",
        timeout(file),
        timeout(test),
    );
    if found.is_empty() {
        // Budgets scale with the orders: only news when nothing else differs.
        let budget = |s: &Scenario| format!("{:?}", s.budget);
        differ(&mut found, "budget", budget(file), budget(test));
    }
    if found.is_empty() {
        // Something finer: lock orders, nodes, lock timeouts, levels' other fields.
        found.push(
            "the orders or levels differ in detail (compare the file's [scenario] with the test)"
                .to_string(),
        );
    }
    found.join("; ")
}
