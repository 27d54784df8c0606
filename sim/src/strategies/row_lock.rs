use super::{read_write, ReadWrite, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use stockrace_model::Lock;

/// `SELECT ... FOR UPDATE`, check, then write: the lock makes the read and
/// the write one step for every other order.
pub async fn row_lock(mut db: Session, order: Order) -> StrategyResult {
    let how = ReadWrite {
        lock: Lock::ForUpdate,
        ..ReadWrite::new(order.isolation)
    };
    read_write(&mut db, &order, how).await
}
