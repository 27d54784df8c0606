//! Row locks and advisory locks: taking them, who waits for whom, who is woken when a
//! lock is released, and the waits-for graph the deadlock check reads.
//!
//! A row lock is PostgreSQL's two-level lock (src/backend/access/heap/
//! README.tuplock, heapam.c `heap_lock_tuple`, `heap_update`,
//! `heap_acquire_tuplock`):
//!
//! - the *locker* (the tuple's xmax): the transaction that locked or updated
//!   the row, until it ends;
//! - the heavyweight *tuple lock*, held only by a statement that waits for
//!   the locker. The first statement to find the row locked takes the tuple
//!   lock and waits on the locker's transaction id ([`Wait::Xact`]); later
//!   ones queue on the tuple lock ([`Wait::Tuple`]), i.e. wait for the first
//!   waiter, which is whom `pg_blocking_pids` names.
//!
//! A READ COMMITTED statement whose version was replaced by a committed
//! update follows the update chain (EvalPlanQual); if the newest version was
//! written by a transaction still open it waits for that transaction's id
//! *without* the tuple lock ([`Wait::Chain`]); if the newest version is only
//! locked, it goes through the tuple lock as above.
//!
//! When the locker ends, everyone waiting on its transaction id wakes: the
//! tuple lock's holder and the chain followers. On the server they race for
//! the row; the model lets them go in the order they began waiting (the
//! order the lock manager wakes them, and the usual winner). The tuple lock
//! is then free. Then:
//!
//! - if the locker committed a new version, every queued waiter gets the old
//!   version's tuple lock in turn, sees the update, and re-runs against the
//!   newest version: each starts a new wait there (or fails at REPEATABLE
//!   READ / SERIALIZABLE);
//! - otherwise the next queued waiter gets the tuple lock and re-runs (it
//!   waits on the new locker's transaction id, a new wait); the ones behind
//!   it go on waiting on the tuple lock, now for it: their wait is not a new
//!   one (no new deadlock_timeout), as in the lock manager.
//!
//! The same hand-over happens when the tuple lock's holder stops waiting
//! (deadlock, lock_timeout). Advisory locks are plain lock-manager queues.

use super::deadlock;
use super::ssi::{SxactId, Target};
use super::{Event, Held, Progress, SessionId, Statement, Store};
use crate::error::DbError;
use crate::statement::{Isolation, LevelId, Lock, Reply};

/// What a parked statement waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Wait {
    /// Holds the row's tuple lock and waits for the locker's transaction.
    Xact,
    /// Queued on the row's tuple lock, behind its holder.
    Tuple,
    /// READ COMMITTED, following the update chain from a version a
    /// committed transaction replaced: the newest version was written by a
    /// transaction still open, and PostgreSQL waits for its transaction id
    /// without the tuple lock (heapam_handler.c `heapam_tuple_lock`, the
    /// `SnapshotDirty.xmax` wait of TUPLE_LOCK_FLAG_FIND_LAST_VERSION).
    Chain,
    /// Queued on an advisory lock.
    Advisory,
}

/// Locks a transaction let go of, whose waiters must be looked at.
#[derive(Clone, Debug, Hash)]
pub(super) enum Released {
    /// A transaction ended (or aborted): its rows, each with whether it
    /// committed a new version of it, and its advisory keys.
    Locks {
        rows: Vec<(LevelId, bool)>,
        keys: Vec<u32>,
    },
    /// The tuple lock's holder stopped waiting without taking the row.
    TupleLock(LevelId),
}

/// A waiter whose lock was granted, to re-run in its turn.
#[derive(Clone, Copy)]
struct Grant {
    since: u64,
    session: SessionId,
    /// The row whose tuple lock it held (or was handed), and whether the
    /// ended locker updated it: the queue behind it moves on after it re-runs.
    then: Option<(LevelId, bool)>,
}

