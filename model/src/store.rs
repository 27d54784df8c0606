//! The store: rows with version history, sessions with transactions, tuple
//! locks and the queue of statements waiting for them.
//!
//! A statement either completes at once or waits for the session holding the
//! row's tuple lock. When that session's transaction ends, the waiters are
//! re-run in the order they began waiting; that re-run is PostgreSQL's
//! EvalPlanQual re-check (READ COMMITTED) or its 40001 check (REPEATABLE READ
//! and SERIALIZABLE).

use crate::error::DbError;
use crate::statement::{Isolation, LevelId, Lock, Reply, Row, Statement};
use std::fmt;

/// One client connection (in the simulator: one order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u32);

impl SessionId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0 + 1)
    }
}

/// Schema options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreConfig {
    /// `CHECK (stocked_quantity >= 0)`: a write below zero fails with 23514.
    pub check_nonnegative: bool,
}

/// A row as it stands: the newest committed version and, if a transaction has
/// written it and not yet ended, that uncommitted version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowView {
    pub level: LevelId,
    pub committed: Row,
    /// The tuple lock holder, with its uncommitted version if it wrote one.
    pub locked_by: Option<(SessionId, Option<Row>)>,
}

impl fmt::Display for RowView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "id={} {}", self.level.sql_id(), self.committed)?;
        match self.locked_by {
            None => Ok(()),
            Some((holder, None)) => write!(f, " [locked by {holder}]"),
            Some((holder, Some(new))) => write!(f, " [{holder} uncommitted: {new}]"),
        }
    }
}

/// Where a statement stands after the store has processed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Done(Result<Reply, DbError>),
    /// Parked until `on`'s transaction ends.
    Waiting {
        on: SessionId,
    },
}

/// Something the store did: a statement completed, or began (or went on) waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub session: SessionId,
    pub statement: Statement,
    pub progress: Progress,
    /// The statement had been waiting and was re-run because a lock holder ended.
    pub resumed: bool,
    /// The row the statement touched, as it stands right after the event.
    pub row: Option<RowView>,
}

#[derive(Clone, Debug)]
struct RowState {
    /// Committed versions, oldest first, each with the commit sequence number
    /// that made it visible. Never empty.
    history: Vec<(u64, Row)>,
    holder: Option<SessionId>,
    /// The holder's uncommitted version, if it wrote one.
    pending: Option<Row>,
}

