//! MariaDB 10.11 / InnoDB: the same inventory tables and statements as the
//! PostgreSQL store (`crate::postgres`), answered the way InnoDB answers them.
//! The reference is `tests/conformance/reference/mariadb-10.11.md` and the
//! statement-by-statement transcripts beside it.
//!
//! What differs from PostgreSQL, and where it lives:
//!
//! - Reads (`access`): UPDATE and locking reads act on the newest committed
//!   version once they hold the row's lock (current reads); plain SELECTs
//!   read a read view (consistent reads). At REPEATABLE READ the view opens
//!   at the transaction's first consistent read, not at BEGIN; at READ
//!   COMMITTED each consistent read gets a fresh one. So a read followed by
//!   an absolute write loses an update silently at REPEATABLE READ. With
//!   `innodb_snapshot_isolation` a current read that meets a version the
//!   open view does not see fails with 1020 instead; at SERIALIZABLE it
//!   opens the view at the first statement. SERIALIZABLE turns plain reads
//!   inside a transaction into shared-lock reads, with next-key and gap locks
//!   on the reservation index for the availability SUM, which INSERTs wait for.
//! - Locks and deadlocks (`locks`): InnoDB's record lock queue; a deadlock
//!   is found the moment a wait closes a cycle, and the lighter transaction
//!   is rolled back (1213).
//! - Errors and the session (`waits`): 1213 and 1020 roll back the whole
//!   transaction and leave the session in autocommit mode, so whatever the
//!   application sends next commits statement by statement
//!   (ha_innodb.cc `convert_error_code_to_mysql()` marks the whole
//!   transaction for rollback for DB_DEADLOCK); 1205 (lock wait timeout,
//!   NOWAIT) and 4025 (CHECK) roll back only the statement
//!   (`innodb_rollback_on_timeout` is OFF by default) and the transaction
//!   goes on. There is no "aborted transaction" state as PostgreSQL's 25P02.
//! - Time: a lock wait ends with 1205 after `innodb_lock_wait_timeout`
//!   (50 s) of virtual time, reported by [`InnoDbStore::time_passed`].

mod access;
mod locks;
#[cfg(test)]
mod tests;
mod waits;

use crate::error::DbError;
use crate::event::{Event, Progress, RowView, SessionId, StoreConfig};
use crate::sales::Sales;
use crate::statement::{Isolation, LevelId, Reply, Row, Statement};
use locks::{Locks, Target};

/// Server settings the model follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InnoDbConfig {
    /// `CHECK (stocked_quantity >= 0)`: a write below zero fails with 4025.
    pub check_nonnegative: bool,
    /// `innodb_snapshot_isolation` (OFF by default in 10.11, ON from 11.6.2).
    pub snapshot_isolation: bool,
    /// `innodb_lock_wait_timeout`, in virtual milliseconds (default 50 s).
    pub lock_wait_timeout_ms: u64,
}

impl Default for InnoDbConfig {
    fn default() -> InnoDbConfig {
        InnoDbConfig {
            check_nonnegative: false,
            snapshot_isolation: false,
            lock_wait_timeout_ms: 50_000,
        }
    }
}

impl From<StoreConfig> for InnoDbConfig {
    fn from(config: StoreConfig) -> InnoDbConfig {
        InnoDbConfig {
            check_nonnegative: config.check_nonnegative,
            ..InnoDbConfig::default()
        }
    }
}

/// The isolation of a statement sent outside BEGIN: the server's default
/// `tx_isolation`, REPEATABLE READ (the reference server ran with it).
const AUTOCOMMIT_ISOLATION: Isolation = Isolation::RepeatableRead;

#[derive(Clone, Debug)]
struct RowState {
    /// Committed versions, oldest first, with the commit number that made each visible.
    history: Vec<(u64, Row)>,
    /// The version written by a transaction still open (it holds the X lock).
    pending: Option<(SessionId, Row)>,
}

impl RowState {
    fn newest_committed(&self) -> (u64, Row) {
        *self.history.last().expect("a row has a committed version")
    }
    fn visible_at(&self, view: u64) -> Row {
        self.history
            .iter()
            .rev()
            .find(|(seq, _)| *seq <= view)
            .map(|(_, row)| *row)
            .expect("the initial version is visible to every view")
    }
}

