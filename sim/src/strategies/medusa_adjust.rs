use super::{read_write, ReadWrite, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;

/// Medusa's adjustInventory: read the level and write `read - q` back in one
/// transaction, with no lock and no floor at zero (Medusa issue #16576:
/// concurrent adjustments lose updates).
pub async fn medusa_adjust(mut db: Session, order: Order) -> StrategyResult {
    let how = ReadWrite {
        check_stock: false,
        ..ReadWrite::new(order.isolation)
    };
    read_write(&mut db, &order, how).await
}

/// medusa-adjust under a per-item lock held in the application process, as
/// with Medusa's default in-memory locking provider: it serialises orders on
/// the same app node, and nothing across nodes.
pub async fn medusa_adjust_locked(mut db: Session, order: Order) -> StrategyResult {
    let keys: Vec<u64> = order
        .lines_to_lock()
        .iter()
        .map(|l| u64::from(l.level.sql_id()))
        .collect();
    for &key in &keys {
        db.process_lock(key).await;
    }
    let how = ReadWrite {
        check_stock: false,
        ..ReadWrite::new(order.isolation)
    };
    let result = read_write(&mut db, &order, how).await;
    for &key in keys.iter().rev() {
        db.process_unlock(key);
    }
    result
}
