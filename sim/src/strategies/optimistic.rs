use super::{commit_sale, reject_out_of_stock, Sale, StrategyResult};
use crate::connection::Session;
use crate::scenario::Order;
use std::time::Duration;
use stockrace_model::{Assign, Guard, SqlState, Update};

/// Attempts before the order gives up.
pub const MAX_ATTEMPTS: u32 = 8;

/// Read the level and its version; write only if the version is unchanged
/// (`... AND version = v`, bumping it). UPDATE 0 (or a 40001 at stricter
/// isolation levels) means someone else won: roll back, back off in virtual
/// time (1, 2, 4, ... ms) and try again, at most [`MAX_ATTEMPTS`] times.
pub async fn optimistic(mut db: Session, order: Order) -> StrategyResult {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            db.sleep(Duration::from_millis(1 << (attempt - 1).min(10)))
                .await;
        }
        match try_once(&mut db, &order).await {
            Ok(Some(sale)) => return Ok(sale),
            Ok(None) => db.rollback().await?,
            Err(e) if e.state == SqlState::SerializationFailure => db.rollback().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(Sale::GaveUp)
}

/// One attempt; `Ok(None)` means a version check failed and it is worth retrying.
async fn try_once(
    db: &mut Session,
    order: &Order,
) -> Result<Option<Sale>, stockrace_model::DbError> {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(db).await.map(Some);
        }
        let updated = db
            .update(Update {
                stocked: Assign::Set(row.stocked - line.quantity),
                bump_version: true,
                guard: Guard::Version(row.version),
                ..Update::new(line.level)
            })
            .await?;
        if updated.is_none() {
            return Ok(None);
        }
    }
    commit_sale(db).await.map(Some)
}
