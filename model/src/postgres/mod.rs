//! The store: rows with version history, sessions with transactions, tuple
//! locks and the queue of statements waiting for them.
//!
//! A statement either completes at once or waits: for the transaction that
//! locked the row, or queued behind the first waiter (PostgreSQL's two-level
//! row locks, see `locks`). When a lock is released the waiters it lets go
//! re-run in queue order; that re-run is PostgreSQL's EvalPlanQual re-check
//! (READ COMMITTED) or its 40001 check (REPEATABLE READ and SERIALIZABLE).
//! The deadlock check is PostgreSQL's decision (see `deadlock`). As in PostgreSQL, an error aborts the transaction at
//! once (its writes are discarded and its locks released) though the client
//! must still end it: until then it gets 25P02.

mod deadlock;
mod locks;
mod ssi;
mod state_key;
mod transaction;

pub use crate::event::{Event, Progress, RowView, SessionId, StoreConfig};

use crate::error::DbError;
use crate::sales::Sales;
use crate::statement::{Isolation, LevelId, Lock, Reply, Row, Statement};
use locks::{Released, Wait};
use ssi::{Ssi, SxactId, Target};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Hash)]
struct RowState {
    /// Committed versions, oldest first, each with the commit sequence number
    /// that made it visible. Never empty.
    history: Vec<(u64, Row)>,
    holder: Option<SessionId>,
    /// The holder's uncommitted version, if it wrote one.
    pending: Option<Row>,
    /// The heavyweight tuple locks held, each as (version, holder): one per
    /// version of the row, as PostgreSQL locks a tuple by its location. Held
    /// by the first statement waiting for that version's locker; later ones
    /// queue on it (see `locks`). Versions are indices into `history`.
    tuple_locks: Vec<(u32, SessionId)>,
}

impl RowState {
    fn newest_committed(&self) -> (u64, Row) {
        *self
            .history
            .last()
            .expect("a row always has a committed version")
    }

    /// The newest committed version's index in `history`: the version a
    /// locker holds and a new waiter queues on.
    fn version(&self) -> u32 {
        self.history.len() as u32 - 1
    }

    /// Who holds `version`'s tuple lock.
    fn tuple_lock_holder(&self, version: u32) -> Option<SessionId> {
        self.tuple_locks
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, s)| *s)
    }

    /// The version whose tuple lock `session` holds, if it holds one.
    fn tuple_lock_of(&self, session: SessionId) -> Option<u32> {
        self.tuple_locks
            .iter()
            .find(|(_, s)| *s == session)
            .map(|(v, _)| *v)
    }

    fn visible_at(&self, snapshot: u64) -> Row {
        self.history
            .iter()
            .rev()
            .find(|(seq, _)| *seq <= snapshot)
            .map(|(_, row)| *row)
            .expect("the initial version is visible to every snapshot")
    }
}

/// A row of the `reservation` table.
#[derive(Clone, Copy, Debug, Hash)]
struct Reservation {
    level: LevelId,
    quantity: i64,
    creator: SessionId,
    /// Commit sequence number, or `None` while the creator's transaction is open.
    committed: Option<u64>,
}

/// A lock a transaction holds until it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Held {
    Row(LevelId),
    Advisory(u32),
}

#[derive(Clone, Debug, Hash)]
struct Txn {
    isolation: Isolation,
    /// Opened by a statement outside BEGIN (autocommit); ends with it.
    implicit: bool,
    /// REPEATABLE READ and SERIALIZABLE: taken at the first statement after BEGIN.
    snapshot: Option<u64>,
    /// SERIALIZABLE: the transaction's SSI record, from its snapshot on.
    sxact: Option<SxactId>,
    /// An error happened: everything but COMMIT/ROLLBACK now fails with 25P02.
    failed: bool,
    held: Vec<Held>,
    inserted: bool,
    last_level: Option<LevelId>,
    /// READ COMMITTED: the snapshot of the statement now waiting, kept for
    /// its re-run (EvalPlanQual needs to know the row changed meanwhile).
    statement_snapshot: Option<u64>,
}

#[derive(Clone, Debug)]
struct Parked {
    statement: Statement,
    /// Whom it waits for: the holder of the lock it waits on (its hard edge).
    on: SessionId,
    kind: Wait,
    /// Queue position: waiters wake in the order they began waiting.
    since: u64,
}

