//! The simulator's [`Connection`]: every statement and every sleep is handed
//! to the scheduler and the order waits until the scheduler answers.

use super::shared::{SharedRef, SleepFuture, StatementFuture};
use crate::connection::{BoxFuture, Connection};
use std::time::Duration;
use stockrace_model::{DbError, Reply, Statement};

pub(crate) struct SimConnection {
    pub shared: SharedRef,
    pub order: usize,
}

impl Connection for SimConnection {
    fn execute(&mut self, statement: Statement) -> BoxFuture<'_, Result<Reply, DbError>> {
        Box::pin(StatementFuture {
            shared: &self.shared,
            order: self.order,
            statement: Some(statement),
        })
    }

    fn sleep(&mut self, duration: Duration) -> BoxFuture<'_, ()> {
        // madsim timers have 1 ms resolution; round up so a sleep always passes time.
        let ms = duration.as_millis().max(1).min(u64::MAX as u128) as u64;
        Box::pin(SleepFuture {
            shared: &self.shared,
            order: self.order,
            duration_ms: Some(ms),
        })
    }
}
