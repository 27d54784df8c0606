//! What the store says: the sessions it serves, the events it reports
//! and the rows as they stand.

use crate::error::DbError;
use crate::statement::{LevelId, Reply, Row, Statement};
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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
    /// Parked. `on` holds the lock it waits for: the row's locker, the
    /// first waiter when it queues behind one (as `pg_blocking_pids` says),
    /// or the advisory lock's holder.
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
