//! The shop's production code lives here. Its checkout, as the SQL it sends,
//! is modelled in `tests/checkout.rs` and raced there by stockrace.
