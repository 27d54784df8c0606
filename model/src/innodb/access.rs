//! What each statement reads, locks and writes under InnoDB.
//!
//! A statement that must wait for a lock stops ([`Halt::Wait`]) with its
//! request queued; when the request is granted the whole statement runs
//! again from the start, and the locks it already holds are granted to it
//! at once (`lock_rec_has_expl()`), so it goes on where it stopped. That is
//! also how InnoDB goes on after a lock wait: `row_search_mvcc()` and
//! `row_upd_clust_step()` re-read the record once the lock is theirs, so
//! the WHERE clause is evaluated on the newest committed version.

use super::locks::{Kind, Mode, Target};
use super::{InnoDbStore, Reservation};
use crate::error::DbError;
use crate::event::SessionId;
use crate::statement::{Isolation, LevelId, Lock, Reply, Row, Statement};

/// Why a statement stopped before producing a reply.
pub(super) enum Halt {
    /// Its lock request is queued.
    Wait,
    Fail(DbError),
}

type Step<T> = Result<T, Halt>;

impl InnoDbStore {
    /// A statement other than BEGIN/COMMIT/ROLLBACK, in an open transaction.
    pub(super) fn access(
        &mut self,
        session: SessionId,
        statement: Statement,
        stmt: u64,
    ) -> Step<Reply> {
        let txn = self.txn(session).expect("open");
        let (isolation, implicit) = (txn.isolation, txn.implicit);
        // With innodb_snapshot_isolation a SERIALIZABLE transaction opens its
        // read view at its first statement that touches a table, whatever
        // the statement (reference, rv1-rv3: a FOR UPDATE or UPDATE of
        // another row first makes a later UPDATE fail with 1020).
        if self.config.snapshot_isolation && isolation == Isolation::Serializable && !implicit {
            self.open_view(session);
        }
        // SERIALIZABLE: a plain SELECT inside a transaction is
        // LOCK IN SHARE MODE (ha_innobase::store_lock); in autocommit mode it
        // stays a consistent read (reference: ser-autocommit).
        let shared_reads = isolation == Isolation::Serializable && !implicit;
        match statement {
            Statement::Select { level, lock } => {
                let mode = match lock {
                    Lock::None if !shared_reads => {
                        return Ok(Reply::Select(Some(self.consistent_row(session, level))));
                    }
                    Lock::None => Mode::S,
                    Lock::ForUpdate | Lock::ForUpdateNowait => Mode::X,
                };
                let nowait = lock == Lock::ForUpdateNowait;
                self.acquire(
                    session,
                    Target::Level(level),
                    mode,
                    Kind::Record,
                    stmt,
                    nowait,
                )?;
                self.check_record_changed(session, level)?;
                Ok(Reply::Select(Some(self.current_row(session, level))))
            }
            Statement::Update(update) => {
                let target = Target::Level(update.level);
                self.acquire(session, target, Mode::X, Kind::Record, stmt, false)?;
                // 1020 comes before the WHERE clause (reference e3, RR+SI:
                // even an UPDATE that would match nothing fails).
                self.check_record_changed(session, update.level)?;
                let current = self.current_row(session, update.level);
                if !update.guard.matches(&current) {
                    if isolation == Isolation::ReadCommitted {
                        // READ COMMITTED lets go of a row that did not match
                        // (ha_innobase::unlock_row); other levels keep it.
                        self.locks.release_taken_by(session, target, stmt);
                    }
                    return Ok(Reply::Update {
                        count: 0,
                        row: None,
                    });
                }
                let new = update.apply(&current);
                if self.config.check_nonnegative && new.stocked < 0 {
                    // Statement rolled back; the row lock stays, as InnoDB
                    // keeps the locks of a rolled-back statement.
                    return Err(Halt::Fail(DbError::MARIADB_CHECK_CONSTRAINT));
                }
                // CLIENT_FOUND_ROWS: a matched row counts even if unchanged;
                // an unchanged row is not written (no undo record).
                if new != current {
                    self.rows[update.level.index()].pending = Some((session, new));
                    self.txn_mut(session).undo += 1;
                }
                Ok(Reply::Update {
                    count: 1,
                    row: Some(new),
                })
            }
            Statement::Available { level } if !shared_reads => {
                let stocked = self.consistent_row(session, level).stocked;
                let view = self.read_view(session);
                let reserved = self.reserved(level, |r| match r.committed {
                    Some(seq) => seq <= view,
                    None => r.creator == session,
                });
                Ok(Reply::Value(stocked - reserved))
            }
            Statement::Available { level } => self.locking_available(session, level, stmt),
            Statement::InsertReservation { level, quantity } => {
                // An insert intention lock on the record after the new one's
                // position: it waits for another transaction's gap or
                // next-key lock there (lock_rec_insert_check_and_lock).
                let next = self.successor(level);
                self.acquire(session, next, Mode::X, Kind::InsertIntention, stmt, false)?;
                let id = self.next_reservation;
                self.next_reservation += 1;
                self.reservations.push(Reservation {
                    id,
                    level,
                    quantity,
                    creator: session,
                    committed: None,
                });
                // The new record's implicit lock, made explicit.
                self.locks.request(
                    session,
                    Target::Reservation(id),
                    Mode::X,
                    Kind::Record,
                    stmt,
                );
                self.txn_mut(session).undo += 1;
                Ok(Reply::Insert)
            }
            Statement::InsertSale { order } => {
                if !self.sales.insert(order, session) {
                    return Err(Halt::Fail(DbError::MARIADB_DUPLICATE_KEY));
                }
                self.txn_mut(session).undo += 1;
                Ok(Reply::Insert)
            }
            Statement::AdvisoryLock { key } => {
                // Not MariaDB's GET_LOCK (session-scoped, with its own
                // timeout): a transaction-long exclusive lock, enough to keep
                // a strategy that uses one meaningful until it is mapped.
                self.acquire(
                    session,
                    Target::Advisory(key),
                    Mode::X,
                    Kind::Record,
                    stmt,
                    false,
                )?;
                Ok(Reply::Locked)
            }
            Statement::Begin(_) | Statement::Commit | Statement::Rollback => {
                unreachable!("handled by step")
            }
        }
    }