impl Store {
    /// SELECT ... FOR UPDATE [NOWAIT] and UPDATE: lock the row, or wait (as
    /// the first waiter, holding the tuple lock; queued on the tuple lock;
    /// or, following an update chain, on the writer's transaction id).
    pub(super) fn lock_row(
        &mut self,
        session: SessionId,
        statement: Statement,
        isolation: Isolation,
        snapshot: u64,
        sxact: Option<SxactId>,
    ) -> Progress {
        let level = statement.level().expect("row statement");
        let visible = self.visible(session, level, snapshot);
        self.ssi_read(sxact, Target::Row(level));
        let update = match statement {
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
        let row = &self.rows[level.index()];
        let own = row.holder == Some(session);
        // REPEATABLE READ / SERIALIZABLE: if the version this snapshot sees
        // was already replaced by a committed transaction, fail at once, even
        // if a newer uncommitted version would otherwise make us wait.
        if !own && isolation != Isolation::ReadCommitted && row.newest_committed().0 > snapshot {
            return Progress::Done(Err(DbError::CONCURRENT_UPDATE));
        }
        if let Some(holder) = row.holder.filter(|h| *h != session) {
            if statement
                == (Statement::Select {
                    level,
                    lock: Lock::ForUpdateNowait,
                })
            {
                return Progress::Done(Err(DbError::NOWAIT));
            }
            // READ COMMITTED following the update chain (the version this
            // statement started from was replaced): a newest version written
            // by an open transaction is waited for on its transaction id,
            // without the tuple lock (see `locks`).
            if row.newest_committed().0 > snapshot && row.pending.is_some() {
                return Progress::Waiting { on: holder };
            }
            // The first waiter takes the tuple lock and waits for the
            // holder's transaction; later ones queue on the tuple lock.
            let row = &mut self.rows[level.index()];
            return match row.tuple_lock {
                Some(first) if first != session => Progress::Waiting { on: first },
                _ => {
                    row.tuple_lock = Some(session);
                    Progress::Waiting { on: holder }
                }
            };
        }

        // The lock is free or ours. Work on the newest version.
        let current = if own {
            visible
        } else {
            let (seq, newest) = row.newest_committed();
            if seq > snapshot {
                // READ COMMITTED (the other levels failed above).
                // EvalPlanQual: lock the newest version, then re-check the
                // WHERE clause on it. A row that no longer matches stays
                // locked until the transaction ends, as in PostgreSQL.
                if let Some(u) = update {
                    if !u.guard.matches(&newest) {
                        self.rows[level.index()].holder = Some(session);
                        self.held_by(session).push(Held::Row(level));
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
                if self.config.check_nonnegative && new.stocked < 0 {
                    return Progress::Done(Err(DbError::CHECK_VIOLATION));
                }
                self.rows[level.index()].pending = Some(new);
                self.ssi_write(sxact, Target::Row(level));
                Reply::Update {
                    count: 1,
                    row: Some(new),
                }
            }
        };
        if !own {
            self.rows[level.index()].holder = Some(session);
            self.held_by(session).push(Held::Row(level));
        }
        Progress::Done(Ok(reply))
    }

    pub(super) fn advisory_lock(&mut self, session: SessionId, key: u32) -> Progress {
        match self.advisory.get(&key) {
            Some(&holder) if holder != session => Progress::Waiting { on: holder },
            Some(_) => Progress::Done(Ok(Reply::Locked)),
            None => {
                self.advisory.insert(key, session);
                self.held_by(session).push(Held::Advisory(key));
                Progress::Done(Ok(Reply::Locked))
            }
        }
    }

    /// Sessions parked on `level`'s row with `kind`, in queue order.
    fn queued(&self, level: LevelId, kind: Wait) -> Vec<(u64, SessionId)> {
        let mut queue: Vec<(u64, SessionId)> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let p = s.parked.as_ref()?;
                (p.kind == kind && p.statement.level() == Some(level))
                    .then_some((p.since, SessionId(i as u32)))
            })
            .collect();
        queue.sort_unstable();
        queue
    }

    /// Re-runs the waiters that released locks let go on, until nothing is
    /// left (a re-run may release more: an autocommit statement ends its
    /// transaction).
    ///
    /// Every waiter a release lets go is granted its lock first; then the
    /// granted waiter that began waiting first re-runs, what its re-run
    /// releases is granted, and again. On the server the granted waiters
    /// run at once and race; the PostgreSQL driver lets them go one at a
    /// time in this same order (`postgres::pause` in the adapters), which
    /// is also the usual winner of the race.
    pub(super) fn wake_waiters(&mut self, out: &mut Vec<Event>) {
        let mut granted: Vec<Grant> = Vec::new();
        loop {
            while let Some(released) = self.released.pop() {
                match released {
                    Released::TupleLock(level) => {
                        self.hand_over_tuple_lock(level, false, &mut granted)
                    }
                    Released::Locks { rows, keys } => self.grant(&rows, &keys, &mut granted),
                }
            }
            let Some(next) =
                (0..granted.len()).min_by_key(|&i| (granted[i].since, granted[i].session))
            else {
                return;
            };
            let grant = granted.swap_remove(next);
            self.rerun(grant, out);
            if let Some((level, updated)) = grant.then {
                self.hand_over_tuple_lock(level, updated, &mut granted);
            }
        }
    }

    /// A transaction holding `rows` and advisory `keys` ended: everyone
    /// waiting for it directly is granted (each row's waiters on its
    /// transaction id: the tuple lock's holder and the chain followers; and
    /// the advisory waiters). A row's tuple lock is handed on once its holder
    /// has re-run.
    fn grant(&mut self, rows: &[(LevelId, bool)], keys: &[u32], granted: &mut Vec<Grant>) {
        for (i, s) in self.sessions.iter().enumerate() {
            let Some(p) = s.parked.as_ref() else {
                continue;
            };
            let direct = match (p.kind, p.statement) {
                (Wait::Xact | Wait::Chain, statement) => rows
                    .iter()
                    .any(|(level, _)| statement.level() == Some(*level)),
                (Wait::Advisory, Statement::AdvisoryLock { key }) => keys.contains(&key),
                _ => false,
            };
            if direct {
                let then = match (p.kind, p.statement.level()) {
                    (Wait::Xact, Some(level)) => rows.iter().copied().find(|(l, _)| *l == level),
                    _ => None,
                };
                granted.push(Grant {
                    since: p.since,
                    session: SessionId(i as u32),
                    then,
                });
            }
        }
        for &(level, updated) in rows {
            // The tuple lock's holder lets it go whatever its re-run does.
            self.rows[level.index()].tuple_lock = None;
            if !granted
                .iter()
                .any(|g| g.then.is_some_and(|(l, _)| l == level))
            {
                self.hand_over_tuple_lock(level, updated, granted);
            }
        }
    }

    /// Re-runs a granted waiter's statement (an advisory waiter whose key
    /// another waiter took first goes on waiting, for it, without starting
    /// a new wait, as in PostgreSQL's lock manager).
    fn rerun(&mut self, grant: Grant, out: &mut Vec<Event>) {
        let parked = self.sessions[grant.session.index()]
            .parked
            .as_mut()
            .expect("parked");
        if let Statement::AdvisoryLock { key } = parked.statement {
            if let Some(&holder) = self.advisory.get(&key) {
                parked.on = holder;
                return;
            }
        }
        let parked = self.sessions[grant.session.index()]
            .parked
            .take()
            .expect("parked");
        self.run(grant.session, parked.statement, grant.since, true, out);
    }

    /// `level`'s tuple lock is free (see the module comment). `updated`: the
    /// locker that ended committed a new version, so every queued waiter is
    /// granted the old version's tuple lock in turn and re-runs against the
    /// new one (their queue order is their turn). Otherwise the first queued
    /// waiter is granted it, and the next one when that one has re-run; a
    /// waiter that finds the tuple lock taken again goes on waiting, now for
    /// its holder, without a new wait.
    fn hand_over_tuple_lock(&mut self, level: LevelId, updated: bool, granted: &mut Vec<Grant>) {
        if granted
            .iter()
            .any(|g| g.then.is_some_and(|(l, _)| l == level))
        {
            // Its holder has yet to re-run; the hand-over follows it.
            return;
        }
        let queue = self.queued(level, Wait::Tuple);
        match self.rows[level.index()].tuple_lock {
            _ if updated => granted.extend(queue.into_iter().map(|(since, session)| Grant {
                since,
                session,
                then: None,
            })),
            Some(holder) => {
                for (_, waiter) in queue {
                    self.sessions[waiter.index()]
                        .parked
                        .as_mut()
                        .expect("parked")
                        .on = holder;
                }
            }
            None => {
                if let Some(&(since, first)) = queue.first() {
                    granted.push(Grant {
                        since,
                        session: first,
                        then: Some((level, false)),
                    });
                }
            }
        }
    }

    /// What `session`'s parked statement is waiting for: its hard edge (the
    /// holder of the lock it waits for) and its soft edges (conflicting
    /// waiters ahead of it in the same queue).
    fn wait_edges(&self, session: SessionId) -> Option<(SessionId, Vec<SessionId>)> {
        let parked = self.sessions[session.index()].parked.as_ref()?;
        let ahead = |same_queue: &dyn Fn(&super::Parked) -> bool| -> Vec<SessionId> {
            self.sessions
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let p = s.parked.as_ref()?;
                    (p.since < parked.since && same_queue(p)).then_some(SessionId(i as u32))
                })
                .collect()
        };
        let soft = match (parked.kind, parked.statement) {
            (Wait::Xact | Wait::Chain, _) => Vec::new(),
            (Wait::Tuple, statement) => {
                ahead(&|p| p.kind == Wait::Tuple && p.statement.level() == statement.level())
            }
            (Wait::Advisory, statement) => ahead(&|p| p.statement == statement),
        };
        Some((parked.on, soft))
    }

    /// PostgreSQL's check when a waiter's deadlock_timeout runs out (see
    /// `deadlock`): if it is on a cycle of the waits-for graph, its statement
    /// fails with 40P01 (and its transaction aborts, releasing its locks).
    /// Returns whether it did.
    pub fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) -> bool {
        let deadlocked = self.in_deadlock(session);
        if deadlocked {
            self.cancel_wait(session, DbError::DEADLOCK, out);
        }
        deadlocked
    }

    /// Whether `session` waits in a cycle of waiters (hard and soft edges):
    /// the deadlock its own check would report.
    pub fn in_deadlock(&self, session: SessionId) -> bool {
        self.is_waiting(session)
            && deadlock::find_lock_cycle(session, self.sessions.len(), |s| self.wait_edges(s))
    }
}

