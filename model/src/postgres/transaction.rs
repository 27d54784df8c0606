//! Transactions: opening one (implicitly for an autocommit statement),
//! ending it (installing or discarding its writes, releasing its locks
//! for their waiters), and what an error does to it at once.

use super::{Held, Released, SessionId, Store, Txn};
use crate::statement::Isolation;

impl Store {
    /// A statement failed: an autocommit transaction ends; an explicit one
    /// aborts at once (writes discarded, locks released) and stays open,
    /// failed, until the client ends it.
    pub(super) fn abort_statement(&mut self, session: SessionId) {
        let txn = self.sessions[session.index()]
            .txn
            .as_mut()
            .expect("a transaction");
        if txn.implicit {
            self.end(session, false);
            return;
        }
        txn.failed = true;
        let held = std::mem::take(&mut txn.held);
        let sxact = txn.sxact;
        self.release(session, held, None);
        if let Some(id) = sxact {
            self.ssi.abort(id);
        }
    }

    pub(super) fn open(&mut self, session: SessionId, isolation: Isolation, implicit: bool) {
        self.sessions[session.index()].txn = Some(Txn {
            isolation,
            implicit,
            snapshot: None,
            sxact: None,
            failed: false,
            held: self.spare_held.pop().unwrap_or_default(),
            inserted: false,
            last_level: None,
            statement_snapshot: None,
        });
        self.open_transactions += 1;
    }

    /// Ends `session`'s transaction, committing its writes or discarding them.
    pub(super) fn end(&mut self, session: SessionId, commit: bool) {
        let txn = self.sessions[session.index()]
            .txn
            .take()
            .expect("a transaction to end");
        self.open_transactions -= 1;
        // Every commit takes a sequence number, so a read-only transaction's
        // end is ordered too (SSI needs it); snapshots see versions up to it.
        let seq = commit.then(|| {
            self.commit_seq += 1;
            self.commit_seq
        });
        self.release(session, txn.held, seq);
        if let Some(id) = txn.sxact {
            match seq {
                Some(seq) => self.ssi.commit(id, seq),
                None => self.ssi.abort(id),
            }
        }
    }

    /// Keeps an ended transaction's list of held locks for the next one.
    pub(super) fn recycle_held(&mut self, mut held: Vec<Held>) {
        held.clear();
        self.spare_held.push(held);
    }

    /// Releases `held`, installing the session's writes at `commit` (or
    /// discarding them), and queues its waiters to be re-run (the list goes
    /// with them, and back to `spare_held` once they are granted).
    fn release(&mut self, session: SessionId, held: Vec<Held>, commit: Option<u64>) {
        for lock in &held {
            match *lock {
                Held::Row(level) => {
                    let row = &mut self.rows[level.index()];
                    if let (Some(new), Some(seq)) = (row.pending.take(), commit) {
                        row.history.push((seq, new));
                    }
                    row.holder = None;
                }
                Held::Advisory(key) => {
                    self.advisory.remove(&key);
                }
            }
        }
        self.sales.end(session, commit.is_some());
        match commit {
            Some(seq) => self
                .reservations
                .iter_mut()
                .filter(|r| r.creator == session && r.committed.is_none())
                .for_each(|r| r.committed = Some(seq)),
            None => self
                .reservations
                .retain(|r| r.creator != session || r.committed.is_some()),
        }
        if held.is_empty() {
            self.recycle_held(held);
        } else {
            self.released.push(Released::Locks(held));
        }
    }
}
