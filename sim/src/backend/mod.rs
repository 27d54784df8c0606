//! Where statements run: a model store (PostgreSQL's in `postgres`,
//! InnoDB's in `innodb`), or (in stockrace-adapters) a real database. The
//! scheduler drives each the same way, so one schedule can be replayed on a
//! model and on its server and their traces compared.
//!
//! What a database does by itself while a statement waits for a lock (check
//! it for a deadlock after a while, give up on it after a while) is the
//! database's rule, not the scheduler's: the backend names the deadlines
//! ([`Backend::wait_deadlines`]) and the scheduler only keeps the clock.

pub mod innodb;
mod model;
pub mod postgres;

use crate::chooser::StateKey;
pub use model::{ModelSettings, ModelStore};
use stockrace_model::{Event, LevelId, Row, RowView, SessionId, Statement};

/// A session's lock-wait settings, as the scenario sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitSettings {
    /// PostgreSQL's `deadlock_timeout` (a database that finds deadlocks
    /// the moment a wait closes one ignores it).
    pub deadlock_timeout_ms: u64,
    /// The session's own lock timeout (PostgreSQL's `lock_timeout`), if set.
    pub lock_timeout_ms: Option<u64>,
}

/// When the database acts on a lock wait by itself, in virtual
/// milliseconds, if the statement still waits then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitDeadlines {
    /// [`Backend::deadlock_check`] runs, once.
    pub deadlock_check_ms: Option<u64>,
    /// [`Backend::wait_timed_out`] runs: the statement fails.
    pub timeout_ms: Option<u64>,
}

/// A statement executor for a fixed set of sessions (one per order).
///
/// Calls are synchronous: a backend answers once it knows whether the
/// statement completed or waits for a lock, and reports, in `out`, that and
/// every waiting statement the call let complete.
pub trait Backend {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>);

    /// `session`'s statement began waiting at `began_ms`: when the database
    /// will check it for a deadlock and when it will give up on it
    /// (PostgreSQL: `deadlock_timeout` and `lock_timeout` later; InnoDB:
    /// no check, as it finds a deadlock the moment a wait closes one, and
    /// `innodb_lock_wait_timeout` later).
    fn wait_deadlines(&self, session: SessionId, began_ms: u64, settings: WaitSettings) -> WaitDeadlines;

    /// `session`'s deadlock check is due while it waits: if it waits in a
    /// cycle, its statement fails (PostgreSQL: 40P01).
    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>);

    /// `session`'s wait timed out: its statement fails with the database's
    /// error (PostgreSQL: 55P03; MariaDB: 1205).
    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>);

    /// Virtual time moved on to `now_ms`. A real database paces itself by
    /// it, and reports in `out` what it did by itself meanwhile (a wait it
    /// timed out on its own clock).
    fn time_passed(&mut self, _now_ms: u64, _out: &mut Vec<Event>) {}

    /// `session`'s client connection closed (its app node crashed, or it
    /// lost a reply and gave the connection up): the server rolls back
    /// what it had open, and later statements of the session come on a
    /// new connection. By default that is a ROLLBACK (what the server does
    /// on its own); a real database's adapter closes the connection.
    fn close_connection(&mut self, session: SessionId, out: &mut Vec<Event>) {
        if self.in_transaction(session) {
            self.execute(session, Statement::Rollback, out);
        }
    }

    fn in_transaction(&self, session: SessionId) -> bool;
    fn open_transactions(&self) -> usize;
    /// The session `session`'s statement waits for, if it waits.
    fn waits_for(&self, session: SessionId) -> Option<SessionId>;
    fn row(&self, level: LevelId) -> RowView;
    /// The newest committed version of every row, in `LevelId` order.
    fn committed_rows(&self) -> Vec<Row>;
    /// Units held by committed reservation rows of `level`.
    fn committed_reservations(&self, level: LevelId) -> i64;

    /// A hash of everything the backend's answers to future statements
    /// depend on, for `check`'s visited-state cache (see
    /// `explore::cache`). `None` (the default): the backend cannot tell its
    /// state, as a real database cannot, and the cache then prunes nothing.
    fn state_key(&self) -> Option<StateKey> {
        None
    }
}