#[derive(Clone, Debug, Default)]
struct SessionState {
    txn: Option<Txn>,
    parked: Option<Parked>,
}

/// The inventory store. Deterministic: a pure function of the statements
/// executed and their order.
#[derive(Clone, Debug)]
pub struct Store {
    config: StoreConfig,
    rows: Vec<RowState>,
    reservations: Vec<Reservation>,
    sales: Sales,
    advisory: BTreeMap<u32, SessionId>,
    sessions: Vec<SessionState>,
    commit_seq: u64,
    wait_seq: u64,
    open_transactions: usize,
    /// Locks released whose waiters must be looked at.
    released: Vec<Released>,
    ssi: Ssi,
    /// Emptied lists of held locks of ended transactions, for the next ones
    /// to fill: a list per transaction was an allocation each. Not state.
    spare_held: Vec<Vec<Held>>,
    /// Work lists kept between calls (empty outside them). Not state.
    granted: Vec<locks::Grant>,
    cycle_scratch: deadlock::Scratch,
}

impl Store {
    /// A store holding `rows` (row `i` is `LevelId(i)`) for `sessions` clients.
    pub fn new(rows: &[Row], sessions: usize, config: StoreConfig) -> Store {
        let mut store = Store {
            config,
            rows: Vec::with_capacity(rows.len()),
            reservations: Vec::new(),
            sales: Sales::default(),
            advisory: BTreeMap::new(),
            sessions: Vec::with_capacity(sessions),
            commit_seq: 0,
            wait_seq: 0,
            open_transactions: 0,
            released: Vec::with_capacity(sessions),
            ssi: Ssi::with_capacity(sessions),
            spare_held: Vec::new(),
            granted: Vec::new(),
            cycle_scratch: deadlock::Scratch::default(),
        };
        store.reset(rows, sessions);
        store
    }

    /// Makes this store what `Store::new(rows, sessions, config)` (with its
    /// own config) would be, keeping the memory it has: a sweep runs many
    /// short runs, and allocating a store for each was a good part of one.
    pub fn reset(&mut self, rows: &[Row], sessions: usize) {
        self.rows.truncate(rows.len());
        for (state, row) in self.rows.iter_mut().zip(rows) {
            state.history.clear();
            state.history.push((0, *row));
            state.holder = None;
            state.pending = None;
            state.tuple_locks.clear();
        }
        let have = self.rows.len();
        self.rows.extend(rows[have..].iter().map(|row| RowState {
            // Room for a commit by each session without regrowing.
            history: {
                let mut history = Vec::with_capacity(sessions + 1);
                history.push((0, *row));
                history
            },
            holder: None,
            pending: None,
            tuple_locks: Vec::new(),
        }));
        self.reservations.clear();
        self.sales.clear();
        self.advisory.clear();
        for session in self.sessions.drain(..) {
            if let Some(mut txn) = session.txn {
                txn.held.clear();
                self.spare_held.push(txn.held);
            }
        }
        self.sessions.resize_with(sessions, SessionState::default);
        self.commit_seq = 0;
        self.wait_seq = 0;
        self.open_transactions = 0;
        self.released.clear();
        self.ssi.clear();
    }

