//! What [`App::run`](super::App::run) found: the kept files replayed, the
//! sweep, and the assertions that fail a test with a replay command.

use super::run::say;
use super::{REPLAY_ENV, SEED_ENV};
use crate::app::error::AppError;
use crate::app::execution::{AppExecution, Outcome};
use crate::app::regression::AppRegression;
use crate::app::sweep::AppSweep;
use std::path::{Path, PathBuf};
use stockrace_sim::regression::Expect;

/// A kept file replayed by [`App::run`](super::App::run).
#[derive(Debug)]
pub struct KeptRun {
    pub path: PathBuf,
    pub regression: AppRegression,
    pub execution: AppExecution,
    /// Whether the run showed what the file expects, and if not, why.
    pub expectation: Result<(), String>,
    /// Where the orders (or the schedule) took another path than recorded.
    pub divergence: Option<String>,
}

impl KeptRun {
    pub(super) fn describe(&self) -> String {
        let mut text = format!(
            "stockrace: replayed {} (seed {}, schedule {:?})\n{}",
            self.path.display(),
            self.regression
                .seed
                .map_or("none".to_string(), |s| s.to_string()),
            self.regression.schedule,
            self.execution.render()
        );
        if let Some(d) = &self.divergence {
            text += &format!("divergence: {d}\n");
        }
        text += &match &self.expectation {
            Ok(()) => "expectation: met\n".to_string(),
            Err(why) => format!("expectation: NOT met: {why}\n"),
        };
        text
    }
}

/// What [`App::run`](super::App::run) found.
#[derive(Debug)]
pub struct AppReport {
    /// The App's name.
    pub name: String,
    /// Why the App could not run (no server, setup SQL refused, a check
    /// that fails, bad input); the assertions fail with it.
    pub error: Option<AppError>,
    /// The kept files replayed, in file name order.
    pub kept: Vec<KeptRun>,
    /// The seeds swept (none when `STOCKRACE_REPLAY` ran one file).
    pub sweep: Option<AppSweep>,
    /// `host:port/database` of the server.
    pub server: String,
    pub(super) seeds_dir: PathBuf,
    pub(super) test: Option<String>,
    /// The first swept run in which an order failed.
    pub(super) first_failed_order: Option<AppExecution>,
}

impl AppReport {
    /// The first run that violated a check: a kept file's, then the sweep's.
    pub fn first_violation(&self) -> Option<&AppExecution> {
        self.kept
            .iter()
            .map(|k| &k.execution)
            .find(|e| !e.holds())
            .or(self.sweep.as_ref().and_then(|s| s.first_failure.as_ref()))
    }

    /// Panics unless every kept file and every seed held every check and no
    /// order failed (returned an error or panicked). A failure the sweep
    /// found is kept as a new file first. The message has the seed, the
    /// schedule, the trace and how to run it again.
    #[track_caller]
    pub fn assert_holds(&self) {
        self.assert_ran();
        for kept in &self.kept {
            if kept.expectation.is_ok() && kept.regression.expect == Expect::Violates {
                let v = kept.execution.violation.as_ref().expect("it violates");
                panic!(
                    "stockrace: app {:?}: kept file {} still violates {}: {}\n{}\n\n{}",
                    self.name,
                    kept.path.display(),
                    v.check,
                    v.detail,
                    self.how_to_replay(&kept.path),
                    kept.execution.render()
                );
            }
        }
        if let Some(execution) = self.sweep.as_ref().and_then(|s| s.first_failure.as_ref()) {
            let v = execution.violation.as_ref().expect("a failure");
            let seed = execution.seed.expect("sweeps are seeded");
            panic!(
                "stockrace: app {:?} violated {} at seed {seed}: {}\nschedule: {:?}\n{}\n{}\n\n{}",
                self.name,
                v.check,
                v.detail,
                execution.schedule,
                self.keep(execution),
                self.how_to_run_seed(seed),
                execution.render()
            );
        }
        let failed = self.kept.iter().map(|k| &k.execution).find(|e| failed(e));
        if let Some(execution) = failed {
            panic!(
                "stockrace: app {:?}: an order failed in a kept file's run{}\n\n{}",
                self.name,
                first_failure_reason(execution),
                execution.render()
            );
        }
        if let (Some(sweep), Some(execution)) = (&self.sweep, &self.first_failed_order) {
            panic!(
                "stockrace: app {:?}: {} order(s) failed over {} run(s); at seed {}{}\nEvery check held, but an order that fails sold nothing: map the errors your code expects to an outcome in the closure (e.g. a 40001 it gives up on to Outcome::OutOfStock), or fix what failed.\n{}\n\n{}",
                self.name,
                sweep.failed,
                sweep.runs,
                execution.seed.expect("sweeps are seeded"),
                first_failure_reason(execution),
                self.how_to_run_seed(execution.seed.expect("sweeps are seeded")),
                execution.render()
            );
        }
    }

