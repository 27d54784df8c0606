//! Waiting statements: who goes on when locks are released, which
//! transaction a deadlock rolls back, and what an error rolls back.

use super::{InnoDbStore, SessionId};
use crate::error::DbError;
use crate::event::{Event, Progress};

impl InnoDbStore {
    /// Lets waiting statements whose locks are now free run, in queue order,
    /// and breaks any cycle the new waits closed, until nothing changes.
    pub(super) fn wake_waiters(&mut self, out: &mut Vec<Event>) {
        loop {
            if let Some(session) = self.locks.grant_next() {
                let parked = self.sessions[session.index()]
                    .parked
                    .take()
                    .expect("a waiting request belongs to a parked statement");
                self.run(session, parked.statement, parked.stmt, true, out);
                continue;
            }
            // A wait whose edge moved to another waiter can close a cycle too
            // (MariaDB's background `lock_sys.deadlock_check()`); the model
            // breaks it at once.
            let cycle = self
                .locks
                .waiters()
                .into_iter()
                .find_map(|s| self.locks.cycle_through(s, self.sessions.len()));
            let Some(cycle) = cycle else { return };
            let victim = self.victim(&cycle, None);
            self.roll_back_victim(victim);
            out.append(&mut self.deferred);
        }
    }

    /// `Deadlock::report()`: the lightest transaction of the cycle by
    /// TRX_WEIGHT; among equals, the one whose wait began last (it closed
    /// the cycle; `requester` is that one while its request is decided).
    pub(super) fn victim(&self, cycle: &[SessionId], requester: Option<SessionId>) -> SessionId {
        let key = |s: SessionId| {
            let txn = self.txn(s).expect("a waiter has a transaction");
            let weight = txn.undo + self.locks.granted_count(s);
            let since = match self.sessions[s.index()].parked.as_ref() {
                _ if Some(s) == requester => u64::MAX,
                Some(p) => p.since,
                None => 0,
            };
            (weight, std::cmp::Reverse(since))
        };
        *cycle
            .iter()
            .min_by_key(|s| key(**s))
            .expect("a cycle has members")
    }

    /// Rolls back a deadlock victim other than the requester; its event waits in `deferred`.
    pub(super) fn roll_back_victim(&mut self, victim: SessionId) {
        let parked = self.sessions[victim.index()]
            .parked
            .take()
            .expect("a victim other than the requester is parked");
        self.locks.cancel_waiting(victim);
        self.fail(victim, DbError::MARIADB_DEADLOCK);
        let error = Progress::Done(Err(DbError::MARIADB_DEADLOCK));
        let event = self.event(victim, parked.statement, error, true);
        self.deferred.push(event);
    }

    /// A statement failed with `error`: the whole transaction goes for 1213
    /// and 1020 (and for any error of an autocommit statement), only the
    /// statement otherwise. Its waiting request was already withdrawn.
    pub(super) fn fail(&mut self, session: SessionId, error: DbError) {
        let whole = matches!(
            error,
            DbError::MARIADB_DEADLOCK | DbError::MARIADB_RECORD_CHANGED
        ) || self.txn(session).is_some_and(|t| t.implicit);
        if whole && self.txn(session).is_some() {
            self.end(session, false);
        }
    }
}
