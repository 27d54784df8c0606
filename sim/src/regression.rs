//! Regression files: one failing (or once-failing) schedule each, committed
//! under `seeds/` and replayed by `cargo test`.
//!
//! Saving is atomic and never overwrites: the file is written under a
//! temporary name and hard-linked into place, which fails if the name is
//! taken. The name carries a hash of the content, so saving the same
//! regression twice (from two threads, say) finds the first copy and keeps it.

use crate::execution::Execution;
pub use crate::file_error::FileError;
use crate::invariants::Invariant;
use crate::scenario::{locate, Scenario};
use crate::simulation::Simulation;
use crate::strategies::Strategies;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What replaying the schedule must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The schedule still breaks `invariant`: it documents a hazard.
    Violates,
    /// Every invariant holds: the fix keeps holding on this schedule.
    Holds,
}

/// The schedule format this build writes and reads: what a schedule's
/// indices count (the options at each quiet point, listed by order id, then
/// letting time pass). A file without `format` is format 1. A later change
/// to what the indices mean gets a new number, and files of another format
/// are refused with a message rather than replayed wrongly.
pub const FORMAT: u32 = 1;

fn format_one() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regression {
    #[serde(default = "format_one")]
    pub format: u32,
    pub strategy: String,
    pub expect: Expect,
    /// The invariant the schedule violated when it was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invariant: Option<Invariant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The test that kept it (`Builder`'s files; the CLI's have none): it
    /// defines the strategies and invariants the file may need, and is
    /// where the file is replayed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    pub schedule: Vec<u32>,
    pub scenario: Scenario,
}

/// Environment variable that makes a `Builder` test replay one kept file
/// (and nothing else), printing its timeline.
pub const REPLAY_ENV: &str = "STOCKRACE_REPLAY";

/// Where a save went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub path: PathBuf,
    /// False when an identical file was already there.
    pub new: bool,
}

impl Regression {
    /// The regression for a failing execution of `simulation`.
    pub fn from_execution(simulation: &Simulation, execution: &Execution) -> Regression {
        Regression {
            format: FORMAT,
            strategy: simulation.scenario().strategy_label().to_string(),
            expect: if execution.verdict.holds() {
                Expect::Holds
            } else {
                Expect::Violates
            },
            invariant: execution.verdict.violation().map(|v| v.invariant),
            seed: execution.seed,
            test: None,
            schedule: execution.schedule.clone(),
            scenario: simulation.scenario().clone(),
        }
    }