#[cfg(test)]
mod tests {
    use crate::statement::{Assign, Isolation, Lock, Row, Update};
    use crate::store::{Event, Progress, SessionId, Store, StoreConfig};
    use crate::{LevelId, Statement};

    const T1: SessionId = SessionId(0);
    const T2: SessionId = SessionId(1);
    const T3: SessionId = SessionId(2);
    const T4: SessionId = SessionId(3);

    fn store(sessions: usize) -> Store {
        let row = Row {
            stocked: 5,
            reserved: 0,
            version: 0,
        };
        Store::new(&[row, row], sessions, StoreConfig::default())
    }

    fn run(store: &mut Store, s: SessionId, statement: Statement) -> Vec<Event> {
        let mut out = Vec::new();
        store.execute(s, statement, &mut out);
        out
    }

    fn decrement(level: u32) -> Statement {
        Statement::Update(Update {
            stocked: Assign::Add(-1),
            ..Update::new(LevelId(level))
        })
    }

    fn for_update(level: u32) -> Statement {
        Statement::Select {
            level: LevelId(level),
            lock: Lock::ForUpdate,
        }
    }

    fn begin_all(store: &mut Store, n: u32) {
        for s in 0..n {
            run(
                store,
                SessionId(s),
                Statement::Begin(Isolation::ReadCommitted),
            );
        }
    }

