//! Many seeds of one simulation, summarised: run on one thread or several
//! (`jobs`), with the same result either way.
//!
//! The seed range is cut into chunks that the jobs take in turn; each chunk
//! runs on its own madsim runtime (runtimes are per thread) and is tallied
//! apart, and the tallies are merged in seed order, stopping where a
//! sequential sweep would have stopped. Every run is a pure function of its
//! seed, so the report does not depend on jobs, chunks or timing.

mod compare;
mod tally;

pub use compare::{CompareCell, Comparison, COMPARE_LATENCY, COMPARE_ORDERS};
pub use tally::{Figures, Histogram, Tally, FAILING_SEEDS_KEPT};

use crate::chooser::SeedChooser;
use crate::execution::Execution;
use crate::simulation::Simulation;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct SweepReport {
    pub strategy: String,
    /// The seeds asked for. Runs cover `seeds.start..seeds.start + tally.runs`
    /// (fewer than asked when the sweep stopped early).
    pub seeds: Range<u64>,
    pub tally: Tally,
    /// The lowest failing seed's execution.
    pub first_failure: Option<Execution>,
    /// A strategy panicked: (seed, order index, message). The sweep stops there.
    pub panic: Option<(u64, usize, String)>,
    /// Cancelled (see [`Sweep::cancel`]) before every seed ran: the tally
    /// covers exactly `seeds.start..seeds.start + tally.runs`.
    pub interrupted: bool,
}

/// Runs every seed in `seeds` (or up to the first violation when
/// `stop_at_first_violation`) on this thread, stopping at once if a strategy
/// panics. See [`Sweep`] for jobs and progress.
pub fn sweep(
    simulation: &Simulation,
    seeds: Range<u64>,
    stop_at_first_violation: bool,
) -> SweepReport {
    Sweep::new(simulation, seeds)
        .stop_at_first_violation(stop_at_first_violation)
        .run()
}

/// A sweep's configuration.
pub struct Sweep<'a> {
    simulation: &'a Simulation,
    seeds: Range<u64>,
    jobs: usize,
    stop_at_first_violation: bool,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
    cancel: Option<&'a AtomicBool>,
    chooser: SeedChooser,
}

impl<'a> Sweep<'a> {
    pub fn new(simulation: &'a Simulation, seeds: Range<u64>) -> Sweep<'a> {
        Sweep {
            simulation,
            seeds,
            jobs: 1,
            stop_at_first_violation: false,
            progress: None,
            cancel: None,
            chooser: SeedChooser::Random,
        }
    }

    /// Threads to run seeds on (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    pub fn stop_at_first_violation(mut self, stop: bool) -> Self {
        self.stop_at_first_violation = stop;
        self
    }

    /// Called (from any job's thread) with the number of seeds just run.
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Checked between seeds: once it is set, no more seeds start, and the
    /// report covers the seeds run up to the first one that did not (those
    /// run beyond a gap are dropped), marked `interrupted`.
    /// How each seed's choices are made (default: uniform random).
    pub fn chooser(mut self, chooser: SeedChooser) -> Self {
        self.chooser = chooser;
        self
    }

