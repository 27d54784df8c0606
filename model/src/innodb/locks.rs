//! InnoDB's record locks, as far as the inventory statements exercise them
//! (storage/innobase/lock/lock0lock.cc in MariaDB 10.11).
//!
//! A lock is a (transaction, record, mode, kind) entry in one queue, in the
//! order it was requested; granted and waiting entries share the queue, as
//! in InnoDB's lock hash. The records are the `inventory_level` rows (point
//! lookups by primary key: record-only locks, LOCK_REC_NOT_GAP), the
//! `reservation` index records and its supremum (the availability SUM scans
//! them under SERIALIZABLE: next-key and gap locks; an INSERT asks for an
//! insert intention lock on the record after its position), and advisory
//! keys (a plain exclusive lock until the transaction ends).
//!
//! Conflicts follow `lock_rec_has_to_wait()`: S is compatible with S; a
//! gap-only lock (and any lock on the supremum) never waits and never makes a
//! record lock wait; an insert intention waits for any gap-holding lock of
//! another transaction and nobody waits for it. A new request waits for
//! every conflicting entry already in the queue, waiting or granted
//! (`lock_rec_other_has_conflicting()`), so it cannot overtake earlier
//! waiters; a waiting entry is granted once no entry ahead of it conflicts
//! (`lock_rec_has_to_wait_in_queue()`).
//!
//! Deadlocks are looked for when a wait begins, as `lock_wait()` calls
//! `Deadlock::check_and_resolve()`: each waiter has one edge, to the owner
//! of the first conflicting entry ahead of it (`trx->lock.wait_trx`), and a
//! cycle through the new waiter is a deadlock. `Deadlock::report()` rolls
//! back the lightest transaction of the cycle, by TRX_WEIGHT (trx0trx.h: rows
//! changed, i.e. undo records, plus locks held). The reference saw the
//! transaction whose request closed the cycle chosen on equal weights, and
//! the lighter one chosen even when it did not close it (f-weight1).

use super::SessionId;
use crate::statement::LevelId;

