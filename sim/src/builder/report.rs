//! What [`Builder::run`](super::Builder::run) found, and the assertions a
//! test ends with: each failure message says what broke, where the run is
//! kept, and how to replay it from the test.

use super::env;
use super::kept::NotApplying;
use super::{Builder, REPLAY_ENV, SEED_ENV};
use crate::chooser::SeedChooser;
use crate::execution::Execution;
use crate::regression::{Expect, Regression};
use crate::simulation::Simulation;
use crate::sweep::SweepReport;
use std::fmt;
use std::path::{Path, PathBuf};

/// What [`Builder::run`](super::Builder::run) found.
#[derive(Debug)]
pub struct Report {
    pub simulation: Simulation,
    /// Kept regression files that belong to this scenario, with their replays.
    pub regressions: Vec<(PathBuf, Regression, Execution)>,
    pub sweep: SweepReport,
    /// Kept files of this test's strategies that its scenario no longer
    /// replays (printed once when the run met them).
    pub not_applying: Vec<NotApplying>,
    seeds_dir: PathBuf,
    crate_dir: Option<PathBuf>,
    test: Option<String>,
    chooser: SeedChooser,
    stop_at_first_violation: bool,
}

impl Report {
    pub(super) fn new(
        builder: &Builder,
        simulation: Simulation,
        regressions: Vec<(PathBuf, Regression, Execution)>,
        sweep: SweepReport,
        not_applying: Vec<NotApplying>,
        seeds_dir: PathBuf,
    ) -> Report {
        Report {
            chooser: builder.chooser(&simulation),
            simulation,
            regressions,
            sweep,
            not_applying,
            seeds_dir,
            crate_dir: builder.crate_dir(),
            test: env::test_name(),
            stop_at_first_violation: builder.stop_at_first_violation,
        }
    }

    /// The first execution that broke an invariant: a kept regression first,
    /// then the sweep's.
    pub fn first_violation(&self) -> Option<&Execution> {
        self.regressions
            .iter()
            .map(|(_, _, e)| e)
            .find(|e| !e.verdict.holds())
            .or(self.sweep.first_failure.as_ref())
    }

    /// Panics unless every kept regression shows what it expects and holds,
    /// no strategy panicked, and every seed held. The message says what
    /// broke and what to do, with the run's trace and how to replay it; a
    /// failure (or panic) found by the sweep is kept as a regression file
    /// first. A kept file that still violates, whose schedule no longer
    /// fits the code, or whose `expect` no longer holds fails the test.
    #[track_caller]
    pub fn assert_holds(&self) {
        for (path, regression, execution) in &self.regressions {
            if let Some(message) = self.kept_problem(path, regression, execution, true) {
                panic!("{message}");
            }
        }
        if let Some(message) = self.panic_message() {
            panic!("{message}");
        }
        if let Some(execution) = &self.sweep.first_failure {
            let message = self.failure_message(execution);
            panic!("{message}");
        }
    }

    /// Panics unless some run broke an invariant; returns the first that did.
    /// For tests that document a hazard. Keeps nothing but a panicking
    /// strategy's run; a kept file that no longer shows what it expects
    /// fails here too.
    #[track_caller]
    pub fn assert_violates(&self) -> &Execution {
        for (path, regression, execution) in &self.regressions {
            if let Some(message) = self.kept_problem(path, regression, execution, false) {
                panic!("{message}");
            }
        }
        if let Some(message) = self.panic_message() {
            panic!("{message}");
        }
        match self.first_violation() {
            Some(execution) => execution,
            None => panic!(
                "stockrace: expected {} to violate an invariant, but {} seeds and {} kept regressions held",
                self.sweep.strategy,
                self.sweep.tally.runs,
                self.regressions.len()
            ),
        }
    }

    /// Where kept files were read from and new ones are kept.
    pub fn seeds_dir(&self) -> &Path {
        &self.seeds_dir
    }

