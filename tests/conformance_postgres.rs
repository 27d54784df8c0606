//! The conformance scripts (tests/conformance) on a real PostgreSQL: the
//! reference, re-observed on every run. Skipped, with the reason, when no
//! server is reachable (a failure under CI=true).

#[macro_use]
mod conformance;
mod postgres;

use std::sync::MutexGuard;
use stockrace::adapters::postgres::PgBackend;
use stockrace::model::{Event, LevelId, Row, RowView, SessionId, Statement, StoreConfig};
use stockrace::{Backend, WaitDeadlines, WaitSettings};

/// A PostgreSQL backend that holds the turn for the length of its test.
struct Turn {
    backend: PgBackend<'static>,
    _turn: MutexGuard<'static, ()>,
}

impl Backend for Turn {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        self.backend.execute(session, statement, out)
    }
    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) {
        self.backend.deadlock_check(session, out)
    }
    fn wait_deadlines(
        &self,
        session: SessionId,
        began_ms: u64,
        settings: WaitSettings,
    ) -> WaitDeadlines {
        self.backend.wait_deadlines(session, began_ms, settings)
    }
    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        self.backend.wait_timed_out(session, out)
    }
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        self.backend.time_passed(now_ms, out)
    }
    fn in_transaction(&self, session: SessionId) -> bool {
        self.backend.in_transaction(session)
    }
    fn open_transactions(&self) -> usize {
        self.backend.open_transactions()
    }
    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        self.backend.waits_for(session)
    }
    fn row(&self, level: LevelId) -> RowView {
        self.backend.row(level)
    }
    fn committed_rows(&self) -> Vec<Row> {
        self.backend.committed_rows()
    }
    fn committed_reservations(&self, level: LevelId) -> i64 {
        self.backend.committed_reservations(level)
    }
}

/// A fresh schema on the server; a no-op backend-less skip when there is none.
fn postgres(rows: &[Row], sessions: usize, config: StoreConfig) -> Box<dyn Backend> {
    let Some(server) = postgres::server() else {
        // Skipped (the reason was printed): run the script on the model so
        // the test still checks something rather than nothing.
        return Box::new(stockrace::model::Store::new(rows, sessions, config));
    };
    let turn = postgres::one_at_a_time();
    let backend = server
        // deadlock_timeout: 10 virtual seconds, one real second at the
        // default pacing. The scripts ask for each deadlock check
        // explicitly, so a long timeout costs only the checks' waits, and
        // it keeps a loaded machine from running the server's check before
        // the script has seen the statement wait (with 100 ms it did).
        .backend_for(
            rows,
            &vec![None; sessions],
            config.check_nonnegative,
            10_000,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    Box::new(Turn {
        backend,
        _turn: turn,
    })
}

conformance_tests!(postgres);
