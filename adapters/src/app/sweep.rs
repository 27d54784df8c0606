//! Many seeds of an app file: counts in the shape of a simulated sweep's
//! (runs, violations by check, orders by outcome, the first failure), and
//! optionally each seed run more than once to measure whether a seed
//! reproduces its run on this application and machine.

use super::error::AppError;
use super::execution::Outcome;
use super::execution::{AppExecution, Timing};
use super::runner::AppRunner;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// Lowest failing seeds kept.
const FAILING_SEEDS: usize = 10;

#[derive(Clone, Debug, Serialize)]
pub struct AppSweep {
    pub first_seed: u64,
    pub seeds: u64,
    pub runs: u64,
    pub violations: u64,
    pub by_check: BTreeMap<String, u64>,
    pub failing_seeds: Vec<u64>,
    pub orders: u64,
    pub sold: u64,
    pub out_of_stock: u64,
    pub failed: u64,
    pub unfinished: u64,
    /// Runs in which some order stalled past settle_ms.
    pub runs_with_stalls: u64,
    /// Mean wall-clock milliseconds per run, by part.
    pub mean_timing: Timing,
    pub repeat: Option<Repeatability>,
    /// Ctrl-C stopped the sweep: the counts cover the runs done.
    pub interrupted: bool,
    #[serde(skip)]
    pub first_failure: Option<AppExecution>,
    /// The first run's failure reason for each order that failed (first 5).
    pub failures: Vec<String>,
}

/// Whether running a seed again gives the same run.
#[derive(Clone, Debug, Serialize)]
pub struct Repeatability {
    pub runs_per_seed: u32,
    pub seeds: u64,
    /// Seeds whose every run had the first run's verdict, schedule and trace.
    pub reproduced: u64,
    /// The first seeds that did not, and how they differed.
    pub differing: Vec<(u64, String)>,
}

impl AppRunner {
    /// Runs every seed of `seeds`, each `runs_per_seed` times (1 for a plain
    /// sweep). `progress` is called after each seed.
    pub fn sweep(
        &mut self,
        seeds: Range<u64>,
        runs_per_seed: u32,
        progress: &dyn Fn(u64),
    ) -> Result<AppSweep, AppError> {
        let mut sweep = AppSweep::empty(seeds.clone(), runs_per_seed);
        let mut total = Timing::default();
        'seeds: for seed in seeds {
            let mut first: Option<AppExecution> = None;
            let mut difference = None;
            for _ in 0..runs_per_seed.max(1) {
                let execution = match self.run_seed(seed) {
                    Ok(e) => e,
                    Err(AppError::Interrupted) => {
                        sweep.interrupted = true;
                        break 'seeds;
                    }
                    Err(e) => return Err(e),
                };
                total.copy_ms += execution.timing.copy_ms;
                total.boot_ms += execution.timing.boot_ms;
                total.steps_ms += execution.timing.steps_ms;
                total.checks_ms += execution.timing.checks_ms;
                match &first {
                    None => {
                        sweep.count(&execution);
                        first = Some(execution);
                    }
                    Some(f) => {
                        sweep.runs += 1;
                        if difference.is_none() {
                            difference = f.same_run_as(&execution).err();
                        }
                    }
                }
            }
            if let Some(repeat) = &mut sweep.repeat {
                repeat.seeds += 1;
                match difference {
                    None => repeat.reproduced += 1,
                    Some(what) if repeat.differing.len() < FAILING_SEEDS => {
                        repeat.differing.push((seed, what))
                    }
                    Some(_) => {}
                }
            }
            progress(seed);
        }
        sweep.set_mean_timing(&total);
        Ok(sweep)
    }
}

impl AppSweep {
    /// A sweep of `seeds` that has run nothing yet.
    pub(crate) fn empty(seeds: Range<u64>, runs_per_seed: u32) -> AppSweep {
        AppSweep {
            first_seed: seeds.start,
            seeds: seeds.end - seeds.start,
            runs: 0,
            violations: 0,
            by_check: BTreeMap::new(),
            failing_seeds: Vec::new(),
            orders: 0,
            sold: 0,
            out_of_stock: 0,
            failed: 0,
            unfinished: 0,
            runs_with_stalls: 0,
            mean_timing: Timing::default(),
            repeat: (runs_per_seed > 1).then(|| Repeatability {
                runs_per_seed,
                seeds: 0,
                reproduced: 0,
                differing: Vec::new(),
            }),
            interrupted: false,
            first_failure: None,
            failures: Vec::new(),
        }
    }

    /// The mean of `total` (summed over the runs) per run.
    pub(crate) fn set_mean_timing(&mut self, total: &Timing) {
        if self.runs > 0 {
            let n = self.runs as f64;
            self.mean_timing = Timing {
                copy_ms: total.copy_ms / n,
                boot_ms: total.boot_ms / n,
                steps_ms: total.steps_ms / n,
                checks_ms: total.checks_ms / n,
            };
        }
    }

    /// Counts one run (the first of its seed).
    pub(crate) fn count(&mut self, execution: &AppExecution) {
        self.runs += 1;
        for order in &execution.orders {
            self.orders += 1;
            match &order.outcome {
                Outcome::Sold(_) => self.sold += 1,
                Outcome::OutOfStock => self.out_of_stock += 1,
                Outcome::Failed(why) => {
                    self.failed += 1;
                    if self.failures.len() < 5 {
                        self.failures.push(why.clone());
                    }
                }
                Outcome::Unfinished => self.unfinished += 1,
            }
        }
        if execution.stalls > 0 {
            self.runs_with_stalls += 1;
        }
        if let Some(v) = &execution.violation {
            self.violations += 1;
            *self.by_check.entry(v.check.clone()).or_default() += 1;
            if self.failing_seeds.len() < FAILING_SEEDS {
                self.failing_seeds.extend(execution.seed);
            }
            if self.first_failure.is_none() {
                self.first_failure = Some(execution.clone());
            }
        }
    }
}
