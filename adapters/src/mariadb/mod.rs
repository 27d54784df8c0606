//! MariaDB 10.11 / InnoDB on a real server, with the operations of the
//! InnoDB model (`stockrace_model::innodb::InnoDbStore`), so one driver
//! runs the same statements on both and compares what they answer.
//!
//! - `server`: where the server is (a `mysql://` URL,
//!   STOCKRACE_MARIADB, the MARIADB_* / MYSQL_* variables), a tokio runtime
//!   on its own threads, a pool of session connections, and reads of
//!   InnoDB's lock tables.
//! - `run`: one run's fresh database and its sessions: statements in
//!   flight, waits confirmed through information_schema.INNODB_TRX and
//!   INNODB_LOCK_WAITS (MariaDB has no performance_schema.data_lock_waits),
//!   virtual time paced to the server's lock wait timeout.
//! - `sql`: statements to SQL, MariaDB's answers to replies and errors.
//! - `backend`: a run as a simulation's `Backend`, for `diff`.
//!
//! The driver is mysql_async: a maintained, tokio-based MySQL/MariaDB
//! client (the runtime the PostgreSQL adapter already uses), which sets
//! CLIENT_FOUND_ROWS on request (UPDATE counts are rows matched, as the
//! model counts them), gives each connection's id (INNODB_TRX's
//! `trx_mysql_thread_id`) and hands back the server's error number and
//! SQLSTATE as they are.
//!
//! Unlike PostgreSQL's backends, MariaDB's sessions are threads of one
//! process, so a waiting session cannot be paused: when a step wakes
//! several waiters they run as InnoDB grants their locks, and their answers
//! are reported oldest statement first.

mod backend;
mod run;
mod server;
mod sql;

pub use run::MariaDbBackend;
pub use server::{MariaDbError, MariaDbServer};
