use super::{commit_sale, lines_in_lock_order, reject_out_of_stock, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::{Assign, Update};

/// Medusa's createReservationItems: in one transaction, for each line read
/// the level, check available = stocked - reserved >= q, insert a
/// reservation row, and set `reserved_quantity = <read reserved + q>`. The
/// absolute write of `reserved_quantity` is the lost-update race again
/// (Medusa issue #16569).
pub async fn reservation(mut db: Session, order: Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in lines_in_lock_order(&order).iter() {
        let row = db.select(line.level).await?;
        if row.stocked - row.reserved < line.quantity {
            return reject_out_of_stock(&mut db).await;
        }
        db.insert_reservation(line.level, line.quantity).await?;
        db.update(Update {
            reserved: Assign::Set(row.reserved + line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    commit_sale(&mut db).await
}

/// Check `stocked - SUM(reservation rows) >= q`, then insert a reservation
/// row; nothing is updated. Below SERIALIZABLE two orders both pass the check
/// (write skew, pattern g); SERIALIZABLE's SSI rejects one with 40001.
pub async fn reservation_insert_only(mut db: Session, order: Order) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in lines_in_lock_order(&order).iter() {
        if db.available(line.level).await? < line.quantity {
            return reject_out_of_stock(&mut db).await;
        }
        db.insert_reservation(line.level, line.quantity).await?;
    }
    commit_sale(&mut db).await
}
