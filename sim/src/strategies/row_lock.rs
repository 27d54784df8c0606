use super::{commit_sale, reject_out_of_stock, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::{Assign, Update};

/// `SELECT ... FOR UPDATE`, check, then write: the lock makes the read and
/// the write one step for every other order.
pub async fn row_lock(mut db: Session, order: Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select_for_update(line.level).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(&mut db).await;
        }
        db.update(Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    commit_sale(&mut db).await
}
