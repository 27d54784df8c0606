//! The simulator's [`Connection`]: every statement, sleep and in-process lock
//! goes through the scheduler, and the order waits until it answers.

use super::shared::{lock, Ask, Request, SharedRef};
use crate::connection::{BoxFuture, Connection};
use crate::scenario::Latency;
use std::time::Duration;
use stockrace_model::{DbError, Reply, Statement};

pub(crate) struct SimConnection {
    pub shared: SharedRef,
    pub order: usize,
    pub latency: Latency,
    /// Whether a statement was sent yet (think time comes before the others).
    pub sent: bool,
}

impl SimConnection {
    fn ask(&self, request: Request) -> Ask<'_> {
        Ask {
            shared: &self.shared,
            order: self.order,
            request: Some(request),
        }
    }
}

impl Connection for SimConnection {
    fn execute(&mut self, statement: Statement) -> BoxFuture<'_, Result<Reply, DbError>> {
        let think_ms = if self.sent { self.latency.think_ms } else { 0 };
        self.sent = true;
        Box::pin(async move {
            // Time passes as sleeps the scheduler sees, so it stays in charge
            // of who runs meanwhile.
            if think_ms > 0 {
                self.ask(Request::Sleep { ms: think_ms }).await;
            }
            let reply = self.ask(Request::Statement(statement)).await;
            if self.latency.statement_ms > 0 {
                self.ask(Request::Sleep {
                    ms: self.latency.statement_ms,
                })
                .await;
            }
            reply.expect("a statement is answered with its result")
        })
    }

    fn sleep(&mut self, duration: Duration) -> BoxFuture<'_, ()> {
        // madsim timers have 1 ms resolution; round up so a sleep always passes time.
        let ms = duration.as_millis().clamp(1, u64::MAX as u128) as u64;
        let ask = self.ask(Request::Sleep { ms });
        Box::pin(async move {
            ask.await;
        })
    }

    fn process_lock(&mut self, key: u64) -> BoxFuture<'_, ()> {
        let ask = self.ask(Request::ProcessLock { key });
        Box::pin(async move {
            ask.await;
        })
    }

    fn process_unlock(&mut self, key: u64) {
        lock(&self.shared).process_unlock(self.order, key);
    }
}
