//! stockrace: a deterministic simulation test harness for the code that sells
//! stock. This facade re-exports what a test needs; see the README.

pub use stockrace_adapters as adapters;
pub use stockrace_model as model;
pub use stockrace_sim::*;
