use super::{commit_sale, lines_in_lock_order, reject_out_of_stock, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::{Assign, Guard, Update};

/// `UPDATE ... SET stocked_quantity = stocked_quantity - q WHERE ... AND
/// stocked_quantity >= q`: the database checks and decrements in one
/// statement; UPDATE 0 means out of stock.
pub async fn guarded_decrement(mut db: Session, order: Order) -> StrategyResult {
    attempt(&mut db, &order).await
}

/// One transaction of the guarded decrement, to its sale or rejection.
pub(crate) async fn attempt(db: &mut Session, order: &Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    lines(db, order).await
}

/// The guarded decrements and COMMIT, in a transaction already begun.
pub(crate) async fn lines(db: &mut Session, order: &Order) -> StrategyResult {
    for line in lines_in_lock_order(order).iter() {
        let updated = db
            .update(Update {
                stocked: Assign::Add(-line.quantity),
                guard: Guard::StockedAtLeast(line.quantity),
                ..Update::new(line.level)
            })
            .await?;
        if updated.is_none() {
            return reject_out_of_stock(db).await;
        }
    }
    commit_sale(db).await
}
