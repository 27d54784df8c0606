use super::{read_write, ReadWrite, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;

/// `pg_advisory_xact_lock(level id)` before reading each level, then check
/// and write the absolute value: the advisory lock serialises the
/// read-check-write of every order that takes it, on any app node.
pub async fn advisory_lock(mut db: Session, order: Order) -> StrategyResult {
    let how = ReadWrite {
        advisory: true,
        ..ReadWrite::new(order.isolation)
    };
    read_write(&mut db, &order, how).await
}