    /// Panics unless some run violated a check; returns the first that did.
    /// For tests that document a hazard. When no kept file of this App shows
    /// a violation yet, the first one found is kept, so that later runs
    /// replay it exactly.
    #[track_caller]
    pub fn assert_violates(&self) -> &AppExecution {
        self.assert_ran();
        let kept_violation = self
            .kept
            .iter()
            .any(|k| k.expectation.is_ok() && !k.execution.holds());
        match self.first_violation() {
            Some(execution) => {
                if !kept_violation {
                    let kept = self.keep(execution);
                    say(&format!("stockrace: app {:?}: {kept}\n", self.name));
                }
                execution
            }
            None => panic!(
                "stockrace: expected the app {:?} to violate a check, but {} seed(s) and {} kept file(s) held",
                self.name,
                self.sweep.as_ref().map_or(0, |s| s.runs),
                self.kept.len()
            ),
        }
    }

    /// Fails on a setup error, and on a kept file whose expectation is no
    /// longer met (with what to do about it).
    #[track_caller]
    fn assert_ran(&self) {
        if let Some(e) = &self.error {
            panic!("stockrace: app {:?}: {e}", self.name);
        }
        for kept in &self.kept {
            if let Err(why) = &kept.expectation {
                let flip = match kept.regression.expect {
                    Expect::Violates => "holds",
                    Expect::Holds => "violates",
                };
                panic!(
                    "stockrace: app {:?}: kept file {}: {why}.{}\nIf the code changed on purpose, delete the file, or set `expect = \"{flip}\"` in it to keep this schedule as a regression test.\n{}\n\n{}",
                    self.name,
                    kept.path.display(),
                    kept.divergence
                        .as_ref()
                        .map_or(String::new(), |d| format!(" The run took another path than recorded: {d}.")),
                    self.how_to_replay(&kept.path),
                    kept.execution.render()
                );
            }
        }
    }

    /// Keeps `execution` in the seeds directory; says where (or why not).
    fn keep(&self, execution: &AppExecution) -> String {
        let regression = AppRegression::of_rust_app(&self.name, execution);
        match regression.save(&self.seeds_dir) {
            Ok(saved) if saved.new => format!(
                "kept as {} ({})",
                saved.path.display(),
                self.how_to_replay(&saved.path)
            ),
            Ok(saved) => format!("already kept as {}", saved.path.display()),
            Err(e) => format!("could not keep it in {}: {e}", self.seeds_dir.display()),
        }
    }

    fn cargo_test(&self) -> String {
        match &self.test {
            Some(test) => format!("cargo test {test}"),
            None => "cargo test <this test>".to_string(),
        }
    }

    fn how_to_replay(&self, path: &Path) -> String {
        format!(
            "replay: {REPLAY_ENV}={} {}",
            path.display(),
            self.cargo_test()
        )
    }

    fn how_to_run_seed(&self, seed: u64) -> String {
        format!("run it again: {SEED_ENV}={seed} {}", self.cargo_test())
    }
}

pub(super) fn failed(execution: &AppExecution) -> bool {
    execution
        .orders
        .iter()
        .any(|o| matches!(o.outcome, Outcome::Failed(_)))
}

fn first_failure_reason(execution: &AppExecution) -> String {
    execution
        .orders
        .iter()
        .enumerate()
        .find_map(|(i, o)| match &o.outcome {
            Outcome::Failed(why) => Some(format!(": T{} failed: {why}", i + 1)),
            _ => None,
        })
        .unwrap_or_default()
}
