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
//! A tuple lock belongs to one version of the row (PostgreSQL locks a tuple
//! by its location, and an update writes a new tuple): a newcomer that finds
//! the newest version locked takes *that* version's tuple lock, even while
//! an older version's tuple lock is held by a waiter from before the update.
//!
//! When the locker ends, everyone waiting on its transaction id wakes: the
//! tuple lock's holder and the chain followers. On the server they race for
//! the row; the model lets them go in the order they began waiting (the
//! order the lock manager wakes them, and the usual winner). Each re-runs:
//!
//! - a FOR UPDATE waiter whose version the locker replaced walks to the
//!   next version (heapam.c `heap_lock_updated_tuple`, as `ExecLockRows`
//!   asks with TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS); if that is the
//!   newest and someone has locked it meanwhile, it waits for that
//!   transaction *still holding the old version's tuple lock*, so the
//!   waiters queued behind it stay queued, for it;
//! - otherwise the waiter lets its tuple lock go once its statement is done
//!   or moves on to a newer version (`heap_lock_tuple` and `heap_update`
//!   release it on the way out), or keeps it while it waits again for a new
//!   locker of the same version (`goto l3`).
//!
//! A released tuple lock goes to the first waiter queued on it, which
//! re-runs; the ones behind it go on waiting, now for it: their wait is not
//! a new one (no new deadlock_timeout), as in the lock manager. The same
//! hand-over happens when the tuple lock's holder stops waiting (deadlock,
//! lock_timeout). Advisory locks are plain lock-manager queues.

use super::deadlock;
use super::ssi::{SxactId, Target};
use super::{Event, Held, Progress, SessionId, Statement, Store};
use crate::error::DbError;
use crate::statement::{Isolation, LevelId, Lock, Reply};

/// What a parked statement waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Wait {
    /// Holds `version`'s tuple lock and waits for the locker's transaction
    /// (of that version, or of the next one: see the module comment).
    Xact { version: u32 },
    /// Queued on `version`'s tuple lock, behind its holder.
    Tuple { version: u32 },
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
    /// A transaction ended (or aborted): the locks it held.
    Locks(Vec<Held>),
    /// A row version's tuple lock was let go: (row, version).
    TupleLock(LevelId, u32),
}

/// A waiter whose lock was granted, to re-run in its turn.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grant {
    since: u64,
    session: SessionId,
}

impl Store {
    /// SELECT ... FOR UPDATE [NOWAIT] and UPDATE: lock the row, or wait (as
    /// the first waiter, holding the tuple lock; queued on the tuple lock;
    /// or, following an update chain, on the writer's transaction id). A
    /// statement that is done lets go of the tuple lock it held.
    pub(super) fn lock_row(
        &mut self,
        session: SessionId,
        statement: Statement,
        isolation: Isolation,
        snapshot: u64,
        sxact: Option<SxactId>,
    ) -> Progress {
        let progress = self.try_lock_row(session, statement, isolation, snapshot, sxact);
        if let Progress::Done(_) = progress {
            self.release_tuple_lock(session, statement.level().expect("row statement"));
        }
        progress
    }