    /// The file's text: a comment saying how to replay it, then TOML.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a regression always serializes");
        let how = if self.cli_can_replay() {
            "Replay it with `stockrace replay <this file>`.".to_string()
        } else {
            format!(
                "Replay it from its test: {}",
                self.replay_command("<this file>")
            )
        };
        format!("# stockrace regression file. {how}\n{body}")
    }

    /// Whether `stockrace replay` can run it: every strategy built in, and
    /// no invariant of a test's own.
    pub fn cli_can_replay(&self) -> bool {
        let builtin = |name: &str| Strategies::BUILTIN.contains(&name);
        self.scenario.orders.iter().all(|o| builtin(&o.strategy))
            && self
                .scenario
                .generate
                .iter()
                .all(|g| g.strategies.iter().all(|s| builtin(s)))
            && !self.invariant.is_some_and(|i| i.is_custom())
    }

    /// How to replay the file at `path`: `stockrace replay` when the CLI
    /// can, else from the test that kept it.
    pub fn replay_command(&self, path: &str) -> String {
        if self.cli_can_replay() {
            return format!("stockrace replay {path}");
        }
        let test = self
            .test
            .as_deref()
            .unwrap_or("<the test that defines its strategy>");
        format!("{REPLAY_ENV}={path} cargo test {test}")
    }

    /// Reads `path` and resolves its scenario's strategies in `registry`:
    /// an unknown one is named with its line, and, since it is a test's own,
    /// with how to replay the file from that test.
    pub fn open(path: &Path, registry: &Strategies) -> Result<(Regression, Simulation), FileError> {
        let text = fs::read_to_string(path)
            .map_err(|e| FileError::new(path, None, format!("cannot read: {e}")))?;
        let regression = Regression::parse(path, &text)?;
        let simulation = Simulation::new(regression.scenario.clone(), registry).map_err(|e| {
            let field = format!("scenario.{}", e.field);
            let line = locate(&text, &field);
            let mut reason = format!("{field}: {}", e.reason);
            if e.reason.starts_with("unknown strategy") {
                let shown = path.display().to_string();
                reason += &format!(
                    ": not a built-in strategy, so a test's own; replay the file from the test that defines it: {} (or in code: stockrace::replay(strategy, {shown:?}))",
                    regression.replay_command(&shown)
                );
            }
            FileError::new(path, line, reason)
        })?;
        Ok((regression, simulation))
    }

    /// Refuses a file kept for an invariant `simulation` does not judge (a
    /// test's own, which only that test defines): its replay could not show
    /// what the file expects.
    pub fn require_judged(&self, path: &Path, simulation: &Simulation) -> Result<(), FileError> {
        match self.invariant {
            Some(invariant) if !simulation.judges(invariant) => Err(FileError::new(
                path,
                None,
                format!(
                    "kept for the invariant {:?}, a test's own, which only that test checks; replay the file from it: {}",
                    invariant.name(),
                    self.replay_command(&path.display().to_string())
                ),
            )),
            _ => Ok(()),
        }
    }

    /// `<strategy>-<hash of scenario and schedule>.toml`
    pub fn file_name(&self) -> String {
        #[derive(Serialize)]
        struct Key<'a> {
            schedule: &'a [u32],
            scenario: &'a Scenario,
        }
        let key = toml::to_string(&Key {
            schedule: &self.schedule,
            scenario: &self.scenario,
        })
        .expect("a regression always serializes");
        format!(
            "{}-{:08x}.toml",
            self.strategy,
            fnv1a(key.as_bytes()) as u32
        )
    }

    /// Reads and validates one file.
    pub fn load(path: &Path) -> Result<Regression, FileError> {
        let text = fs::read_to_string(path)
            .map_err(|e| FileError::new(path, None, format!("cannot read: {e}")))?;
        Regression::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Regression, FileError> {
        let regression: Regression = FileError::parse_toml(path, text)?;
        check_format(path, regression.format)?;
        Ok(regression)
    }

    /// Writes the file into `dir` unless an identical one is already there.
    /// Atomic and safe to call from many threads at once.
    pub fn save(&self, dir: &Path) -> io::Result<Saved> {
        save_new(dir, &self.file_name(), &self.to_toml())
    }

    /// Whether `execution` (a replay of this file) shows what the file expects.
    pub fn check(&self, execution: &Execution) -> Result<(), String> {
        match (self.expect, execution.verdict.violation()) {
            (Expect::Holds, None) => Ok(()),
            (Expect::Holds, Some(v)) => Err(format!(
                "expected every invariant to hold, but {} broke at step {}: {}",
                v.invariant, v.step, v.detail
            )),
            (Expect::Violates, None) => Err(format!(
                "expected a violation{}, but every invariant held",
                self.invariant
                    .map(|i| format!(" of {i}"))
                    .unwrap_or_default()
            )),
            (Expect::Violates, Some(v)) => match self.invariant {
                Some(expected) if expected != v.invariant => Err(format!(
                    "expected a violation of {expected}, but {} broke first at step {}: {}",
                    v.invariant, v.step, v.detail
                )),
                _ => Ok(()),
            },
        }
    }
}

/// Every `*.toml` regression file in `dir`, sorted by name. A missing
/// directory holds none; an unreadable or malformed file is an error.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, Regression)>, FileError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FileError::new(dir, None, format!("cannot list: {e}"))),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Regression::load(&p).map(|r| (p, r)))
        .collect()
}

/// Refuses a file written in another schedule format than [`FORMAT`].
pub fn check_format(path: &Path, format: u32) -> Result<(), FileError> {
    match format {
        FORMAT => Ok(()),
        newer if newer > FORMAT => Err(FileError::new(
            path,
            None,
            format!(
                "written by a newer stockrace (schedule format {newer}; this one reads format {FORMAT}): \
                 replay it with that version, or upgrade stockrace"
            ),
        )),
        older => Err(FileError::new(
            path,
            None,
            format!("schedule format {older} is not one this stockrace reads (format {FORMAT})"),
        )),
    }
}

/// Writes `text` as `dir/name` unless a file of that name is there: atomic
/// (a temporary file hard-linked into place), never overwriting, and
/// content-addressed callers find their earlier copy (`new: false`).
pub fn save_new(dir: &Path, name: &str, text: &str) -> io::Result<Saved> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(dir)?;
    let path = dir.join(name);
    let temp = dir.join(format!(
        ".tmp-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    let linked = fs::hard_link(&temp, &path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(Saved { path, new: true }),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::read_to_string(&path)? == text {
                Ok(Saved { path, new: false })
            } else {
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists with different content; not overwriting it",
                        path.display()
                    ),
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// FNV-1a: a stable hash for file names (std's hasher may change between releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