    /// One paragraph: what ran and what it found, with the tally.
    pub fn summary(&self) -> String {
        let t = &self.sweep.tally;
        let scenario = self.simulation.scenario();
        let mut text = format!(
            "{} | {} orders | {} kept file(s) replayed | seeds {}..{}: {} runs, {} violations",
            self.sweep.strategy,
            scenario.orders.len(),
            self.regressions.len(),
            self.sweep.seeds.start,
            self.sweep.seeds.end,
            t.runs,
            t.violations
        );
        if !t.by_invariant.is_empty() {
            let by: Vec<String> = t
                .by_invariant
                .iter()
                .map(|(i, n)| format!("{i} {n}"))
                .collect();
            text += &format!(" ({})", by.join(", "));
        }
        let asked = self.sweep.seeds.end - self.sweep.seeds.start;
        if t.runs < asked && self.sweep.first_failure.is_some() && self.stop_at_first_violation {
            text += "; stopped at the first violation, so the tally is partial (.stop_at_first_violation(false) runs every seed)";
        } else if self.sweep.panic.is_some() {
            text += "; stopped where a strategy panicked";
        }
        text
    }

    /// What is wrong with a kept file's replay, if anything: a panic, a
    /// schedule that no longer fits, an `expect` that no longer holds, or
    /// (when `must_hold`) a violation the file still documents.
    fn kept_problem(
        &self,
        path: &Path,
        regression: &Regression,
        execution: &Execution,
        must_hold: bool,
    ) -> Option<String> {
        let shown = env::shown(path, self.crate_dir.as_deref());
        let replay = self.replay_text(Some((regression, path)), None);
        let trace = execution.render();
        let strategy = &regression.strategy;
        if let Some((order, message)) = execution.panic() {
            return Some(format!(
                "stockrace: strategy {} panicked in order T{} replaying kept file {shown}: {message}\n{replay}\n\n{trace}",
                self.simulation.scenario().orders[order].strategy,
                order + 1
            ));
        }
        if let Some(divergence) = &execution.divergence {
            return Some(format!(
                "stockrace: kept file {shown} no longer fits the code: {divergence}.\n\
                 The code under it changed since it was kept, so its schedule now drives another run ({}).\n\
                 What to do: delete the file. If {strategy} still breaks, the next run of this test finds the failure again and keeps a fresh file (a re-save); if you fixed it, the file has nothing left to show.\n{replay}\n\n{trace}",
                verdict_text(execution)
            ));
        }
        let expected = regression
            .invariant
            .map_or("a violation".to_string(), |i| format!("a violation of {i}"));
        match (regression.check(execution), regression.expect, execution.verdict.violation()) {
            (Err(_), Expect::Violates, None) => Some(format!(
                "stockrace: kept file {shown} expects {expected}, but every invariant held on its schedule: the bug it documents is fixed.\n\
                 What to do: flip it to `expect = \"holds\"` so that it guards the fix from now on (or delete it).\n{replay}\n\n{trace}"
            )),
            (Err(why), Expect::Violates, Some(v)) => Some(format!(
                "stockrace: kept file {shown}: {why}.\n\
                 The code changed under it. What to do: if this is the same bug, set `invariant = \"{}\"` in the file; else delete it (a run that still fails keeps a fresh file).\n{replay}\n\n{trace}",
                v.invariant
            )),
            (Err(_), _, Some(v)) => Some(format!(
                "stockrace: kept file {shown} guards a fix (`expect = \"holds\"`), but {} broke at step {}: {}\n\
                 The fix regressed: fix the code (the trace below shows how it breaks); if this path is meant to break, flip the file to `expect = \"violates\"` and use assert_violates.\n{replay}\n\n{trace}",
                v.invariant, v.step, v.detail
            )),
            (Err(why), _, None) => Some(format!("stockrace: kept file {shown}: {why}\n{replay}\n\n{trace}")),
            (Ok(()), _, Some(v)) if must_hold => Some(format!(
                "stockrace: kept regression {shown} still violates {} at step {}: {}\n\
                 {strategy} still has the bug this file documents: fix the code, then flip the file to `expect = \"holds\"` so that it guards the fix.\n{replay}\n\n{trace}",
                v.invariant, v.step, v.detail
            )),
            (Ok(()), _, _) => None,
        }
    }

