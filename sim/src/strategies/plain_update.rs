use super::{read_check_write, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::Lock;

/// Read the level, then write back the absolute value computed in the
/// application: `SET stocked_quantity = <read - q>`. Two orders that read the
/// same value both write it: a lost update, and at low stock an oversell.
pub async fn plain_update(db: Session, order: Order) -> StrategyResult {
    read_check_write(db, &order, Lock::None).await
}