impl RowState {
    fn newest_committed(&self) -> (u64, Row) {
        *self
            .history
            .last()
            .expect("a row always has a committed version")
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

#[derive(Clone, Debug)]
struct Txn {
    isolation: Isolation,
    /// Opened by a statement outside BEGIN (autocommit); ends with it.
    implicit: bool,
    /// REPEATABLE READ and SERIALIZABLE: taken at the first statement after BEGIN.
    snapshot: Option<u64>,
    /// An error happened: everything but COMMIT/ROLLBACK now fails with 25P02.
    failed: bool,
    held: Vec<LevelId>,
    last_level: Option<LevelId>,
}

#[derive(Clone, Debug)]
struct Parked {
    statement: Statement,
    on: SessionId,
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
    sessions: Vec<SessionState>,
    commit_seq: u64,
    wait_seq: u64,
    open_transactions: usize,
    /// Sessions whose transaction ended and whose waiters must be re-run.
    released: Vec<SessionId>,
}

impl Store {
    /// A store holding `rows` (row `i` is `LevelId(i)`) for `sessions` clients.
    pub fn new(rows: &[Row], sessions: usize, config: StoreConfig) -> Store {
        Store {
            config,
            rows: rows
                .iter()
                .map(|row| RowState {
                    history: vec![(0, *row)],
                    holder: None,
                    pending: None,
                })
                .collect(),
            sessions: vec![SessionState::default(); sessions],
            commit_seq: 0,
            wait_seq: 0,
            open_transactions: 0,
            released: Vec::new(),
        }
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
            self.sessions[session.index()].parked = Some(Parked {
                statement,
                on,
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

    /// Re-runs, in queue order, the statements waiting on sessions whose
    /// transactions ended. A re-run may end another transaction (an autocommit
    /// statement), so this loops until nothing more is released.
    fn wake_waiters(&mut self, out: &mut Vec<Event>) {
        while let Some(ended) = self.released.pop() {
            let mut waiters: Vec<(u64, SessionId)> = self
                .sessions
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    s.parked
                        .as_ref()
                        .filter(|p| p.on == ended)
                        .map(|p| (p.since, SessionId(i as u32)))
                })
                .collect();
            waiters.sort_unstable();
            for (since, waiter) in waiters {
                let parked = self.sessions[waiter.index()].parked.take().expect("parked");
                self.run(waiter, parked.statement, since, true, out);
            }
        }
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
            Statement::Select { .. } | Statement::Update(_) => {
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
                    Progress::Done(Err(_)) if implicit => self.end(session, false),
                    Progress::Done(Err(_)) => {
                        self.sessions[s].txn.as_mut().expect("open").failed = true;
                    }
                    Progress::Done(Ok(_)) => {}
                }
                progress
            }
        }
    }

    /// A SELECT or UPDATE inside an open, healthy transaction.
    fn access(&mut self, session: SessionId, statement: Statement) -> Progress {
        let level = statement.level().expect("row statement");
        let commit_seq = self.commit_seq;
        let txn = self.sessions[session.index()].txn.as_mut().expect("open");
        txn.last_level = Some(level);
        let isolation = txn.isolation;
        let snapshot = match isolation {
            Isolation::ReadCommitted => commit_seq,
            _ => *txn.snapshot.get_or_insert(commit_seq),
        };
        let check_nonnegative = self.config.check_nonnegative;
        let row = &mut self.rows[level.index()];
        let own = row.holder == Some(session);
        let visible = match (own, row.pending) {
            (true, Some(pending)) => pending,
            _ => row.visible_at(snapshot),
        };

        let update = match statement {
            Statement::Select {
                lock: Lock::None, ..
            } => return Progress::Done(Ok(Reply::Select(Some(visible)))),
            Statement::Update(u) => {
                // The WHERE clause is evaluated on the version the snapshot
                // sees; a row that does not match is skipped without waiting.
                if !u.guard.matches(&visible) {
                    return Progress::Done(Ok(Reply::Update {
                        count: 0,
                        row: None,
                    }));
                }
                Some(u)
            }
            _ => None,
        };

        if let Some(holder) = row.holder.filter(|h| *h != session) {
            return Progress::Waiting { on: holder };
        }

        // The lock is free or ours. Work on the newest version.
        let current = if own {
            visible
        } else {
            let (seq, newest) = row.newest_committed();
            if seq > snapshot {
                if isolation != Isolation::ReadCommitted {
                    return Progress::Done(Err(DbError::CONCURRENT_UPDATE));
                }
                // EvalPlanQual: re-check the WHERE clause on the newest version.
                if let Some(u) = update {
                    if !u.guard.matches(&newest) {
                        return Progress::Done(Ok(Reply::Update {
                            count: 0,
                            row: None,
                        }));
                    }
                }
            }
            newest
        };

        let reply = match update {
            None => Reply::Select(Some(current)),
            Some(u) => {
                let new = u.apply(&current);
                if check_nonnegative && new.stocked < 0 {
                    return Progress::Done(Err(DbError::CHECK_VIOLATION));
                }
                row.pending = Some(new);
                Reply::Update {
                    count: 1,
                    row: Some(new),
                }
            }
        };
        if !own {
            row.holder = Some(session);
            self.sessions[session.index()]
                .txn
                .as_mut()
                .expect("open")
                .held
                .push(level);
        }
        Progress::Done(Ok(reply))
    }

    fn open(&mut self, session: SessionId, isolation: Isolation, implicit: bool) {
        self.sessions[session.index()].txn = Some(Txn {
            isolation,
            implicit,
            snapshot: None,
            failed: false,
            held: Vec::new(),
            last_level: None,
        });
        self.open_transactions += 1;
    }

    fn end(&mut self, session: SessionId, commit: bool) {
        let txn = self.sessions[session.index()]
            .txn
            .take()
            .expect("a transaction to end");
        self.open_transactions -= 1;
        let wrote = commit
            && txn
                .held
                .iter()
                .any(|l| self.rows[l.index()].pending.is_some());
        if wrote {
            self.commit_seq += 1;
        }
        for level in &txn.held {
            let row = &mut self.rows[level.index()];
            if let Some(new) = row.pending.take() {
                if commit {
                    row.history.push((self.commit_seq, new));
                }
            }
            row.holder = None;
        }
        if !txn.held.is_empty() {
            self.released.push(session);
        }
    }
}