    /// A strategy panicked in the sweep: its run again (it is a pure
    /// function of the seed), kept, with its trace up to the panic.
    fn panic_message(&self) -> Option<String> {
        let (seed, order, message) = self.sweep.panic.as_ref()?;
        let execution = self.simulation.run_seed_with(self.chooser, *seed);
        let (kept, path) = self.keep(&execution);
        let regression = path.as_ref().map(|p| {
            (
                Regression::from_execution(&self.simulation, &execution),
                p.clone(),
            )
        });
        let replay = self.replay_text(
            regression.as_ref().map(|(r, p)| (r, p.as_path())),
            Some(*seed),
        );
        Some(format!(
            "stockrace: strategy {} panicked in order T{} at seed {seed}: {message}\nschedule: {:?}\n{kept}\n{replay}\n\nthe run up to the panic (other orders go on after it):\n{}",
            self.simulation.scenario().orders[*order].strategy,
            order + 1,
            execution.schedule,
            execution.render()
        ))
    }

    /// The sweep's first failure: kept, then told.
    fn failure_message(&self, execution: &Execution) -> String {
        let v = execution.verdict.violation().expect("a failure");
        let seed = execution.seed.expect("sweeps are seeded");
        let (kept, path) = self.keep(execution);
        let regression = path.as_ref().map(|p| {
            (
                Regression::from_execution(&self.simulation, execution),
                p.clone(),
            )
        });
        let replay = self.replay_text(
            regression.as_ref().map(|(r, p)| (r, p.as_path())),
            Some(seed),
        );
        format!(
            "stockrace: {} violated {} at seed {seed} (step {}): {}\nschedule: {:?}\n{kept}\n{replay}\ntally: {}\n\n{}",
            self.sweep.strategy,
            v.invariant,
            v.step,
            v.detail,
            execution.schedule,
            self.summary(),
            execution.render()
        )
    }

    /// Keeps `execution` as a regression file: what to say, and its path.
    fn keep(&self, execution: &Execution) -> (String, Option<PathBuf>) {
        let regression = Regression {
            test: self.test.clone(),
            ..Regression::from_execution(&self.simulation, execution)
        };
        let path = self.seeds_dir.join(regression.file_name());
        let shown = env::shown(&path, self.crate_dir.as_deref());
        // The same schedule kept by another test of the same scenario.
        if let Ok(existing) = Regression::load(&path) {
            if existing.schedule == regression.schedule && existing.scenario == regression.scenario
            {
                return (format!("already kept as {shown}"), Some(path));
            }
        }
        match regression.save(&self.seeds_dir) {
            Ok(_) => (
                format!("kept as {shown} (this test replays it before sweeping from now on)"),
                Some(path),
            ),
            Err(e) => (
                format!("could not keep it in {}: {e}", self.seeds_dir.display()),
                None,
            ),
        }
    }

    /// How to replay a run from the test: its kept file, its seed, and
    /// the command line when it can.
    fn replay_text(&self, kept: Option<(&Regression, &Path)>, seed: Option<u64>) -> String {
        let test = self.test.as_deref().unwrap_or("<this test>");
        let mut ways = Vec::new();
        if let Some(seed) = seed {
            ways.push(format!("{SEED_ENV}={seed} cargo test {test}"));
        }
        if let Some((regression, path)) = kept {
            let shown = env::shown(path, self.crate_dir.as_deref());
            ways.push(format!("{REPLAY_ENV}={shown} cargo test {test}"));
            if regression.cli_can_replay() && self.simulation.custom_invariants().is_empty() {
                ways.push(format!("stockrace replay {shown}"));
            }
        }
        format!("replay: {}", ways.join("\n    or: "))
    }
}

/// "every invariant held" or "VIOLATED x at step n".
pub(super) fn verdict_text(execution: &Execution) -> String {
    match execution.verdict.violation() {
        None => "every invariant held".to_string(),
        Some(v) => format!("VIOLATED {} at step {}", v.invariant, v.step),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}
