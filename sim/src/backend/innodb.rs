//! The MariaDB 10.11 / InnoDB model as a backend: a deadlock is found the
//! moment a wait closes one (inside `execute`), so there is no deadlock
//! check to schedule; a wait gives up after `innodb_lock_wait_timeout`
//! (50 s) with 1205, rolling back only the statement.

use super::{Backend, WaitDeadlines, WaitSettings};
use stockrace_model::innodb::InnoDbStore;
use stockrace_model::{DbError, Event, LevelId, Row, RowView, SessionId, Statement};

/// InnoDB's timer rule, for the model and for a real server alike:
/// `lock_wait_timeout_ms` is `innodb_lock_wait_timeout`.
pub fn wait_deadlines(began_ms: u64, lock_wait_timeout_ms: u64) -> WaitDeadlines {
    WaitDeadlines {
        deadlock_check_ms: None,
        timeout_ms: Some(began_ms + lock_wait_timeout_ms),
    }
}

impl Backend for InnoDbStore {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        InnoDbStore::execute(self, session, statement, out)
    }

    fn wait_deadlines(
        &self,
        _session: SessionId,
        began_ms: u64,
        _settings: WaitSettings,
    ) -> WaitDeadlines {
        // A scenario's lock_timeout_ms is PostgreSQL's and is refused for
        // MariaDB scenarios, so only the server's timeout applies.
        wait_deadlines(began_ms, self.config().lock_wait_timeout_ms)
    }

    fn deadlock_check(&mut self, _session: SessionId, _out: &mut Vec<Event>) {}

    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        InnoDbStore::cancel_wait(self, session, DbError::MARIADB_LOCK_WAIT_TIMEOUT, out)
    }

    fn in_transaction(&self, session: SessionId) -> bool {
        InnoDbStore::in_transaction(self, session)
    }

    fn open_transactions(&self) -> usize {
        InnoDbStore::open_transactions(self)
    }

    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        InnoDbStore::waits_for(self, session)
    }

    fn row(&self, level: LevelId) -> RowView {
        InnoDbStore::row(self, level)
    }

    fn committed_rows(&self) -> Vec<Row> {
        InnoDbStore::committed_rows(self)
    }

    fn committed_reservations(&self, level: LevelId) -> i64 {
        InnoDbStore::committed_reservations(self, level)
    }
}