    fn try_lock_row(
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
        let other = row.holder.filter(|h| *h != session);
        // A waiter re-run with a tuple lock (see the module comment).
        if let Some(version) = row.tuple_lock_of(session) {
            if let (Some(locker), Statement::Select { .. }) = (other, statement) {
                if version + 1 == row.version() {
                    // FOR UPDATE walking to the next version, which someone
                    // locked meanwhile: waits for them, keeping this lock.
                    return Progress::Waiting { on: locker };
                }
            }
            if version != row.version() {
                self.release_tuple_lock(session, level);
            }
        }
        let row = &self.rows[level.index()];
        // REPEATABLE READ / SERIALIZABLE: if the version this snapshot sees
        // was already replaced by a committed transaction, fail at once, even
        // if a newer uncommitted version would otherwise make us wait.
        if !own && isolation != Isolation::ReadCommitted && row.newest_committed().0 > snapshot {
            return Progress::Done(Err(DbError::CONCURRENT_UPDATE));
        }
        if let Some(holder) = other {
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
            // without the tuple lock (see `locks`). A waiter that already
            // holds the newest version's tuple lock waits with it.
            let version = row.version();
            let held = row.tuple_lock_of(session) == Some(version);
            if !held && row.newest_committed().0 > snapshot && row.pending.is_some() {
                return Progress::Waiting { on: holder };
            }
            // The first waiter takes the newest version's tuple lock and
            // waits for the holder's transaction; later ones queue on it.
            return match row.tuple_lock_holder(version) {
                Some(first) if first != session => Progress::Waiting { on: first },
                Some(_) => Progress::Waiting { on: holder },
                None => {
                    self.rows[level.index()]
                        .tuple_locks
                        .push((version, session));
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

    /// Whether `parked` is queued on `level`'s `version` tuple lock.
    fn queued_on(parked: &super::Parked, level: LevelId, version: u32) -> bool {
        parked.kind == Wait::Tuple { version } && parked.statement.level() == Some(level)
    }

    /// Lets go of the tuple lock `session` holds on `level`, if any; its
    /// queue moves on in `wake_waiters`.
    pub(super) fn release_tuple_lock(&mut self, session: SessionId, level: LevelId) {
        let locks = &mut self.rows[level.index()].tuple_locks;
        if let Some(i) = locks.iter().position(|(_, s)| *s == session) {
            let (version, _) = locks.swap_remove(i);
            self.released.push(Released::TupleLock(level, version));
        }
    }

    /// Re-runs the waiters that released locks let go on, until nothing is
    /// left (a re-run may release more: an autocommit statement ends its
    /// transaction, a statement done lets go of its tuple lock).
    ///
    /// Every waiter a release lets go is granted its lock first; then the
    /// granted waiter that began waiting first re-runs, what its re-run
    /// releases is granted, and again. On the server the granted waiters
    /// run at once and race; the PostgreSQL driver lets them go one at a
    /// time in this same order (`postgres::pause` in the adapters), which
    /// is also the usual winner of the race.
    pub(super) fn wake_waiters(&mut self, out: &mut Vec<Event>) {
        // The store's own list, empty between calls: one allocation per
        // store rather than one per statement that lets a waiter go.
        let mut granted = std::mem::take(&mut self.granted);
        loop {
            while let Some(released) = self.released.pop() {
                match released {
                    Released::TupleLock(level, version) => {
                        self.hand_over_tuple_lock(level, version, &mut granted)
                    }
                    Released::Locks(held) => {
                        self.grant(&held, &mut granted);
                        self.recycle_held(held);
                    }
                }
            }
            let Some(next) =
                (0..granted.len()).min_by_key(|&i| (granted[i].since, granted[i].session))
            else {
                self.granted = granted;
                return;
            };
            let grant = granted.swap_remove(next);
            self.rerun(grant, out);
        }
    }

    /// A transaction holding `held` ended: everyone waiting for it directly
    /// is granted (each row's waiters on its transaction id: the tuple
    /// locks' holders and the chain followers; and the advisory waiters).
    fn grant(&mut self, held: &[Held], granted: &mut Vec<Grant>) {
        for (i, s) in self.sessions.iter().enumerate() {
            let Some(p) = s.parked.as_ref() else {
                continue;
            };
            let direct = match (p.kind, p.statement) {
                (Wait::Xact { .. } | Wait::Chain, statement) => statement
                    .level()
                    .is_some_and(|level| held.contains(&Held::Row(level))),
                (Wait::Advisory, Statement::AdvisoryLock { key }) => {
                    held.contains(&Held::Advisory(key))
                }
                _ => false,
            };
            if direct {
                granted.push(Grant {
                    since: p.since,
                    session: SessionId(i as u32),
                });
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

    /// `level`'s `version` tuple lock was let go: the first waiter queued on
    /// it takes it and re-runs; the ones behind it go on waiting, now for
    /// it, without a new wait.
    fn hand_over_tuple_lock(&mut self, level: LevelId, version: u32, granted: &mut Vec<Grant>) {
        let first = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let p = s.parked.as_ref()?;
                Self::queued_on(p, level, version).then_some((p.since, SessionId(i as u32)))
            })
            .min();
        let Some((since, first)) = first else {
            return;
        };
        self.rows[level.index()].tuple_locks.push((version, first));
        for (i, s) in self.sessions.iter_mut().enumerate() {
            match s.parked.as_mut() {
                Some(p) if i != first.index() && Self::queued_on(p, level, version) => p.on = first,
                _ => {}
            }
        }
        granted.push(Grant {
            since,
            session: first,
        });
    }

    /// Pushes onto `out` what `session`'s parked statement is waiting for:
    /// its hard edge (the holder of the lock it waits for), then its soft
    /// edges (conflicting waiters ahead of it in the same queue). False if
    /// it does not wait.
    fn wait_edges(&self, session: SessionId, out: &mut Vec<SessionId>) -> bool {
        let Some(parked) = self.sessions[session.index()].parked.as_ref() else {
            return false;
        };
        out.push(parked.on);
        let mut ahead = |same_queue: &dyn Fn(&super::Parked) -> bool| {
            out.extend(self.sessions.iter().enumerate().filter_map(|(i, s)| {
                let p = s.parked.as_ref()?;
                (p.since < parked.since && same_queue(p)).then_some(SessionId(i as u32))
            }))
        };
        match (parked.kind, parked.statement) {
            (Wait::Xact { .. } | Wait::Chain, _) => {}
            (Wait::Tuple { version }, statement) => {
                let level = statement.level().expect("a row statement");
                ahead(&|p| Self::queued_on(p, level, version))
            }
            (Wait::Advisory, statement) => ahead(&|p| p.statement == statement),
        }
        true
    }

    /// PostgreSQL's check when a waiter's deadlock_timeout runs out (see
    /// `deadlock`): if it is on a cycle of the waits-for graph, its statement
    /// fails with 40P01 (and its transaction aborts, releasing its locks).
    /// Returns whether it did.
    pub fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) -> bool {
        let mut scratch = std::mem::take(&mut self.cycle_scratch);
        let deadlocked = self.on_cycle(session, &mut scratch);
        self.cycle_scratch = scratch;
        if deadlocked {
            self.cancel_wait(session, DbError::DEADLOCK, out);
        }
        deadlocked
    }

    /// Whether `session` waits in a cycle of waiters (hard and soft edges):
    /// the deadlock its own check would report.
    pub fn in_deadlock(&self, session: SessionId) -> bool {
        self.on_cycle(session, &mut deadlock::Scratch::default())
    }

    fn on_cycle(&self, session: SessionId, scratch: &mut deadlock::Scratch) -> bool {
        self.is_waiting(session)
            && deadlock::find_lock_cycle(session, self.sessions.len(), scratch, |s, out| {
                self.wait_edges(s, out)
            })
    }
}

#[cfg(test)]
mod tests;
