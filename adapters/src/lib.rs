//! stockrace-adapters: real backends behind the same interfaces the simulator
//! uses. [`postgres`] runs a simulation's statements on a real PostgreSQL:
//! the scheduler, the strategies and the schedule stay the same, only the
//! [`Backend`](stockrace_sim::Backend) changes, so a model run and a
//! PostgreSQL run of one schedule can be compared event by event ([`diff`]).
//! [`mariadb`] runs statements on a real MariaDB 10.11 with the operations
//! of the InnoDB model, for the MariaDB conformance transcripts, and is a
//! `Backend` too, so [`diff`] compares the InnoDB model with it the same way.

pub mod app;
pub mod diff;
pub mod driver;
pub mod mariadb;
pub mod postgres;

pub use stockrace_sim::connection::{BoxFuture, Connection, Session};
