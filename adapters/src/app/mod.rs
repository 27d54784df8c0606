//! Application runs: the application's own order processes (any language,
//! any PostgreSQL driver) against a real PostgreSQL, through a proxy that
//! holds every statement and releases one at a time, chosen by the same
//! choosers as a simulation. A seed is a schedule; a schedule replays; a
//! failure is kept as a regression file. The model is not in this path.
//!
//! - [`file`]: the app file (commands, database preparation, checks).
//! - [`wire`], [`statement_text`]: the protocol bytes the proxy must
//!   understand, and statements normalised for traces and comparison.
//! - [`proxy`]: endpoints and the relay; [`state`]: what it shares with
//!   [`control`], the scheduler; [`process`]: the order processes.
//! - [`database`]: template, per-run copies, checks.
//! - [`runner`]: a session of runs of an app file; [`sweep`]: many seeds;
//! - [`App`] (module `closure`): the same runs with Rust async closures
//!   as the orders, from a `#[tokio::test]`;
//!   [`regression`]: kept runs; [`trace`], [`execution`]: what a run shows.
//!
//! ```no_run
//! use stockrace_adapters::app::{AppFile, AppOptions, AppRunner};
//! let app = AppFile::load("examples/psql/last-unit.toml".as_ref()).unwrap();
//! let mut runner = AppRunner::open(app, &AppOptions::default()).unwrap();
//! let run = runner.run_seed(7).unwrap();
//! println!("{}", run.render());
//! ```

mod closure;
mod control;
pub mod database;
mod error;
pub mod execution;
pub mod file;
mod fleet;
mod process;
mod proxy;
pub mod regression;
pub mod runner;
mod state;
pub mod statement_text;
pub mod sweep;
pub mod trace;
pub mod wire;

pub use closure::{App, AppReport, IntoOutcome, KeptRun, Order};
pub use closure::{DEFAULT_SEEDS, REPLAY_ENV, SEEDS_ENV, SEED_ENV};
pub use error::AppError;
pub use execution::Outcome;
pub use execution::{AppExecution, CheckViolation, OrderRecord, Timing};
pub use file::{AppFile, Check};
pub use regression::AppRegression;
pub use runner::{AppOptions, AppRunner};
pub use sweep::{AppSweep, Repeatability};
