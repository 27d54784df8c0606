//! An order's side of the scheduler: it asks (a sleep, an in-process
//! lock) and waits, parked, until the scheduler answers. (Statements take
//! a path of their own: see `SimConnection::send`.)

use super::lock::SpinLock;
use super::shared::{lock, News, Phase, Shared};
use crate::lease::LeaseCall;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use stockrace_model::{DbError, Reply};

/// What an order asks the scheduler for, handed over on the first poll.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request {
    Sleep { ms: u64 },
    ProcessLock { key: u64 },
    Lease(LeaseCall),
}

/// An order waiting for the scheduler: the request is made on first poll;
/// the future is ready once the scheduler answered (the end of a sleep, a
/// granted lock).
pub(crate) struct Ask<'a> {
    pub shared: &'a SpinLock<Shared>,
    pub order: usize,
    pub request: Option<Request>,
}

impl Future for Ask<'_> {
    type Output = Option<Result<Reply, DbError>>;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (shared, order) = (self.shared, self.order);
        poll_ask(shared, order, &mut self.request)
    }
}

/// One poll of an order waiting for the scheduler: makes `request` (taken)
/// if there is one, else looks for the answer.
pub(crate) fn poll_ask(
    shared: &SpinLock<Shared>,
    order: usize,
    request: &mut Option<Request>,
) -> Poll<Option<Result<Reply, DbError>>> {
    let mut shared = lock(shared);
    match request.take() {
        Some(Request::Sleep { ms }) => {
            let until_ms = shared.now_ms.saturating_add(ms);
            shared.slots[order].woken = false;
            shared.news.push(News::Slept(order));
            shared.park(order, Phase::Sleeping { until_ms });
            return Poll::Pending;
        }
        Some(Request::ProcessLock { key }) => {
            shared.slots[order].woken = false;
            shared.park(order, Phase::ProcessLockRequest { key });
            return Poll::Pending;
        }
        Some(Request::Lease(call)) => {
            shared.park(order, Phase::LeaseRequest(call));
            return Poll::Pending;
        }
        None => {}
    }
    let slot = &mut shared.slots[order];
    if let Some(result) = slot.reply.take() {
        Poll::Ready(Some(result))
    } else if std::mem::take(&mut slot.woken) {
        Poll::Ready(None)
    } else {
        Poll::Pending
    }
}
