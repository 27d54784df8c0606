//! The simulator's [`Connection`]: every statement, sleep and in-process lock
//! goes through the scheduler, and the order waits until it answers.

use super::ask::{poll_ask, Ask, Request};
use super::shared::{lock, SharedRef};
use crate::connection::{BoxFuture, Connection};
use crate::scenario::Latency;
use std::task::{Context, Poll};
use std::time::Duration;
use stockrace_model::{DbError, Reply, Statement};

pub(crate) struct SimConnection {
    pub shared: SharedRef,
    pub order: usize,
    pub latency: Latency,
    /// Whether a statement was sent yet (think time comes before the others).
    pub sent: bool,
    /// Where the statement being executed is.
    pub sending: Sending,
}

/// The stages of one statement: think time, the statement itself, then its
/// latency. Time passes as sleeps the scheduler sees, so it stays in charge
/// of who runs meanwhile.
pub(crate) enum Sending {
    Idle,
    /// Sleeping for think time before sending this statement.
    Thinking(Statement),
    /// Sent; waiting for the scheduler to run it.
    Sent,
    /// Answered; sleeping for the statement's latency before the reply
    /// arrives.
    Arriving(Result<Reply, DbError>),
}

impl SimConnection {
    fn ask(&self, request: Request) -> Ask<'_> {
        Ask {
            shared: &self.shared,
            order: self.order,
            request: Some(request),
        }
    }

    fn poll_request(&self, request: Option<Request>) -> Poll<Option<Result<Reply, DbError>>> {
        poll_ask(&self.shared, self.order, &mut { request })
    }
}

impl Connection for SimConnection {
    fn poll_execute(
        &mut self,
        _cx: &mut Context<'_>,
        statement: &mut Option<Statement>,
    ) -> Poll<Result<Reply, DbError>> {
        // Matched in place: moving `sending` out and back on every poll
        // copied a statement and a reply each time.
        match &self.sending {
            Sending::Idle => {
                let statement = statement.take().expect("a statement to send");
                let think_ms = if self.sent { self.latency.think_ms } else { 0 };
                self.sent = true;
                if think_ms > 0 {
                    let _ = self.poll_request(Some(Request::Sleep { ms: think_ms }));
                    self.sending = Sending::Thinking(statement);
                    return Poll::Pending;
                }
                let _ = self.poll_request(Some(Request::Statement(statement)));
                self.sending = Sending::Sent;
                Poll::Pending
            }
            &Sending::Thinking(statement) => {
                if self.poll_request(None).is_pending() {
                    return Poll::Pending;
                }
                let _ = self.poll_request(Some(Request::Statement(statement)));
                self.sending = Sending::Sent;
                Poll::Pending
            }
            Sending::Sent => {
                let Poll::Ready(reply) = self.poll_request(None) else {
                    return Poll::Pending;
                };
                let reply = reply.expect("a statement is answered with its result");
                if self.latency.statement_ms == 0 {
                    self.sending = Sending::Idle;
                    return Poll::Ready(reply);
                }
                let _ = self.poll_request(Some(Request::Sleep {
                    ms: self.latency.statement_ms,
                }));
                self.sending = Sending::Arriving(reply);
                Poll::Pending
            }
            &Sending::Arriving(reply) => {
                if self.poll_request(None).is_pending() {
                    return Poll::Pending;
                }
                self.sending = Sending::Idle;
                Poll::Ready(reply)
            }
        }
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
