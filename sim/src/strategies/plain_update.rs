use super::{read_write, ReadWrite, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;

/// Read the level, then write back the absolute value computed in the
/// application: `SET stocked_quantity = <read - q>`. Two orders that read the
/// same value both write it: a lost update, and at low stock an oversell.
pub async fn plain_update(mut db: Session, order: Order) -> StrategyResult {
    read_write(&mut db, &order, ReadWrite::new(order.isolation)).await
}
