//! How one order ended.

use std::fmt;
use stockrace_model::DbError;

/// How one order ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Sold,
    OutOfStock,
    GaveUp,
    /// The strategy returned this error (a clean failure, such as a 40001).
    Failed(DbError),
    /// The strategy panicked: a bug in the strategy, reported as bad input.
    Panicked(String),
    /// The run stopped (budget or hang) before the order ended.
    Unfinished,
    /// Its app node crashed before it ended: nobody was told anything.
    Crashed,
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Sold => "sold",
            Outcome::OutOfStock => "out-of-stock",
            Outcome::GaveUp => "gave-up",
            Outcome::Failed(_) => "failed",
            Outcome::Panicked(_) => "panicked",
            Outcome::Unfinished => "unfinished",
            Outcome::Crashed => "crashed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Failed(e) => write!(f, "failed ({e})"),
            Outcome::Panicked(m) => write!(f, "panicked: {m}"),
            other => f.write_str(other.name()),
        }
    }
}