/// A lockable record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Target {
    Level(LevelId),
    /// A `reservation` index record, by its insertion number.
    Reservation(u64),
    /// The supremum pseudo-record of the `reservation` index: the gap after its last record.
    Supremum,
    Advisory(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Mode {
    S,
    X,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    /// LOCK_REC_NOT_GAP: the record only.
    Record,
    /// LOCK_ORDINARY: the record and the gap before it.
    NextKey,
    /// LOCK_GAP: the gap before the record only.
    Gap,
    /// LOCK_INSERT_INTENTION: a gap lock asked for by an INSERT.
    InsertIntention,
}

impl Kind {
    fn has_gap(self) -> bool {
        matches!(self, Kind::NextKey | Kind::Gap)
    }
    fn has_record(self) -> bool {
        matches!(self, Kind::Record | Kind::NextKey)
    }
}

#[derive(Clone, Copy, Debug, Hash)]
pub(super) struct Entry {
    pub session: SessionId,
    pub target: Target,
    pub mode: Mode,
    pub kind: Kind,
    pub granted: bool,
    /// The statement that asked for it (READ COMMITTED lets go of the locks
    /// an UPDATE took on rows that did not match).
    pub stmt: u64,
}

/// `lock_rec_has_to_wait()`: must a request (mode, kind) wait for `other`?
fn has_to_wait(mode: Mode, kind: Kind, other: &Entry) -> bool {
    if mode == Mode::S && other.mode == Mode::S {
        return false;
    }
    match kind {
        Kind::InsertIntention => other.kind.has_gap(),
        _ if other.kind == Kind::InsertIntention => false,
        _ => kind.has_record() && other.kind.has_record(),
    }
}

/// Does a granted entry already give what (mode, kind) asks for (`lock_rec_has_expl()`)?
fn covers(have: &Entry, mode: Mode, kind: Kind) -> bool {
    let strong_enough = have.mode == Mode::X || mode == Mode::S;
    have.granted
        && match kind {
            Kind::Record => strong_enough && have.kind.has_record(),
            Kind::NextKey => strong_enough && have.kind == Kind::NextKey,
            // Gap locks of either mode are equivalent (they only stop inserts).
            Kind::Gap => have.kind.has_gap(),
            Kind::InsertIntention => have.kind == Kind::InsertIntention,
        }
}

/// Every record lock, granted or waiting, in request order.
#[derive(Clone, Debug, Default)]
pub(super) struct Locks {
    entries: Vec<Entry>,
}

impl Locks {
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Asks for a lock: `true` if `session` holds it now (it already did,
    /// or nothing conflicts), `false` if it was queued to wait.
    pub fn request(
        &mut self,
        session: SessionId,
        target: Target,
        mode: Mode,
        kind: Kind,
        stmt: u64,
    ) -> bool {
        let mine = |e: &&Entry| e.session == session && e.target == target;
        if self
            .entries
            .iter()
            .filter(mine)
            .any(|e| covers(e, mode, kind))
        {
            return true;
        }
        let granted = !self
            .entries
            .iter()
            .any(|e| e.session != session && e.target == target && has_to_wait(mode, kind, e));
        self.entries.push(Entry {
            session,
            target,
            mode,
            kind,
            granted,
            stmt,
        });
        granted
    }

    /// The waiting entry of `session` (a session waits for one lock at a time).
    fn waiting_index(&self, session: SessionId) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.session == session && !e.granted)
    }

    /// Whom `session` waits for: the owner of the first conflicting entry
    /// ahead of its waiting one (InnoDB's `wait_trx`).
    pub fn blocker(&self, session: SessionId) -> Option<SessionId> {
        let i = self.waiting_index(session)?;
        self.blocker_of(i)
    }

    fn blocker_of(&self, i: usize) -> Option<SessionId> {
        let w = &self.entries[i];
        self.entries[..i]
            .iter()
            .find(|e| {
                e.session != w.session && e.target == w.target && has_to_wait(w.mode, w.kind, e)
            })
            .map(|e| e.session)
    }

    /// Grants `session`'s waiting entry if nothing ahead conflicts any more.
    pub fn try_grant(&mut self, session: SessionId) -> bool {
        match self.waiting_index(session) {
            Some(i) if self.blocker_of(i).is_none() => {
                self.entries[i].granted = true;
                true
            }
            _ => false,
        }
    }

    /// The first waiting entry (in queue order) that can be granted: whose
    /// statement runs next. Grants it.
    pub fn grant_next(&mut self) -> Option<SessionId> {
        let i = (0..self.entries.len())
            .find(|&i| !self.entries[i].granted && self.blocker_of(i).is_none())?;
        self.entries[i].granted = true;
        Some(self.entries[i].session)
    }

    /// Sessions with a waiting entry, in queue order.
    pub fn waiters(&self) -> Vec<SessionId> {
        self.entries
            .iter()
            .filter(|e| !e.granted)
            .map(|e| e.session)
            .collect()
    }

    /// Drops `session`'s waiting entry (its statement gave up).
    pub fn cancel_waiting(&mut self, session: SessionId) {
        if let Some(i) = self.waiting_index(session) {
            self.entries.remove(i);
        }
    }

    /// Drops every lock of `session` (its transaction ended).
    pub fn release_all(&mut self, session: SessionId) {
        self.entries.retain(|e| e.session != session);
    }

    /// Drops `session`'s lock on `target` if statement `stmt` took it and
    /// nothing earlier did (`row_unlock_for_mysql()` at READ COMMITTED).
    pub fn release_taken_by(&mut self, session: SessionId, target: Target, stmt: u64) {
        let mine = |e: &Entry| e.session == session && e.target == target;
        if self
            .entries
            .iter()
            .filter(|e| mine(e))
            .all(|e| e.stmt == stmt)
        {
            self.entries.retain(|e| !mine(e));
        }
    }

    /// A deleted index record's locks move to the gap before its successor
    /// (`lock_rec_inherit_to_gap()`), so a rolled-back insert keeps the
    /// range it sat in locked.
    pub fn inherit_to_gap(&mut self, from: Target, to: Target) {
        for e in self.entries.iter_mut().filter(|e| e.target == from) {
            e.target = to;
            if e.kind != Kind::InsertIntention {
                e.kind = Kind::Gap;
            }
        }
    }

    pub fn granted_count(&self, session: SessionId) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.session == session && e.granted)
            .count() as u64
    }

    /// The holder of a granted exclusive lock on `target`.
    pub fn exclusive_holder(&self, target: Target) -> Option<SessionId> {
        self.entries
            .iter()
            .find(|e| e.target == target && e.granted && e.mode == Mode::X)
            .map(|e| e.session)
    }

    /// `Deadlock::find_cycle()`: the sessions on the cycle of wait edges
    /// through `start`, starting with `start`, if there is one.
    pub fn cycle_through(&self, start: SessionId, sessions: usize) -> Option<Vec<SessionId>> {
        let mut path = vec![start];
        let mut at = start;
        for _ in 0..sessions {
            at = self.blocker(at)?;
            if at == start {
                return Some(path);
            }
            if path.contains(&at) {
                return None; // a cycle that does not pass through `start`
            }
            path.push(at);
        }
        None
    }
}
