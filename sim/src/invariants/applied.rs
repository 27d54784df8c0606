//! Which order's transactions committed which decrements: the ledger the
//! fault invariants need. Without faults, an order that was told it sold
//! committed its decrement once and an order that was not committed none;
//! a crash or a lost reply breaks that link, and then the two ways it can
//! break are told apart:
//!
//! - exactly-once: an order's committed decrements of a level add up to
//!   more than it bought (a retry after a lost COMMIT reply applied it twice);
//! - stranded-stock: an order that was never told it sold (crashed,
//!   failed on a broken connection) has decrements that committed: the
//!   stock is gone and nobody bought it.
//!
//! A transaction's effect on a level is read off the row as it writes it
//! (its uncommitted version against the committed one, which cannot move
//! while it holds the row's lock) and booked when it commits; a write
//! outside a transaction is booked at once, against the committed value
//! the ledger saw last.

use crate::backend::Backend;
use stockrace_model::{Event, Progress, Reply, Statement};

#[derive(Clone, Debug, Default)]
pub(crate) struct Applied {
    levels: usize,
    /// Per order and level (`order * levels + level`): the open
    /// transaction's change to `stocked_quantity`, not yet committed.
    pending: Vec<i64>,
    /// Per order and level: units its committed writes took from
    /// `stocked_quantity` (negative when they put units back).
    taken: Vec<i64>,
    /// Each level's committed `stocked_quantity` as last seen.
    committed: Vec<i64>,
}

impl Applied {
    pub fn new(orders: usize, initial: &[i64]) -> Applied {
        let levels = initial.len();
        Applied {
            levels,
            pending: vec![0; orders * levels],
            taken: vec![0; orders * levels],
            committed: initial.to_vec(),
        }
    }

    pub fn reset(&mut self, initial: &[i64]) {
        self.pending.fill(0);
        self.taken.fill(0);
        self.committed.copy_from_slice(initial);
    }

    /// Units `order`'s committed writes took from `level`.
    pub fn taken(&self, order: usize, level: usize) -> i64 {
        self.taken[order * self.levels + level]
    }

    pub fn on_statement(&mut self, event: &Event, store: &dyn Backend) {
        let order = event.session.index();
        let row = &mut self.pending[order * self.levels..(order + 1) * self.levels];
        match (event.progress, event.row) {
            (Progress::Done(Ok(Reply::Update { count, .. })), Some(view)) if count > 0 => {
                let level = view.level.index();
                match view.locked_by {
                    Some((holder, Some(new))) if holder == event.session => {
                        row[level] = new.stocked - view.committed.stocked;
                    }
                    _ if !store.in_transaction(event.session) => {
                        // Committed on its own.
                        let change = view.committed.stocked - self.committed[level];
                        self.taken[order * self.levels + level] -= change;
                        self.committed[level] = view.committed.stocked;
                    }
                    _ => {}
                }
            }
            (Progress::Done(Ok(Reply::Commit)), _) if event.statement == Statement::Commit => {
                let taken = &mut self.taken[order * self.levels..(order + 1) * self.levels];
                for level in 0..self.levels {
                    taken[level] -= row[level];
                    self.committed[level] += row[level];
                    row[level] = 0;
                }
            }
            _ if !store.in_transaction(event.session) => row.fill(0),
            _ => {}
        }
    }

    pub fn hash_state(&self, state: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.pending.hash(state);
        self.taken.hash(state);
    }
}
