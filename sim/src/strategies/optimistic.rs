use super::{
    commit_sale, lines_in_lock_order, reject_out_of_stock, retrying, Sale, StrategyResult,
};
use crate::connection::{BoxFuture, Session};
use crate::scenario::Order;
use stockrace_model::{Assign, DbError, Guard, Update};

/// Read the level and its version; write only if the version is unchanged
/// (`... AND version = v`, bumping it). UPDATE 0 (or a 40001 at stricter
/// isolation levels) means someone else won: roll back, back off in virtual
/// time and try again, a bounded number of times.
pub async fn optimistic(mut db: Session, order: Order) -> StrategyResult {
    retrying(&mut db, &order, attempt).await
}

fn attempt<'a>(
    db: &'a mut Session,
    order: &'a Order,
) -> BoxFuture<'a, Result<Option<Sale>, DbError>> {
    Box::pin(async move {
        db.begin(order.isolation).await?;
        for line in lines_in_lock_order(order).iter() {
            let row = db.select(line.level).await?;
            if row.stocked < line.quantity {
                return reject_out_of_stock(db).await.map(Some);
            }
            let updated = db
                .update(Update {
                    stocked: Assign::Set(row.stocked - line.quantity),
                    version: Assign::Add(1),
                    guard: Guard::Version(row.version),
                    ..Update::new(line.level)
                })
                .await?;
            if updated.is_none() {
                return Ok(None);
            }
        }
        commit_sale(db).await.map(Some)
    })
}
