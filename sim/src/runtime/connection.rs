//! The simulator's [`Connection`]: every statement, sleep and in-process lock
//! goes through the scheduler, and the order waits until it answers.

use super::ask::{poll_ask, Ask, Request};
use super::shared::{lock, Phase, SharedRef};
use crate::connection::{BoxFuture, Connection};
use crate::lease::LeaseCall;
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

    /// Sends `statement`: the order parks with it, an option for the
    /// scheduler. (Not a `Request` through `poll_ask`: this is every
    /// statement's path, and that way cost it a copy and a dispatch.)
    fn send(&self, statement: Statement) {
        lock(&self.shared).park(self.order, Phase::Submitted(statement));
    }

    /// The reply to the statement sent, once the scheduler handed it back.
    fn reply(&self) -> Option<Result<Reply, DbError>> {
        lock(&self.shared).slots[self.order].reply.take()
    }

    /// A statement in a stage that takes time: thinking before it is sent,
    /// or its reply on its way back.
    fn poll_timed(&mut self) -> Poll<Result<Reply, DbError>> {
        match self.sending {
            Sending::Thinking(statement) => {
                if self.poll_request(None).is_pending() {
                    return Poll::Pending;
                }
                self.send(statement);
                self.sending = Sending::Sent;
                Poll::Pending
            }
            Sending::Arriving(reply) => {
                if self.poll_request(None).is_pending() {
                    return Poll::Pending;
                }
                self.sending = Sending::Idle;
                Poll::Ready(reply)
            }
            Sending::Idle | Sending::Sent => unreachable!("not a timed stage"),
        }
    }
}

impl Connection for SimConnection {
    fn poll_execute(
        &mut self,
        _cx: &mut Context<'_>,
        statement: &mut Option<Statement>,
    ) -> Poll<Result<Reply, DbError>> {
        // Looked at in place: moving `sending` out and back on every poll
        // copied a statement and a reply each time. The two stages every
        // statement passes through (sent, then answered) are tested in
        // turn rather than matched: a match compiled to a jump through a
        // table, which, alternating between them, was most of a run's
        // mispredicted indirect branches (in cachegrind's simulation).
        if let Sending::Sent = self.sending {
            let Some(reply) = self.reply() else {
                return Poll::Pending;
            };
            if self.latency.statement_ms == 0 {
                self.sending = Sending::Idle;
                return Poll::Ready(reply);
            }
            let _ = self.poll_request(Some(Request::Sleep {
                ms: self.latency.statement_ms,
            }));
            self.sending = Sending::Arriving(reply);
            return Poll::Pending;
        }
        if let Sending::Idle = self.sending {
            let statement = statement.take().expect("a statement to send");
            let think_ms = if self.sent { self.latency.think_ms } else { 0 };
            self.sent = true;
            if think_ms > 0 {
                let _ = self.poll_request(Some(Request::Sleep { ms: think_ms }));
                self.sending = Sending::Thinking(statement);
                return Poll::Pending;
            }
            self.send(statement);
            self.sending = Sending::Sent;
            return Poll::Pending;
        }
        self.poll_timed()
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

    fn lease(&mut self, call: LeaseCall) -> BoxFuture<'_, u64> {
        let ask = self.ask(Request::Lease(call));
        Box::pin(async move {
            match ask.await {
                Some(Ok(Reply::Value(value))) => value as u64,
                other => unreachable!("the lease service answered {other:?}"),
            }
        })
    }
}
