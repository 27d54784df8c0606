//! Where statements run: the model store, or (in stockrace-adapters) a real
//! database. The scheduler drives either the same way, so one schedule can be
//! replayed on both and their traces compared.

use crate::chooser::{KeyHasher, StateKey};
use stockrace_model::{DbError, Event, LevelId, Row, RowView, SessionId, Statement, Store};

/// A statement executor for a fixed set of sessions (one per order).
///
/// Calls are synchronous: a backend answers once it knows whether the
/// statement completed or waits for a lock, and reports, in `out`, that and
/// every waiting statement the call let complete.
pub trait Backend {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>);

    /// `session`'s deadlock_timeout ran out while it waits: if it waits in a
    /// cycle, its statement fails with 40P01.
    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>);

    /// `session`'s lock_timeout ran out while it waits: its statement fails with `error`.
    fn cancel_wait(&mut self, session: SessionId, error: DbError, out: &mut Vec<Event>);

    /// Virtual time moved on to `now_ms` (a real database paces itself by it).
    fn time_passed(&mut self, _now_ms: u64) {}

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

impl Backend for Store {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        Store::execute(self, session, statement, out)
    }

    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) {
        Store::deadlock_check(self, session, out);
    }

    fn cancel_wait(&mut self, session: SessionId, error: DbError, out: &mut Vec<Event>) {
        Store::cancel_wait(self, session, error, out)
    }

    fn in_transaction(&self, session: SessionId) -> bool {
        Store::in_transaction(self, session)
    }

    fn open_transactions(&self) -> usize {
        Store::open_transactions(self)
    }

    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        Store::waits_for(self, session)
    }

    fn row(&self, level: LevelId) -> RowView {
        Store::row(self, level)
    }

    fn committed_rows(&self) -> Vec<Row> {
        Store::committed_rows(self)
    }

    fn committed_reservations(&self, level: LevelId) -> i64 {
        Store::committed_reservations(self, level)
    }

    fn state_key(&self) -> Option<StateKey> {
        let mut hasher = KeyHasher::default();
        self.hash_state(&mut hasher);
        Some(hasher.key())
    }
}