/// A `reservation` row; `id` orders it in the index after its level.
#[derive(Clone, Copy, Debug)]
struct Reservation {
    id: u64,
    level: LevelId,
    quantity: i64,
    creator: SessionId,
    committed: Option<u64>,
}

#[derive(Clone, Debug)]
struct Txn {
    isolation: Isolation,
    /// Opened by a statement sent outside BEGIN; ends with it.
    implicit: bool,
    /// The read view: commits up to this number are visible. `None` until opened.
    view: Option<u64>,
    /// Undo records written (rows changed or inserted): the first half of TRX_WEIGHT.
    undo: u64,
    last_level: Option<LevelId>,
}

#[derive(Clone, Debug)]
struct Parked {
    statement: Statement,
    stmt: u64,
    /// Virtual time at which `innodb_lock_wait_timeout` ends the wait.
    deadline_ms: u64,
    /// When, among waits, this one began (the newest closes a cycle).
    since: u64,
}

#[derive(Clone, Debug, Default)]
struct Session {
    txn: Option<Txn>,
    parked: Option<Parked>,
}

/// The InnoDB store. Deterministic: a pure function of the calls made on it.
#[derive(Clone, Debug)]
pub struct InnoDbStore {
    config: InnoDbConfig,
    rows: Vec<RowState>,
    reservations: Vec<Reservation>,
    sales: Sales,
    next_reservation: u64,
    locks: Locks,
    sessions: Vec<Session>,
    commit_seq: u64,
    stmt_seq: u64,
    wait_seq: u64,
    now_ms: u64,
    open_transactions: usize,
    /// Events of deadlock victims chosen while a request was being decided:
    /// reported after the requester's own event, as the server answers them.
    deferred: Vec<Event>,
}

impl InnoDbStore {
    /// A store holding `rows` (row `i` is `LevelId(i)`) for `sessions` clients.
    pub fn new(rows: &[Row], sessions: usize, config: InnoDbConfig) -> InnoDbStore {
        let mut store = InnoDbStore {
            config,
            rows: Vec::new(),
            reservations: Vec::new(),
            sales: Sales::default(),
            next_reservation: 0,
            locks: Locks::default(),
            sessions: Vec::new(),
            commit_seq: 0,
            stmt_seq: 0,
            wait_seq: 0,
            now_ms: 0,
            open_transactions: 0,
            deferred: Vec::new(),
        };
        store.reset(rows, sessions);
        store
    }

    /// Makes this store what `new(rows, sessions, config)` would be, with its own config.
    pub fn reset(&mut self, rows: &[Row], sessions: usize) {
        self.rows.clear();
        self.rows.extend(rows.iter().map(|row| RowState {
            history: vec![(0, *row)],
            pending: None,
        }));
        self.reservations.clear();
        self.sales.clear();
        self.next_reservation = 0;
        self.locks.clear();
        self.sessions.clear();
        self.sessions.resize_with(sessions, Session::default);
        self.commit_seq = 0;
        self.stmt_seq = 0;
        self.wait_seq = 0;
        self.now_ms = 0;
        self.open_transactions = 0;
        self.deferred.clear();
    }

    pub fn config(&self) -> InnoDbConfig {
        self.config
    }

