use super::{Sale, StrategyResult};
use crate::connection::{CommitTag, Session};
use crate::scenario::Order;
use stockrace_model::{Assign, DbError, Row, Update};

/// Medusa's updateInventoryLevelsStep as callers use it with absolute
/// `stocked_quantity` values (Medusa issue #12132): the levels are read
/// outside any transaction and without a lock, the new absolute values are
/// written in a transaction of their own, and if that transaction fails the
/// step's compensation writes the pre-read values back — over whatever other
/// orders wrote meanwhile.
pub async fn medusa_update_levels(mut db: Session, order: Order) -> StrategyResult {
    let lines = order.lines_to_lock();
    // The unlocked pre-read (each SELECT its own autocommit transaction).
    let mut before: Vec<Row> = Vec::with_capacity(lines.len());
    for line in &lines {
        before.push(db.select(line.level).await?);
    }
    if lines
        .iter()
        .zip(&before)
        .any(|(line, row)| row.stocked < line.quantity)
    {
        return Ok(Sale::OutOfStock);
    }
    match write_levels(&mut db, &order, |i| before[i].stocked - lines[i].quantity).await {
        Ok(CommitTag::Committed) => Ok(Sale::Sold),
        Ok(CommitTag::RolledBack) => Err(DbError::IN_FAILED_TRANSACTION),
        Err(error) => {
            // Compensation: put back the values read before the step.
            db.rollback().await?;
            write_levels(&mut db, &order, |i| before[i].stocked).await?;
            Err(error)
        }
    }
}

/// BEGIN; `UPDATE ... SET stocked_quantity = value(i)` for each line; COMMIT.
async fn write_levels(
    db: &mut Session,
    order: &Order,
    value: impl Fn(usize) -> i64,
) -> Result<CommitTag, DbError> {
    db.begin(order.isolation).await?;
    for (i, line) in order.lines_to_lock().iter().enumerate() {
        db.update(Update {
            stocked: Assign::Set(value(i)),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await
}
