//! stockrace-model: a pure, synchronous model of a PostgreSQL-like inventory
//! store. No I/O, no async, no randomness: the same statements in the same
//! order always give the same results, which is what lets the simulator replay
//! a schedule exactly.
//!
//! The semantics follow PostgreSQL 15 (see
//! `tests/conformance/reference/postgres-15.md` in the repository, with the
//! transcripts it was observed in beside it): row versions with commit sequence numbers for snapshots,
//! one tuple lock per row version, waiters parked until the holder ends, and the
//! re-check of a waiter's WHERE clause on the newest row version when it wakes.

mod database;
mod error;
mod event;
pub mod innodb;
mod postgres;
mod sales;
mod statement;

pub use database::Database;
pub use error::{DbError, SqlState};
pub use event::{Event, Progress, RowView, SessionId, StoreConfig};
pub use postgres::Store;
pub use statement::{Assign, Guard, Isolation, LevelId, Lock, Reply, Row, Statement, Update};
