use super::{read_write, retrying, ReadWrite, Sale, StrategyResult};
use crate::connection::{BoxFuture, Session};
use crate::scenario::Order;
use stockrace_model::{DbError, Isolation};

/// plain-update at SERIALIZABLE (whatever isolation the order names: the
/// level is the point of this path), retried on 40001 and 40P01.
pub async fn serializable_retry(mut db: Session, order: Order) -> StrategyResult {
    retrying(&mut db, &order, attempt).await
}

fn attempt<'a>(
    db: &'a mut Session,
    order: &'a Order,
) -> BoxFuture<'a, Result<Option<Sale>, DbError>> {
    Box::pin(async move {
        read_write(db, order, ReadWrite::new(Isolation::Serializable))
            .await
            .map(Some)
    })
}
