//! App regression files: the app file, the seed and the schedule of a run,
//! with each order's statements as they were sent (normalised), so a replay
//! can say where the application took another path.
//!
//! Written like the simulator's regression files (atomically, never over
//! another file), into their own folder (`seeds/app/` by default): they
//! need a server and the application to replay. A file kept by a Rust
//! [`App`](super::App) (orders that are closures in a test) names that
//! `App` (`rust_app`) instead of an app file, and replays from its test.

use super::execution::AppExecution;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use stockrace_sim::regression::{check_format, fnv1a, save_new, Expect, Saved, FORMAT};

fn format_one() -> u32 {
    1
}
use stockrace_sim::FileError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegression {
    /// The schedule format (see the simulator's regression files).
    #[serde(default = "format_one")]
    pub format: u32,
    /// The app file, relative to this file's folder (empty for a Rust app).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app: String,
    /// The name of the Rust [`App`](super::App) that kept it: its orders
    /// are closures in a test, so only that test can replay it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_app: Option<String>,
    pub expect: Expect,
    /// The check the run violated when it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub schedule: Vec<u32>,
    #[serde(rename = "order")]
    pub orders: Vec<RecordedOrder>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOrder {
    pub outcome: String,
    pub statements: Vec<String>,
}

impl AppRegression {
    /// The regression for `execution` of the app file at `app`, to be kept in `dir`.
    pub fn new(app: &Path, dir: &Path, execution: &AppExecution) -> AppRegression {
        AppRegression {
            app: relative(dir, app).display().to_string(),
            ..AppRegression::recording(execution)
        }
    }

    /// The regression for `execution` of the Rust [`App`](super::App) named `name`.
    pub fn of_rust_app(name: &str, execution: &AppExecution) -> AppRegression {
        AppRegression {
            rust_app: Some(name.to_string()),
            ..AppRegression::recording(execution)
        }
    }

    /// What every kept run records, whatever ran it.
    fn recording(execution: &AppExecution) -> AppRegression {
        AppRegression {
            format: FORMAT,
            app: String::new(),
            rust_app: None,
            expect: if execution.holds() {
                Expect::Holds
            } else {
                Expect::Violates
            },
            check: execution.violation.as_ref().map(|v| v.check.clone()),
            seed: execution.seed,
            schedule: execution.schedule.clone(),
            orders: execution
                .orders
                .iter()
                .map(|o| RecordedOrder {
                    outcome: o.outcome.to_string(),
                    statements: o.statements.clone(),
                })
                .collect(),
        }
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a regression always serializes");
        match &self.rust_app {
            Some(name) => format!("# stockrace app regression file, kept by the Rust App {name:?}. Replay it with `STOCKRACE_REPLAY=<this file> cargo test <the test that runs it>`.\n{body}"),
            None => format!("# stockrace app regression file. Replay it with `stockrace app replay <this file>`.\n{body}"),
        }
    }

    /// `app-<app file name>-<hash>.toml`, or `app-<Rust app name>-<hash>.toml`
    pub fn file_name(&self) -> String {
        let stem = match &self.rust_app {
            Some(name) => name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect(),
            None => Path::new(&self.app)
                .file_stem()
                .map_or("app".into(), |s| s.to_string_lossy().into_owned()),
        };
        format!(
            "app-{stem}-{:08x}.toml",
            fnv1a(self.to_toml().as_bytes()) as u32
        )
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<Saved> {
        save_new(dir, &self.file_name(), &self.to_toml())
    }

    pub fn load(path: &Path) -> Result<AppRegression, FileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FileError::new(path, None, format!("cannot read: {e}")))?;
        let regression: AppRegression = FileError::parse_toml(path, &text)?;
        check_format(path, regression.format)?;
        if regression.app.is_empty() == regression.rust_app.is_none() {
            return Err(FileError::new(
                path,
                None,
                "an app regression names either the app file it ran (`app`) or the Rust App that kept it (`rust_app`), not both or neither".into(),
            ));
        }
        Ok(regression)
    }

    /// Where the app file is, for a regression read from `path`.
    pub fn app_path(&self, path: &Path) -> PathBuf {
        path.parent().unwrap_or(Path::new(".")).join(&self.app)
    }

    /// Whether `execution` shows what the file expects.
    pub fn check(&self, execution: &AppExecution) -> Result<(), String> {
        match (self.expect, &execution.violation) {
            (Expect::Holds, None) => Ok(()),
            (Expect::Holds, Some(v)) => Err(format!(
                "expected every check to hold, but {} was violated: {}",
                v.check, v.detail
            )),
            (Expect::Violates, None) => Err(format!(
                "expected a violation{}, but every check held",
                self.check
                    .as_ref()
                    .map(|c| format!(" of {c}"))
                    .unwrap_or_default()
            )),
            (Expect::Violates, Some(v)) => match &self.check {
                Some(expected) if *expected != v.check => Err(format!(
                    "expected a violation of {expected}, but {} was violated: {}",
                    v.check, v.detail
                )),
                _ => Ok(()),
            },
        }
    }

    /// The first place `execution` sent other statements than recorded.
    pub fn divergence(&self, execution: &AppExecution) -> Option<String> {
        for (i, (recorded, now)) in self.orders.iter().zip(&execution.orders).enumerate() {
            let n = recorded.statements.len().max(now.statements.len());
            if let Some(k) = (0..n).find(|&k| recorded.statements.get(k) != now.statements.get(k)) {
                let show =
                    |s: Option<&String>| s.map_or("nothing".to_string(), |s| format!("`{s}`"));
                return Some(format!(
                    "T{} statement {}: recorded {}, this run sent {}",
                    i + 1,
                    k + 1,
                    show(recorded.statements.get(k)),
                    show(now.statements.get(k))
                ));
            }
        }
        (self.orders.len() != execution.orders.len()).then(|| {
            format!(
                "{} orders recorded, {} ran",
                self.orders.len(),
                execution.orders.len()
            )
        })
    }
}

/// `to` as a path relative to the folder `from` (both made absolute first).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    };
    let (from, to) = (absolute(from), absolute(to));
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for c in to.components().skip(common) {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative;
    use std::path::{Path, PathBuf};

    #[test]
    fn relative_paths_climb_out_of_the_seeds_folder() {
        assert_eq!(
            relative(
                Path::new("/r/seeds/app"),
                Path::new("/r/examples/psql/last-unit.toml")
            ),
            PathBuf::from("../../examples/psql/last-unit.toml")
        );
        assert_eq!(
            relative(Path::new("/r/x"), Path::new("/r/x/a.toml")),
            PathBuf::from("a.toml")
        );
    }
}
