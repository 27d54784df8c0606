//! stockrace-sim: runs concurrent orders against the model store with every
//! statement interleaved by a controlled scheduler on the madsim runtime.
//!
//! - [`scenario`]: what runs (rows, orders, budgets), validated.
//! - [`connection`]: the `Connection` trait strategies are written against.
//! - [`strategies`]: the built-in decrement paths and the [`Strategy`] type.
//! - [`chooser`]: who picks the next statement (seeded random, replay).
//! - [`simulation`]: [`Simulation`], a scenario ready to run under a chooser.
//! - `runtime`: the scheduler loop on madsim that turns a scenario and a
//!   chooser into an [`Execution`] ([`trace`] events, each order's
//!   [`Outcome`], the [`invariants`]' verdict).
//! - [`explore`]: every schedule of a small scenario (`check`).
//! - [`invariants`]: no-oversell, conservation, termination.
//! - [`sweep`], [`regression`], [`builder`]: many seeds, kept failures, and
//!   the API a `#[test]` calls.

// The one build-time requirement, for a user's crate as for this repository.
// (A build script checking CARGO_CFG_MADSIM said it no sooner: cargo ran it
// only once the dependencies were compiled.)
#[cfg(not(madsim))]
compile_error!(
    "stockrace-sim needs `--cfg madsim` (madsim's simulator is compiled only with it), \
     and this build does not pass it.

Put these lines in `.cargo/config.toml` in the directory you run cargo from \
(your crate's or workspace's root):

    [build]
    rustflags = [\"--cfg\", \"madsim\"]
    rustdocflags = [\"--cfg\", \"madsim\"]

Cargo reads that file from the directory it runs in and the ones above it, not from \
the crate that `--manifest-path` names: run `cargo test` from your crate's directory. \
A RUSTFLAGS (or RUSTDOCFLAGS, for doc tests) environment variable replaces the file's \
setting: if you set one, add `--cfg madsim` to it. \
See \"Use it in your crate\" in stockrace's README."
);

/// Declares the crate's items only under `--cfg madsim`, so that a build
/// without it stops with the message above and nothing else.
macro_rules! with_madsim {
    ($($item:item)*) => { $( #[cfg(madsim)] $item )* };
}

with_madsim! {
    pub mod backend;
    pub mod builder;
    pub mod chooser;
    pub mod connection;
    pub mod execution;
    pub mod explore;
    pub mod file_error;
    pub mod invariants;
    pub mod lease;
    pub mod outcome;
    pub mod regression;
    mod render;
    mod runtime;
    pub mod scenario;
    pub mod simulation;
    pub mod strategies;
    pub mod sweep;
    pub mod trace;

    pub use backend::{Backend, ModelSettings, ModelStore, WaitDeadlines, WaitSettings};
    pub use builder::{replay, Builder, NotApplying, Report};
    pub use chooser::{Chooser, PctChooser, RandomChooser, ReplayChooser, SeedChooser};
    pub use connection::{BoxFuture, CommitTag, Connection, Session};
    pub use execution::Execution;
    pub use outcome::Outcome;
    pub use explore::{dfs::Reductions, shrink::{Shrunk, Size}, CheckConfig, CheckReport, CheckResult};
    pub use file_error::FileError;
    pub use invariants::{Invariant, Judgement, Verdict, Violation};
    pub use regression::{Expect, Regression, Saved};
    pub use simulation::{CustomInvariant, Simulation};
    pub use scenario::{Arrivals, Budget, Faults, Generator, Latency, Level, Line, Lines, LineSpec, LockOrder, Order, OrderSpec, Overrides, Scenario, ScenarioError, Shape};
    pub use strategies::{Effect, Sale, Strategies, Strategy, StrategyResult};
    pub use sweep::{sweep, CompareCell, Comparison, Figures, Histogram, Sweep, SweepReport, Tally, COMPARE_LATENCY, COMPARE_ORDERS};
    pub use trace::{Fault, ProcessLockEvent, TraceEvent};

    pub use stockrace_model as model;
    pub use stockrace_model::{
        Assign, Database, DbError, Event, Guard, Isolation, LevelId, Lock, Progress, Reply, Row, SessionId, SqlState,
        Statement, Update,
    };
}
