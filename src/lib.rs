//! stockrace: a deterministic simulation test harness for the code that sells
//! stock. This facade re-exports what a test needs; see the README.
//!
//! Features: `cli` (default) builds the `stockrace` binary and turns on
//! `adapters`, which adds `stockrace::adapters` (the PostgreSQL backends and
//! app runs, with tokio-postgres). A test crate needs neither:
//! `stockrace = { version = "0.1", default-features = false }` is the
//! simulator and the model alone.

#[cfg(feature = "adapters")]
pub use stockrace_adapters as adapters;
pub use stockrace_model as model;
pub use stockrace_sim::*;
