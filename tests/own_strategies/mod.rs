//! Strategies of a test's own, as a user writes them, for the tests of the
//! Builder (each test file is a crate: `mod own_strategies;`).
#![allow(dead_code)] // each test file uses what it needs

use stockrace::{Assign, DbError, Guard, Order, Sale, Session, Update};

/// Checks with a plain read, then decrements relatively: oversells.
pub async fn check_then_decrement(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            db.rollback().await?;
            return Ok(Sale::OutOfStock);
        }
        db.update(Update {
            stocked: Assign::Add(-line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

/// The same statements, but the database checks: holds.
pub async fn guarded(mut db: Session, order: Order) -> Result<Sale, DbError> {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        db.select(line.level).await?;
        let updated = db
            .update(Update {
                stocked: Assign::Add(-line.quantity),
                guard: Guard::StockedAtLeast(line.quantity),
                ..Update::new(line.level)
            })
            .await?;
        if updated.is_none() {
            db.rollback().await?;
            return Ok(Sale::OutOfStock);
        }
    }
    db.commit().await?;
    Ok(Sale::Sold)
}
