use super::{read_check_write, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::Lock;

/// `SELECT ... FOR UPDATE`, check, then write: the lock makes the read and
/// the write one step for every other order.
pub async fn row_lock(db: Session, order: Order) -> StrategyResult {
    read_check_write(db, &order, Lock::ForUpdate).await
}
