use super::{commit_sale, lines_in_lock_order, reject_out_of_stock, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::{Assign, Update};

/// SELECT to check there is enough, then `SET stocked_quantity =
/// stocked_quantity - q`. The relative write never loses an update, but the
/// check can be stale: two buyers of the last unit both pass it.
pub async fn atomic_decrement(mut db: Session, order: Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in lines_in_lock_order(&order).iter() {
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(&mut db).await;
        }
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    commit_sale(&mut db).await
}
