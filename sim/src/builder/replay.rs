//! Replaying one run from a test: a kept file of any strategy
//! ([`replay`], [`Builder::replay_file`]), a schedule or a seed of a
//! builder's scenario, and what `STOCKRACE_REPLAY` and `STOCKRACE_SEED` run.
//! Each prints the run's timeline, as `stockrace replay` does, straight to
//! stderr (a test's output capture does not hide it).

use super::report::{verdict_text, Report};
use super::{env, Builder, REPLAY_ENV, SEED_ENV};
use crate::execution::Execution;
use crate::regression::Regression;
use crate::simulation::Simulation;
use crate::strategies::Strategy;
use crate::sweep::{SweepReport, Tally};
use std::path::{Path, PathBuf};

/// Replays a kept regression file whose scenario runs `strategy` (and any
/// built-in strategies), prints its timeline and whether the file's
/// expectation is met, and returns the run. A relative path is the test
/// crate's. Panics if the file cannot be read or names a strategy that is
/// neither built in nor `strategy` (for several of your own, or your own
/// invariants, use [`Builder::replay_file`]).
///
/// ```ignore
/// stockrace::replay(Strategy::new("my-path", my_path), "seeds/my-path-1a2b3c4d.toml");
/// ```
#[track_caller]
pub fn replay(strategy: Strategy, file: impl AsRef<Path>) -> Execution {
    Builder::new(strategy).replay_file(file)
}

impl Builder {
    /// Replays a kept regression file with this builder's strategies and
    /// invariants (the file holds its own scenario), prints its timeline and
    /// whether the file's expectation is met, and returns the run.
    #[track_caller]
    pub fn replay_file(&self, file: impl AsRef<Path>) -> Execution {
        let (path, regression, simulation) = self.open_kept(file.as_ref());
        let execution = simulation.replay(&regression.schedule, regression.seed);
        env::say(&self.kept_timeline(&path, &regression, &simulation, &execution));
        execution
    }

    /// Runs this builder's scenario along `schedule` (as a failure message
    /// or a kept file gives it), prints its timeline, and returns the run.
    #[track_caller]
    pub fn replay(&self, schedule: &[u32]) -> Execution {
        let simulation = self.simulation();
        let execution = simulation.replay(schedule, None);
        env::say(&execution.timeline(simulation.scenario()));
        execution
    }

    /// Runs one seed of this builder's scenario, prints its timeline, and
    /// returns the run.
    #[track_caller]
    pub fn run_seed(&self, seed: u64) -> Execution {
        let simulation = self.simulation();
        let execution = simulation.run_seed_with(self.chooser(&simulation), seed);
        env::say(&execution.timeline(simulation.scenario()));
        execution
    }

    /// A kept file resolved with this builder's strategies and invariants.
    #[track_caller]
    fn open_kept(&self, file: &Path) -> (PathBuf, Regression, Simulation) {
        let path = env::in_crate(file, self.caller_file);
        let (regression, simulation) = match Regression::open(&path, &self.registry) {
            Ok(opened) => opened,
            Err(e) => panic!("stockrace: {e}"),
        };
        let simulation = simulation.with_invariants(self.invariants.iter().cloned());
        if let Err(e) = regression.require_judged(&path, &simulation) {
            panic!("stockrace: {e}");
        }
        (path, regression, simulation)
    }

    fn kept_timeline(
        &self,
        path: &Path,
        regression: &Regression,
        simulation: &Simulation,
        execution: &Execution,
    ) -> String {
        let shown = env::shown(path, self.crate_dir().as_deref());
        let kept_by = regression
            .test
            .as_ref()
            .map_or(String::new(), |t| format!(" (kept by test {t})"));
        let expectation = match regression.check(execution) {
            Ok(()) if execution.divergence.is_none() => "expectation: met".to_string(),
            Ok(()) => "expectation: NOT met: the schedule no longer fits the code".to_string(),
            Err(why) => format!("expectation: NOT met: {why}"),
        };
        format!(
            "stockrace: replaying kept file {shown}{kept_by}\n{}{expectation}\n",
            execution.timeline(simulation.scenario())
        )
    }

    /// `STOCKRACE_REPLAY=FILE`: just that file, printed; the report holds it.
    #[track_caller]
    pub(super) fn run_replay_env(&self, file: &Path) -> Report {
        let (path, regression, simulation) = self.open_kept(file);
        let execution = simulation.replay(&regression.schedule, regression.seed);
        env::say(&format!(
            "stockrace: {REPLAY_ENV} is set: this test replays just that file ({})\n{}",
            verdict_text(&execution),
            self.kept_timeline(&path, &regression, &simulation, &execution)
        ));
        let sweep = SweepReport {
            strategy: simulation.scenario().strategy_label().to_string(),
            seeds: 0..0,
            tally: Tally::default(),
            first_failure: None,
            panic: None,
            interrupted: false,
        };
        let seeds_dir = match (&self.seeds_dir, self.crate_dir()) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => dir.join("seeds"),
            (None, None) => PathBuf::from("seeds"),
        };
        let regressions = vec![(path, regression, execution)];
        Report::new(self, simulation, regressions, sweep, Vec::new(), seeds_dir)
    }

    /// `STOCKRACE_SEED=N`: just seed N of this scenario, printed; the
    /// report counts it as a one-seed sweep.
    #[track_caller]
    pub(super) fn run_seed_env(&self, seed: u64) -> Report {
        let simulation = self.simulation();
        let seeds_dir = self.seeds_dir_resolved();
        let execution = simulation.run_seed_with(self.chooser(&simulation), seed);
        env::say(&format!(
            "stockrace: {SEED_ENV}={seed} is set: this test runs just that seed ({}; no kept files, no sweep)\n{}",
            verdict_text(&execution),
            execution.timeline(simulation.scenario())
        ));
        let mut tally = Tally::default();
        tally.add(&execution);
        let panic = execution
            .panic()
            .map(|(order, m)| (seed, order, m.to_string()));
        let first_failure = (panic.is_none() && !execution.verdict.holds()).then_some(execution);
        let sweep = SweepReport {
            strategy: simulation.scenario().strategy_label().to_string(),
            seeds: seed..seed.saturating_add(1),
            tally,
            first_failure,
            panic,
            interrupted: false,
        };
        Report::new(self, simulation, Vec::new(), sweep, Vec::new(), seeds_dir)
    }
}
