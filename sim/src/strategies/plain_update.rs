use super::{commit_sale, reject_out_of_stock, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::{Assign, Update};

/// Read the level, then write back the absolute value computed in the
/// application: `SET stocked_quantity = <read - q>`. Two orders that read the
/// same value both write it: a lost update, and at low stock an oversell.
pub async fn plain_update(mut db: Session, order: Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select(line.level).await?;
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
