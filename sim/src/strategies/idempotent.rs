use super::{guarded_decrement, retrying_on, Sale, StrategyResult};
use crate::connection::{BoxFuture, Session};
use crate::scenario::Order;
use stockrace_model::DbError;

/// The guarded decrement and `INSERT INTO sale (order_id)` in one
/// transaction, retried on any error: a retry after a lost COMMIT reply
/// inserts the sale again, meets the key the first attempt committed
/// (23505; MariaDB 1062), and knows it already sold.
pub async fn idempotent(mut db: Session, order: Order) -> StrategyResult {
    retrying_on(&mut db, &order, attempt, |_| true).await
}

fn attempt<'a>(
    db: &'a mut Session,
    order: &'a Order,
) -> BoxFuture<'a, Result<Option<Sale>, DbError>> {
    Box::pin(async move {
        db.begin(order.isolation).await?;
        match db.insert_sale(order.index).await {
            Ok(()) => {}
            Err(e) if e.state.is_unique_violation() => {
                db.rollback().await?;
                return Ok(Some(Sale::Sold));
            }
            Err(e) => return Err(e),
        }
        // The transaction is open: the guarded decrement's BEGIN is ours.
        guarded_decrement::lines(db, order).await.map(Some)
    })
}