    /// The availability SUM as SERIALIZABLE runs it inside a transaction:
    /// a shared lock on the level row, shared next-key locks on the level's
    /// reservation index records, and a shared gap lock on the record after
    /// them (on an empty index, the supremum), so any INSERT into that range
    /// waits (row_search_mvcc with LOCK_S; reference g, g-otheritem).
    fn locking_available(&mut self, session: SessionId, level: LevelId, stmt: u64) -> Step<Reply> {
        self.acquire(
            session,
            Target::Level(level),
            Mode::S,
            Kind::Record,
            stmt,
            false,
        )?;
        self.check_record_changed(session, level)?;
        let scanned: Vec<Reservation> = self.index_order().filter(|r| r.level == level).collect();
        for r in scanned {
            let target = Target::Reservation(r.id);
            self.acquire(session, target, Mode::S, Kind::NextKey, stmt, false)?;
            let own = r.committed.is_none() && r.creator == session;
            self.check_changed_seq(session, r.committed.unwrap_or(0), own)?;
        }
        let next = self.successor(level);
        self.acquire(session, next, Mode::S, Kind::Gap, stmt, false)?;
        let stocked = self.current_row(session, level).stocked;
        let reserved = self.reserved(level, |r| r.committed.is_some() || r.creator == session);
        Ok(Reply::Value(stocked - reserved))
    }

