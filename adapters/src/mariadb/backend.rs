//! A run on MariaDB as a simulation's [`Backend`], so that `diff` replays a
//! model's schedule on the server as it does on PostgreSQL.
//!
//! The scheduler keeps the lock-wait timers by InnoDB's rule (no deadlock
//! check to schedule, `innodb_lock_wait_timeout` after a wait begins); the
//! server keeps its own timeout, which virtual time is paced to (`run`), so
//! a wait the scheduler times out is one the server itself ends with 1205.

use super::{MariaDbBackend, MariaDbError, MariaDbServer};
use stockrace_model::{Event, LevelId, Row, RowView, SessionId, Statement};
use stockrace_sim::backend::innodb::wait_deadlines;
use stockrace_sim::{Backend, ModelStore, Simulation, WaitDeadlines, WaitSettings};

impl MariaDbServer {
    /// A fresh database holding `simulation`'s rows, with one session per
    /// order, set up as the scenario's InnoDB model is (its CHECK
    /// constraint and `innodb_snapshot_isolation`).
    pub fn simulation_backend(
        &self,
        simulation: &Simulation,
    ) -> Result<MariaDbBackend<'_>, MariaDbError> {
        // The model's own settings, so the server cannot be set up otherwise.
        let config = match simulation.new_store() {
            ModelStore::InnoDb(store) => store.config(),
            other => {
                return Err(MariaDbError::Setup(format!(
                    "this scenario runs on {}, not on MariaDB (set database = \"mariadb-10.11\" or --database mariadb-10.11)",
                    other.database()
                )))
            }
        };
        let scenario = simulation.scenario();
        self.backend(&scenario.initial_rows(), simulation.orders().len(), config)
    }
}

impl Backend for MariaDbBackend<'_> {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        MariaDbBackend::execute(self, session, statement, out)
    }

    fn wait_deadlines(
        &self,
        _session: SessionId,
        began_ms: u64,
        _settings: WaitSettings,
    ) -> WaitDeadlines {
        // The model's timeout in virtual time; the server's real one stands
        // for the same span.
        wait_deadlines(began_ms, self.config().lock_wait_timeout_ms)
    }

    /// Nothing to do: InnoDB finds a deadlock the moment a wait closes one,
    /// so `execute` has already reported its victim.
    fn deadlock_check(&mut self, _session: SessionId, _out: &mut Vec<Event>) {}

    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        // The wait ends on the server's clock, not by a cancel from here:
        // passing the driver's virtual time to its deadline waits for the
        // server's 1205 and reports it. The scheduler passes time before it
        // fires timers, so usually `time_passed` has done this already and
        // the session waits no more.
        if let Some(deadline) = self.wait_deadline_ms(session) {
            MariaDbBackend::time_passed(self, deadline, out)
        }
    }

    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        MariaDbBackend::time_passed(self, now_ms, out)
    }

    fn in_transaction(&self, session: SessionId) -> bool {
        MariaDbBackend::in_transaction(self, session)
    }

    fn open_transactions(&self) -> usize {
        MariaDbBackend::open_transactions(self)
    }

    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        MariaDbBackend::waits_for(self, session)
    }

    /// The committed row only: who locks it and what they wrote are not
    /// visible from outside their transactions (as on PostgreSQL), and the
    /// invariants read only the committed row, at moments no transaction
    /// is open.
    fn row(&self, level: LevelId) -> RowView {
        RowView {
            level,
            committed: MariaDbBackend::committed_rows(self)[level.index()],
            locked_by: None,
        }
    }

    fn committed_rows(&self) -> Vec<Row> {
        MariaDbBackend::committed_rows(self)
    }

    fn committed_reservations(&self, level: LevelId) -> i64 {
        MariaDbBackend::committed_reservations(self, level)
    }
}