    /// The starts of waits (and re-waits) among `events`, as (session, on).
    fn waits(events: &[Event]) -> Vec<(SessionId, SessionId)> {
        events
            .iter()
            .filter_map(|e| match e.progress {
                Progress::Waiting { on } => Some((e.session, on)),
                Progress::Done(_) => None,
            })
            .collect()
    }

    #[test]
    fn later_waiters_queue_behind_the_first_waiter() {
        let mut s = store(4);
        begin_all(&mut s, 4);
        run(&mut s, T1, for_update(0));
        assert_eq!(waits(&run(&mut s, T2, for_update(0))), [(T2, T1)]);
        assert_eq!(waits(&run(&mut s, T3, for_update(0))), [(T3, T2)]);
        assert_eq!(waits(&run(&mut s, T4, for_update(0))), [(T4, T2)]);
        // T1 only locked the row: T2 takes it, T3 gets the tuple lock and
        // waits (a new wait) for T2's transaction; T4 goes on waiting, now for T3.
        let out = run(&mut s, T1, Statement::Commit);
        assert_eq!(waits(&out), [(T3, T2)]);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(s.waits_for(T4), Some(T3));
        assert_eq!(s.row(LevelId(0)).locked_by, Some((T2, None)));
    }

    #[test]
    fn after_an_update_the_waiters_follow_the_chain() {
        let mut s = store(4);
        begin_all(&mut s, 4);
        run(&mut s, T1, decrement(0));
        run(&mut s, T2, decrement(0));
        run(&mut s, T3, decrement(0));
        run(&mut s, T4, decrement(0));
        // T1 committed a new version: T2 updates it; T3 and T4 follow the
        // update chain to T2's uncommitted version and wait anew, each for
        // T2's transaction id, without the tuple lock.
        let out = run(&mut s, T1, Statement::Commit);
        assert_eq!(waits(&out), [(T3, T2), (T4, T2)]);
        assert_eq!(s.rows[0].tuple_lock, None);
        // T2 commits: both wake; T3 (waiting longer) updates first.
        let out = run(&mut s, T2, Statement::Commit);
        assert_eq!(waits(&out), [(T4, T3)]);
        assert_eq!(s.committed_rows()[0].stocked, 3);
    }

