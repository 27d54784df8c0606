//! What an order closure gets ([`Order`]) and how what it returns becomes
//! its [`Outcome`] ([`IntoOutcome`]).

use crate::app::execution::Outcome;
use crate::app::state::Shared;
use std::fmt::Display;

/// One order of an [`App::orders_with`](super::App::orders_with) run: its URL, its number, and the
/// way to say that its warm-up is over.
pub struct Order {
    pub(super) index: usize,
    pub(super) url: String,
    pub(super) shared: Shared,
}

impl Order {
    /// The URL of this order's own proxy endpoint and the run's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// 0 for T1, 1 for T2, ...
    pub fn index(&self) -> usize {
        self.index
    }

    /// From here on this order's statements are scheduled. Call it before
    /// the first statement of the code under test.
    pub fn ready(&self) {
        self.shared
            .update(|state| state.orders[self.index].ready = true);
    }
}

/// What an order's closure may return.
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Outcome {
    /// As it is (`Unfinished` is for runs cut off: returned, it is a failure).
    fn into_outcome(self) -> Outcome {
        match self {
            Outcome::Unfinished => Outcome::Failed("returned Outcome::Unfinished".into()),
            outcome => outcome,
        }
    }
}

impl IntoOutcome for bool {
    /// `true`: sold 1 unit; `false`: out of stock.
    fn into_outcome(self) -> Outcome {
        if self {
            Outcome::Sold(1)
        } else {
            Outcome::OutOfStock
        }
    }
}

impl<T: IntoOutcome, E: Display> IntoOutcome for Result<T, E> {
    /// `Err(e)`: failed, with `e`'s message.
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(value) => value.into_outcome(),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}