    /// Runs `statement` for `session` and appends to `out` what happened:
    /// first its own event, then any waiting statements of other sessions that
    /// it let proceed (in the order they complete).
    ///
    /// Panics if `session` is already waiting: a client sends one statement at a time.
    pub fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        assert!(
            self.sessions[session.index()].parked.is_none(),
            "{session} sent a statement while its previous one was still waiting"
        );
        self.wait_seq += 1;
        let since = self.wait_seq;
        self.run(session, statement, since, false, out);
        self.wake_waiters(out);
    }

    /// The session `session`'s statement waits for, if it waits.
    pub fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        self.sessions[session.index()].parked.as_ref().map(|p| p.on)
    }

    /// Fails `session`'s waiting statement with `error` (lock_timeout gives
    /// 55P03). Does nothing if it does not wait.
    pub fn cancel_wait(&mut self, session: SessionId, error: DbError, out: &mut Vec<Event>) {
        let Some(parked) = self.sessions[session.index()].parked.take() else {
            return;
        };
        if let Wait::Xact { .. } = parked.kind {
            // It held a tuple lock: the next queued waiter gets it.
            let level = parked.statement.level().expect("a row statement");
            self.release_tuple_lock(session, level);
        }
        self.abort_statement(session);
        out.push(Event {
            session,
            statement: parked.statement,
            progress: Progress::Done(Err(error)),
            resumed: true,
            row: parked.statement.level().map(|l| self.row(l)),
        });
        self.wake_waiters(out);
    }

    /// Whether `session` has a transaction open (explicit, or an autocommit
    /// statement still waiting).
    pub fn in_transaction(&self, session: SessionId) -> bool {
        self.sessions[session.index()].txn.is_some()
    }

    /// Whether `session`'s last statement is waiting for a lock.
    pub fn is_waiting(&self, session: SessionId) -> bool {
        self.sessions[session.index()].parked.is_some()
    }

    pub fn open_transactions(&self) -> usize {
        self.open_transactions
    }

    pub fn row(&self, level: LevelId) -> RowView {
        let state = &self.rows[level.index()];
        RowView {
            level,
            committed: state.newest_committed().1,
            locked_by: state.holder.map(|h| (h, state.pending)),
        }
    }

    /// The newest committed version of every row, in `LevelId` order.
    pub fn committed_rows(&self) -> Vec<Row> {
        self.rows.iter().map(|r| r.newest_committed().1).collect()
    }

    /// Units held by committed reservation rows of `level`.
    pub fn committed_reservations(&self, level: LevelId) -> i64 {
        self.reservations
            .iter()
            .filter(|r| r.level == level && r.committed.is_some())
            .map(|r| r.quantity)
            .sum()
    }

    pub fn levels(&self) -> impl Iterator<Item = LevelId> {
        (0..self.rows.len() as u32).map(LevelId)
    }

    fn run(
        &mut self,
        session: SessionId,
        statement: Statement,
        since: u64,
        resumed: bool,
        out: &mut Vec<Event>,
    ) {
        let ending = matches!(statement, Statement::Commit | Statement::Rollback);
        let last_level = self.sessions[session.index()]
            .txn
            .as_ref()
            .and_then(|t| t.last_level);
        let progress = self.step(session, statement);
        if let Progress::Waiting { on } = progress {
            let kind = match statement.level().map(|l| &self.rows[l.index()]) {
                None => Wait::Advisory,
                Some(row) => match row.tuple_lock_of(session) {
                    Some(version) => Wait::Xact { version },
                    None if row.holder == Some(on) => Wait::Chain,
                    None => Wait::Tuple {
                        version: row.tuple_lock_of(on).expect("queued behind a tuple lock"),
                    },
                },
            };
            self.sessions[session.index()].parked = Some(Parked {
                statement,
                on,
                kind,
                since,
            });
        }
        let level = if ending {
            last_level
        } else {
            statement.level()
        };
        out.push(Event {
            session,
            statement,
            progress,
            resumed,
            row: level.map(|l| self.row(l)),
        });
    }

    fn step(&mut self, session: SessionId, statement: Statement) -> Progress {
        let s = session.index();
        match statement {
            Statement::Begin(isolation) => {
                // Inside a transaction PostgreSQL only warns; the transaction goes on.
                if self.sessions[s].txn.is_none() {
                    self.open(session, isolation, false);
                }
                Progress::Done(Ok(Reply::Begin))
            }
            Statement::Commit => match &self.sessions[s].txn {
                // Outside a transaction PostgreSQL warns and answers COMMIT.
                None => Progress::Done(Ok(Reply::Commit)),
                Some(txn) if txn.failed => {
                    self.end(session, false);
                    Progress::Done(Ok(Reply::Rollback))
                }
                Some(txn) if txn.sxact.is_some_and(|id| self.ssi.dangerous(id)) => {
                    self.end(session, false);
                    Progress::Done(Err(DbError::READ_WRITE_DEPENDENCIES))
                }
                Some(_) => {
                    self.end(session, true);
                    Progress::Done(Ok(Reply::Commit))
                }
            },
            Statement::Rollback => {
                if self.sessions[s].txn.is_some() {
                    self.end(session, false);
                }
                Progress::Done(Ok(Reply::Rollback))
            }
            _ => {
                if self.sessions[s].txn.is_none() {
                    self.open(session, Isolation::ReadCommitted, true);
                }
                let txn = self.sessions[s].txn.as_ref().expect("opened above");
                if txn.failed {
                    return Progress::Done(Err(DbError::IN_FAILED_TRANSACTION));
                }
                let implicit = txn.implicit;
                let progress = self.access(session, statement);
                match progress {
                    Progress::Waiting { .. } => {}
                    Progress::Done(Ok(_)) if implicit => self.end(session, true),
                    Progress::Done(Err(_)) => self.abort_statement(session),
                    Progress::Done(Ok(_)) => {}
                }
                progress
            }
        }
    }

    /// A statement other than BEGIN/COMMIT/ROLLBACK, in an open, healthy transaction.
    fn access(&mut self, session: SessionId, statement: Statement) -> Progress {
        let commit_seq = self.commit_seq;
        let txn = self.sessions[session.index()].txn.as_mut().expect("open");
        let isolation = txn.isolation;
        let snapshot = match isolation {
            // A statement re-run after waiting keeps the snapshot it started with.
            Isolation::ReadCommitted => txn.statement_snapshot.take().unwrap_or(commit_seq),
            _ => *txn.snapshot.get_or_insert(commit_seq),
        };
        if isolation == Isolation::Serializable && txn.sxact.is_none() {
            txn.sxact = Some(self.ssi.begin(snapshot));
        }
        let sxact = txn.sxact;
        if let Some(level) = statement.level() {
            txn.last_level = Some(level);
        }

        let progress = match statement {
            Statement::AdvisoryLock { key } => self.advisory_lock(session, key),
            Statement::Available { level } => {
                self.ssi_read(sxact, Target::Row(level));
                self.ssi_read(sxact, Target::ReservationTable);
                let stocked = self.visible(session, level, snapshot).stocked;
                let reserved: i64 = self
                    .reservations
                    .iter()
                    .filter(|r| {
                        r.level == level
                            && match r.committed {
                                Some(seq) => seq <= snapshot,
                                None => r.creator == session,
                            }
                    })
                    .map(|r| r.quantity)
                    .sum();
                Progress::Done(Ok(Reply::Value(stocked - reserved)))
            }
            Statement::InsertReservation { level, quantity } => {
                self.reservations.push(Reservation {
                    level,
                    quantity,
                    creator: session,
                    committed: None,
                });
                self.sessions[session.index()]
                    .txn
                    .as_mut()
                    .expect("open")
                    .inserted = true;
                self.ssi_write(sxact, Target::ReservationTable);
                Progress::Done(Ok(Reply::Insert))
            }
            Statement::InsertSale { order } => {
                if self.sales.insert(order, session) {
                    Progress::Done(Ok(Reply::Insert))
                } else {
                    Progress::Done(Err(DbError::UNIQUE_VIOLATION))
                }
            }
            Statement::Select {
                level,
                lock: Lock::None,
            } => {
                self.ssi_read(sxact, Target::Row(level));
                Progress::Done(Ok(Reply::Select(Some(
                    self.visible(session, level, snapshot),
                ))))
            }
            Statement::Select { .. } | Statement::Update(_) => {
                self.lock_row(session, statement, isolation, snapshot, sxact)
            }
            Statement::Begin(_) | Statement::Commit | Statement::Rollback => {
                unreachable!("handled by step")
            }
        };
        if let Progress::Waiting { .. } = progress {
            self.sessions[session.index()]
                .txn
                .as_mut()
                .expect("open")
                .statement_snapshot = Some(snapshot);
        }
        // SSI: the pivot of a dangerous structure cannot go on.
        match (sxact, progress) {
            (Some(id), Progress::Done(Ok(_))) if self.ssi.dangerous(id) => {
                Progress::Done(Err(DbError::READ_WRITE_DEPENDENCIES))
            }
            _ => progress,
        }
    }

    /// The version of `level` that `session` sees with `snapshot`.
    fn visible(&self, session: SessionId, level: LevelId, snapshot: u64) -> Row {
        let row = &self.rows[level.index()];
        match (row.holder == Some(session), row.pending) {
            (true, Some(pending)) => pending,
            _ => row.visible_at(snapshot),
        }
    }

    fn held_by(&mut self, session: SessionId) -> &mut Vec<Held> {
        &mut self.sessions[session.index()]
            .txn
            .as_mut()
            .expect("open")
            .held
    }

    fn ssi_read(&mut self, sxact: Option<SxactId>, target: Target) {
        if let Some(id) = sxact {
            self.ssi.read(id, target);
        }
    }

    fn ssi_write(&mut self, sxact: Option<SxactId>, target: Target) {
        if let Some(id) = sxact {
            self.ssi.write(id, target);
        }
    }
}