    pub fn cancel(mut self, cancel: &'a AtomicBool) -> Self {
        self.cancel = Some(cancel);
        self
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    pub fn run(self) -> SweepReport {
        let total = self.seeds.end.saturating_sub(self.seeds.start);
        // Small enough to share the work and show progress, big enough that
        // a runtime per chunk costs nothing.
        let chunk = (total / (self.jobs as u64 * 64)).clamp(64, 4096);
        let chunks = total.div_ceil(chunk);
        let merged = Mutex::new(InOrder {
            report: self.empty_report(),
            next: 0,
            waiting: BTreeMap::new(),
            done: false,
        });
        let next = AtomicU64::new(0);
        // The lowest seed at which the sweep stops (a panic, or the first
        // violation when asked to stop there): chunks above it are skipped.
        let stop_at = AtomicU64::new(u64::MAX);
        let work = || loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= chunks {
                break;
            }
            let start = self.seeds.start + k * chunk;
            if start > stop_at.load(Ordering::Relaxed) || self.cancelled() {
                continue;
            }
            let end = start.saturating_add(chunk).min(self.seeds.end);
            let part = self.run_chunk(start..end);
            if let Some(seed) = part.stop_seed(self.stop_at_first_violation) {
                stop_at.fetch_min(seed, Ordering::Relaxed);
            }
            if let Some(progress) = self.progress {
                progress(end - start);
            }
            merged.lock().expect("no job panics holding it").arrive(
                k,
                part,
                self.stop_at_first_violation,
            );
        };
        if self.jobs == 1 || chunks <= 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..self.jobs.min(chunks as usize) {
                    scope.spawn(work);
                }
            });
        }
        let mut merged = merged.into_inner().expect("jobs ended");
        if !merged.done && merged.next < chunks {
            // A chunk never ran: cancelled.
            merged.report.interrupted = true;
        }
        debug_assert!(
            merged.done || merged.next == chunks || self.cancelled(),
            "every chunk up to the stop merged"
        );
        merged.report
    }

    fn empty_report(&self) -> SweepReport {
        SweepReport {
            strategy: self.simulation.scenario().strategy_label().to_string(),
            seeds: self.seeds.clone(),
            tally: Tally::default(),
            first_failure: None,
            panic: None,
            interrupted: false,
        }
    }

    /// One chunk, on one madsim runtime, as a sequential sweep would run it.
    fn run_chunk(&self, seeds: Range<u64>) -> SweepReport {
        let mut report = self.empty_report();
        let total = seeds.end - seeds.start;
        self.simulation
            .run_seeds_with(self.chooser, seeds, |execution| {
                report.tally.add(&execution);
                if self.cancelled() && report.tally.runs < total && report.panic.is_none() {
                    report.interrupted = true;
                }
                if let Some((order, message)) = execution.panic() {
                    let seed = execution.seed.expect("seeded");
                    report.panic = Some((seed, order, message.to_string()));
                    return false;
                }
                if !execution.verdict.holds() && report.first_failure.is_none() {
                    report.first_failure = Some(execution);
                    return !self.stop_at_first_violation && !report.interrupted;
                }
                !report.interrupted
            });
        report
    }
}

/// Chunk reports merged in seed order as they arrive: only chunks that
/// finished ahead of a slower one wait, so memory does not grow with the
/// length of the sweep.
struct InOrder {
    report: SweepReport,
    /// The next chunk to merge.
    next: u64,
    waiting: BTreeMap<u64, SweepReport>,
    /// A sequential sweep would have stopped in a merged chunk.
    done: bool,
}

impl InOrder {
    fn arrive(&mut self, k: u64, mut part: SweepReport, stop_at_first_violation: bool) {
        if self.done {
            return;
        }
        if self.report.first_failure.is_some() {
            // A lower seed already failed: this run's trace is not needed.
            part.first_failure = None;
        }
        self.waiting.insert(k, part);
        while let Some(part) = self.waiting.remove(&self.next) {
            self.next += 1;
            // A chunk cut short ends the seeds the report can cover.
            let stop = part.stop_seed(stop_at_first_violation).is_some() || part.interrupted;
            self.report.absorb(part);
            if stop {
                self.done = true;
                self.waiting.clear();
                return;
            }
        }
    }
}

impl SweepReport {
    /// The seed at which a sequential sweep would have stopped in this part.
    fn stop_seed(&self, stop_at_first_violation: bool) -> Option<u64> {
        let panic = self.panic.as_ref().map(|(seed, _, _)| *seed);
        let failure = self
            .first_failure
            .as_ref()
            .filter(|_| stop_at_first_violation)
            .and_then(|e| e.seed);
        panic.into_iter().chain(failure).min()
    }

    /// Adds a later part of the seed range.
    fn absorb(&mut self, part: SweepReport) {
        self.tally.merge(&part.tally);
        if self.first_failure.is_none() {
            self.first_failure = part.first_failure;
        }
        if self.panic.is_none() {
            self.panic = part.panic;
        }
        self.interrupted |= part.interrupted;
    }
}
