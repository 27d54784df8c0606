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

#[cfg(not(madsim))]
compile_error!(
    "stockrace-sim needs the madsim simulator, which is compiled only with `--cfg madsim`. \
     Build from the repository root so that .cargo/config.toml applies, or, if you set \
     RUSTFLAGS yourself (it replaces the config file), add it: RUSTFLAGS=\"--cfg madsim\""
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
    pub mod outcome;
    pub mod regression;
    mod render;
    mod runtime;
    pub mod scenario;
    pub mod simulation;
    pub mod strategies;
    pub mod sweep;
    pub mod trace;

    pub use backend::Backend;
    pub use builder::{Builder, Report};
    pub use chooser::{Chooser, PctChooser, RandomChooser, ReplayChooser, SeedChooser};
    pub use connection::{BoxFuture, CommitTag, Connection, Session};
    pub use execution::Execution;
    pub use outcome::Outcome;
    pub use explore::{dfs::Reductions, shrink::{Shrunk, Size}, CheckConfig, CheckReport, CheckResult};
    pub use file_error::FileError;
    pub use invariants::{Invariant, Verdict, Violation};
    pub use regression::{Expect, Regression};
    pub use simulation::Simulation;
    pub use scenario::{Arrivals, Budget, Generator, Latency, Level, Line, Order, OrderSpec, Scenario, ScenarioError};
    pub use strategies::{Sale, Strategies, Strategy, StrategyResult};
    pub use sweep::{sweep, Figures, Histogram, Sweep, SweepReport, Tally};

    pub use stockrace_model as model;
    pub use stockrace_model::{
        Assign, DbError, Guard, Isolation, LevelId, Lock, Reply, Row, SqlState, Statement, Update,
    };
}