    /// Asks for a lock; on a conflict, looks for the deadlock the wait would
    /// close and breaks it at once (`lock_wait()` calling
    /// `Deadlock::check_and_resolve()`). NOWAIT fails with 1205 instead of
    /// waiting, rolling back only the statement.
    fn acquire(
        &mut self,
        session: SessionId,
        target: Target,
        mode: Mode,
        kind: Kind,
        stmt: u64,
        nowait: bool,
    ) -> Step<()> {
        if self.locks.request(session, target, mode, kind, stmt) {
            return Ok(());
        }
        if nowait {
            self.locks.cancel_waiting(session);
            return Err(Halt::Fail(DbError::MARIADB_LOCK_WAIT_TIMEOUT));
        }
        loop {
            let Some(cycle) = self.locks.cycle_through(session, self.sessions.len()) else {
                return Err(Halt::Wait);
            };
            let victim = self.victim(&cycle, Some(session));
            if victim == session {
                self.locks.cancel_waiting(session);
                return Err(Halt::Fail(DbError::MARIADB_DEADLOCK));
            }
            self.roll_back_victim(victim);
            if self.locks.try_grant(session) {
                return Ok(());
            }
        }
    }

    /// innodb_snapshot_isolation: a current read of a row whose newest
    /// committed version the open read view does not see fails with 1020
    /// (DB_RECORD_CHANGED). Without a view, or at READ COMMITTED (whose
    /// views last one statement), nothing is checked.
    fn check_record_changed(&self, session: SessionId, level: LevelId) -> Step<()> {
        let row = &self.rows[level.index()];
        if row.pending.is_some_and(|(owner, _)| owner == session) {
            return Ok(());
        }
        self.check_changed_seq(session, row.newest_committed().0, false)
    }

    fn check_changed_seq(&self, session: SessionId, committed: u64, own: bool) -> Step<()> {
        let txn = self.txn(session).expect("open");
        let checked = self.config.snapshot_isolation && txn.isolation != Isolation::ReadCommitted;
        match txn.view {
            Some(view) if checked && !own && committed > view => {
                Err(Halt::Fail(DbError::MARIADB_RECORD_CHANGED))
            }
            _ => Ok(()),
        }
    }

    /// Opens the transaction's read view if it has none (trx_t::read_view.open).
    fn open_view(&mut self, session: SessionId) {
        let seq = self.commit_seq;
        self.txn_mut(session).view.get_or_insert(seq);
    }

    /// The view a consistent read uses: a new one for each READ COMMITTED
    /// statement; at the other levels the transaction's, opened by its first
    /// consistent read (BEGIN opens none).
    fn read_view(&mut self, session: SessionId) -> u64 {
        if self.txn(session).expect("open").isolation == Isolation::ReadCommitted {
            return self.commit_seq;
        }
        self.open_view(session);
        self.txn(session)
            .and_then(|t| t.view)
            .expect("opened above")
    }

    /// A consistent read: the transaction's own change, else the version the view sees.
    fn consistent_row(&mut self, session: SessionId, level: LevelId) -> Row {
        let view = self.read_view(session);
        let row = &self.rows[level.index()];
        match row.pending {
            Some((owner, new)) if owner == session => new,
            _ => row.visible_at(view),
        }
    }

    /// A current read, made while holding the row's lock: the transaction's
    /// own change or the newest committed version.
    fn current_row(&self, session: SessionId, level: LevelId) -> Row {
        let row = &self.rows[level.index()];
        match row.pending {
            Some((owner, new)) if owner == session => new,
            _ => row.newest_committed().1,
        }
    }

    fn reserved(&self, level: LevelId, counts: impl Fn(&Reservation) -> bool) -> i64 {
        self.reservations
            .iter()
            .filter(|r| r.level == level && counts(r))
            .map(|r| r.quantity)
            .sum()
    }

    /// The reservation index, (inventory_level_id, id) order: every record,
    /// committed or not (uncommitted ones are in the index too).
    fn index_order(&self) -> impl Iterator<Item = Reservation> {
        let mut records = self.reservations.clone();
        records.sort_by_key(|r| (r.level, r.id));
        records.into_iter()
    }

    /// The index record after every record of `level` (where a new one of
    /// `level` goes): the first of a higher level, else the supremum.
    pub(super) fn successor(&self, level: LevelId) -> Target {
        self.index_order()
            .find(|r| r.level > level)
            .map_or(Target::Supremum, |r| Target::Reservation(r.id))
    }
}
