//! The shop's two checkouts, written against `stockrace::Session` the way the
//! service sends its SQL, raced over 1000 seeded schedules each.

use stockrace::{
    Assign, Builder, DbError, Invariant, Lock, Order, Sale, Session, Strategy, Update,
};

/// The shop's checkout as the SQL it sends: BEGIN; SELECT stocked (with
/// `lock`); if enough, UPDATE SET stocked = <read> - quantity; COMMIT.
async fn checkout(mut db: Session, order: Order, lock: Lock) -> Result<Sale, DbError> {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select_with(line.level, lock).await?;
        if row.stocked < line.quantity {
            db.rollback().await?;
            return Ok(Sale::OutOfStock);
        }
        db.update(Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    db.commit().await?;
    Ok(Sale::Sold)
}

/// SELECT ... FOR UPDATE: a second buyer waits for the row lock, then reads
/// what the first one wrote.
async fn checkout_for_update(db: Session, order: Order) -> Result<Sale, DbError> {
    checkout(db, order, Lock::ForUpdate).await
}

/// A plain SELECT: two buyers can both read the last unit, both pass the
/// check and both write stocked = 0.
async fn read_then_write(db: Session, order: Order) -> Result<Sale, DbError> {
    checkout(db, order, Lock::None).await
}

#[test]
fn checkout_for_update_never_oversells() {
    Builder::new(Strategy::new("checkout-for-update", checkout_for_update))
        .orders(3)
        .stock(2)
        .run()
        .assert_holds();
}

/// Documents the hazard: passes while the broken path oversells, and prints
/// the first failing run (`cargo test -- --show-output` shows it).
#[test]
fn read_then_write_oversells() {
    let report = Builder::new(Strategy::new("read-then-write", read_then_write))
        .orders(2)
        .stock(1)
        .run();
    let failure = report.assert_violates();
    let violation = failure.verdict.violation().expect("a violation");
    assert_eq!(violation.invariant, Invariant::NoOversell, "{violation:?}");
    println!(
        "read-then-write oversold at seed {}, schedule {:?}:\n{}",
        failure.seed.expect("a swept run has a seed"),
        failure.schedule,
        failure.render()
    );
}
