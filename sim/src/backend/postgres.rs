//! The PostgreSQL 15 model as a backend: a waiter checks for a deadlock once,
//! `deadlock_timeout` after its wait began, and gives up after the session's
//! `lock_timeout` (none by default) with 55P03.

use super::{Backend, WaitDeadlines, WaitSettings};
use crate::chooser::{KeyHasher, StateKey};
use stockrace_model::{DbError, Event, LevelId, Row, RowView, SessionId, Statement, Store};

/// PostgreSQL's timer rules, for the model and for a real server alike.
pub fn wait_deadlines(began_ms: u64, settings: WaitSettings) -> WaitDeadlines {
    WaitDeadlines {
        deadlock_check_ms: Some(began_ms + settings.deadlock_timeout_ms),
        timeout_ms: settings.lock_timeout_ms.map(|t| began_ms + t),
    }
}

impl Backend for Store {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        Store::execute(self, session, statement, out)
    }

    fn wait_deadlines(
        &self,
        _session: SessionId,
        began_ms: u64,
        settings: WaitSettings,
    ) -> WaitDeadlines {
        wait_deadlines(began_ms, settings)
    }

    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) {
        Store::deadlock_check(self, session, out);
    }

    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        Store::cancel_wait(self, session, DbError::LOCK_TIMEOUT, out)
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
