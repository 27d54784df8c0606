//! stockrace-adapters: real backends behind the same [`Connection`] trait the
//! simulator implements. A PostgreSQL adapter (tokio-postgres) is the next
//! step; for now this crate re-exports the interface it will implement.

pub use stockrace_sim::connection::{BoxFuture, Connection, Session};
