//! The conformance scripts (tests/conformance) on the model store.

#[macro_use]
mod conformance;

use stockrace::model::{Row, Store, StoreConfig};
use stockrace::Backend;

fn model(rows: &[Row], sessions: usize, config: StoreConfig) -> Box<dyn Backend> {
    Box::new(Store::new(rows, sessions, config))
}

conformance_tests!(model);