    /// Runs `statement` for `session` and appends what happened to `out`:
    /// its own event first, then deadlock victims it caused, then waiting
    /// statements that could go on, in the order they completed.
    ///
    /// Panics if `session` is waiting: a client sends one statement at a time.
    pub fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        assert!(
            !self.is_waiting(session),
            "{session} sent a statement while its previous one was still waiting"
        );
        self.stmt_seq += 1;
        let stmt = self.stmt_seq;
        self.run(session, statement, stmt, false, out);
        self.wake_waiters(out);
    }

    /// Whom `session`'s statement waits for, if it waits: the owner of the
    /// first conflicting lock ahead of its request.
    pub fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        self.locks.blocker(session)
    }

    /// Ends `session`'s wait with `error`. A deadlock or snapshot error
    /// (1213, 1020) rolls back the whole transaction; any other (1205) only
    /// the statement. Does nothing if it does not wait.
    pub fn cancel_wait(&mut self, session: SessionId, error: DbError, out: &mut Vec<Event>) {
        let Some(parked) = self.sessions[session.index()].parked.take() else {
            return;
        };
        self.locks.cancel_waiting(session);
        self.fail(session, error);
        out.push(self.event(session, parked.statement, Progress::Done(Err(error)), true));
        self.wake_waiters(out);
    }

    /// PostgreSQL's deadlock_timeout check has nothing to do here: InnoDB
    /// resolves a deadlock when the wait that closes it begins. Returns false.
    pub fn deadlock_check(&mut self, _session: SessionId, _out: &mut Vec<Event>) -> bool {
        false
    }

    /// Whether `session` waits on a cycle (never after `execute` returns:
    /// a cycle is broken as soon as it closes).
    pub fn in_deadlock(&self, session: SessionId) -> bool {
        self.locks
            .cycle_through(session, self.sessions.len())
            .is_some()
    }

    /// Virtual time is now `now_ms`: every wait past `innodb_lock_wait_timeout`
    /// fails with 1205 (statement rolled back, transaction left open), in the
    /// order the waits began (`lock_wait()` times each wait on its own).
    pub fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        self.now_ms = self.now_ms.max(now_ms);
        while let Some(session) = self.sessions_waiting().into_iter().find(|s| {
            self.sessions[s.index()]
                .parked
                .as_ref()
                .is_some_and(|p| p.deadline_ms <= self.now_ms)
        }) {
            self.cancel_wait(session, DbError::MARIADB_LOCK_WAIT_TIMEOUT, out);
        }
    }

    /// The virtual time at which the next lock wait times out, if any waits.
    pub fn next_timeout_ms(&self) -> Option<u64> {
        self.sessions
            .iter()
            .filter_map(|s| s.parked.as_ref().map(|p| p.deadline_ms))
            .min()
    }

    pub fn in_transaction(&self, session: SessionId) -> bool {
        self.sessions[session.index()].txn.is_some()
    }

    pub fn is_waiting(&self, session: SessionId) -> bool {
        self.sessions[session.index()].parked.is_some()
    }

    pub fn open_transactions(&self) -> usize {
        self.open_transactions
    }

    pub fn row(&self, level: LevelId) -> RowView {
        let state = &self.rows[level.index()];
        let holder = self.locks.exclusive_holder(Target::Level(level));
        RowView {
            level,
            committed: state.newest_committed().1,
            locked_by: holder.map(|h| (h, state.pending.map(|(_, row)| row))),
        }
    }

    /// The newest committed version of every row, in `LevelId` order.
    pub fn committed_rows(&self) -> Vec<Row> {
        self.rows.iter().map(|r| r.newest_committed().1).collect()
    }

    /// Units held by committed reservation rows of `level`.
    pub fn committed_reservations(&self, level: LevelId) -> i64 {
        self.committed_reservation_rows(level)
            .map(|r| r.quantity)
            .sum()
    }

    /// How many committed reservation rows `level` has.
    pub fn committed_reservation_count(&self, level: LevelId) -> usize {
        self.committed_reservation_rows(level).count()
    }

    fn committed_reservation_rows(&self, level: LevelId) -> impl Iterator<Item = &Reservation> {
        self.reservations
            .iter()
            .filter(move |r| r.level == level && r.committed.is_some())
    }

    pub fn levels(&self) -> impl Iterator<Item = LevelId> {
        (0..self.rows.len() as u32).map(LevelId)
    }

    fn sessions_waiting(&self) -> Vec<SessionId> {
        let mut waiting: Vec<(u64, SessionId)> = (0..self.sessions.len() as u32)
            .map(SessionId)
            .filter_map(|s| {
                self.sessions[s.index()]
                    .parked
                    .as_ref()
                    .map(|p| (p.since, s))
            })
            .collect();
        waiting.sort();
        waiting.into_iter().map(|(_, s)| s).collect()
    }

    fn event(
        &self,
        session: SessionId,
        statement: Statement,
        progress: Progress,
        resumed: bool,
    ) -> Event {
        let level = match statement {
            Statement::Commit | Statement::Rollback | Statement::Begin(_) => None,
            _ => statement.level(),
        };
        Event {
            session,
            statement,
            progress,
            resumed,
            row: level.map(|l| self.row(l)),
        }
    }

    /// Runs (or re-runs, after its lock was granted) one statement.
    fn run(
        &mut self,
        session: SessionId,
        statement: Statement,
        stmt: u64,
        resumed: bool,
        out: &mut Vec<Event>,
    ) {
        let ending = matches!(statement, Statement::Commit | Statement::Rollback);
        let last_level = self.txn(session).and_then(|t| t.last_level);
        let progress = match self.step(session, statement, stmt) {
            None => {
                self.wait_seq += 1;
                let on = self.locks.blocker(session).expect("a waiting request");
                self.sessions[session.index()].parked = Some(Parked {
                    statement,
                    stmt,
                    deadline_ms: self.now_ms + self.config.lock_wait_timeout_ms,
                    since: self.wait_seq,
                });
                Progress::Waiting { on }
            }
            Some(Ok(reply)) => {
                if self.txn(session).is_some_and(|t| t.implicit) {
                    self.end(session, true);
                }
                Progress::Done(Ok(reply))
            }
            Some(Err(error)) => {
                self.fail(session, error);
                Progress::Done(Err(error))
            }
        };
        let mut event = self.event(session, statement, progress, resumed);
        if ending {
            event.row = last_level.map(|l| self.row(l));
        }
        out.push(event);
        out.append(&mut self.deferred);
    }

    fn txn(&self, session: SessionId) -> Option<&Txn> {
        self.sessions[session.index()].txn.as_ref()
    }

    fn txn_mut(&mut self, session: SessionId) -> &mut Txn {
        self.sessions[session.index()]
            .txn
            .as_mut()
            .expect("an open transaction")
    }

    fn open(&mut self, session: SessionId, isolation: Isolation, implicit: bool) {
        self.sessions[session.index()].txn = Some(Txn {
            isolation,
            implicit,
            view: None,
            undo: 0,
            last_level: None,
        });
        self.open_transactions += 1;
    }

    /// Commits or rolls back `session`'s transaction and releases its locks.
    fn end(&mut self, session: SessionId, commit: bool) {
        self.sessions[session.index()].txn = None;
        self.open_transactions -= 1;
        self.commit_seq += u64::from(commit);
        let seq = self.commit_seq;
        for row in &mut self.rows {
            if let Some((owner, new)) = row.pending {
                if owner == session {
                    row.pending = None;
                    if commit {
                        row.history.push((seq, new));
                    }
                }
            }
        }
        self.sales.end(session, commit);
        let mut gone = Vec::new();
        for r in self
            .reservations
            .iter_mut()
            .filter(|r| r.creator == session && r.committed.is_none())
        {
            if commit {
                r.committed = Some(seq);
            } else {
                gone.push(*r);
            }
        }
        self.locks.release_all(session);
        for r in gone {
            self.reservations.retain(|x| x.id != r.id);
            let successor = self.successor(r.level);
            self.locks
                .inherit_to_gap(Target::Reservation(r.id), successor);
        }
    }

    /// BEGIN, COMMIT, ROLLBACK, or a statement (opening an autocommit
    /// transaction if none is open). `None`: it waits.
    fn step(
        &mut self,
        session: SessionId,
        statement: Statement,
        stmt: u64,
    ) -> Option<Result<Reply, DbError>> {
        let open = self.txn(session).is_some();
        match statement {
            Statement::Begin(isolation) => {
                // BEGIN inside a transaction commits it first (an implicit commit).
                if open {
                    self.end(session, true);
                }
                self.open(session, isolation, false);
                Some(Ok(Reply::Begin))
            }
            // After 1213 or 1020 the transaction is already gone: COMMIT
            // and ROLLBACK succeed with nothing to do.
            Statement::Commit => {
                if open {
                    self.end(session, true);
                }
                Some(Ok(Reply::Commit))
            }
            Statement::Rollback => {
                if open {
                    self.end(session, false);
                }
                Some(Ok(Reply::Rollback))
            }
            _ => {
                if !open {
                    self.open(session, AUTOCOMMIT_ISOLATION, true);
                }
                if let Some(level) = statement.level() {
                    self.txn_mut(session).last_level = Some(level);
                }
                match self.access(session, statement, stmt) {
                    Ok(reply) => Some(Ok(reply)),
                    Err(access::Halt::Wait) => None,
                    Err(access::Halt::Fail(error)) => Some(Err(error)),
                }
            }
        }
    }
}