    #[test]
    fn a_cancelled_first_waiter_hands_the_tuple_lock_on() {
        let mut s = store(4);
        begin_all(&mut s, 4);
        run(&mut s, T1, for_update(0));
        run(&mut s, T2, for_update(0));
        run(&mut s, T3, for_update(0));
        run(&mut s, T4, for_update(0));
        let mut out = Vec::new();
        s.cancel_wait(T2, crate::DbError::LOCK_TIMEOUT, &mut out);
        assert_eq!(waits(&out), [(T3, T1)]);
        assert_eq!(s.waits_for(T4), Some(T3));
    }

    /// Seed 8 of `diff --strategy row-lock --items 2 --orders 3 --stock 2`:
    /// T1 waits for T3 on row 1, T2 queues behind T1, T3 waits for T2 on
    /// row 2: a three-order cycle. T1's check aborts T1; T2 then takes the
    /// tuple lock and waits for T3, whose check aborts T3; T2 sells.
    #[test]
    fn seed_8_shape_aborts_the_first_waiter_then_the_holder() {
        let mut s = store(3);
        begin_all(&mut s, 3);
        run(&mut s, T3, for_update(0));
        run(&mut s, T2, for_update(1));
        assert_eq!(waits(&run(&mut s, T1, for_update(0))), [(T1, T3)]);
        assert_eq!(waits(&run(&mut s, T2, for_update(0))), [(T2, T1)]);
        assert_eq!(waits(&run(&mut s, T3, for_update(1))), [(T3, T2)]);
        assert!(s.in_deadlock(T1) && s.in_deadlock(T2) && s.in_deadlock(T3));
        let mut out = Vec::new();
        assert!(s.deadlock_check(T1, &mut out));
        assert_eq!(waits(&out), [(T2, T3)]);
        out.clear();
        assert!(s.deadlock_check(T3, &mut out));
        assert!(matches!(out[1].progress, Progress::Done(Ok(_))), "{out:?}");
        assert_eq!(out[1].session, T2);
    }

    #[test]
    fn a_waiter_outside_the_cycle_is_not_its_victim() {
        let mut s = store(4);
        begin_all(&mut s, 4);
        run(&mut s, T1, for_update(0));
        run(&mut s, T2, for_update(1));
        run(&mut s, T1, for_update(1));
        run(&mut s, T2, for_update(0));
        // T3 queues on row 2's tuple lock behind T1, which is in the cycle.
        run(&mut s, T3, for_update(1));
        assert!(!s.in_deadlock(T3));
        let mut out = Vec::new();
        assert!(!s.deadlock_check(T3, &mut out));
        assert!(out.is_empty());
    }
}
