use super::{guarded_decrement, retrying_on, Sale, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;

/// The guarded decrement, retried on any error at all (a client library's
/// "retry on failure"): safe against races, but after a lost COMMIT reply
/// it cannot know that its decrement committed, and applies it again.
pub async fn retry_on_error(mut db: Session, order: Order) -> StrategyResult {
    retrying_on(&mut db, &order, attempt, |_| true).await
}

fn attempt<'a>(
    db: &'a mut Session,
    order: &'a Order,
) -> crate::connection::BoxFuture<'a, Result<Option<Sale>, stockrace_model::DbError>> {
    Box::pin(async move { guarded_decrement::attempt(db, order).await.map(Some) })
}
