//! Decrement paths: the code under test.
//!
//! A strategy is an async function `(Session, Order) -> Result<Sale, DbError>`
//! written against [`Session`]; the same function runs in the simulator and on
//! a real database. Users write their own the same way and wrap it with
//! [`Strategy::new`]. Returning `Err` means the order failed cleanly with that
//! error (a 40001 rejection, say); the harness closes the connection, rolling
//! back anything left open.

mod guarded_decrement;
mod optimistic;
mod plain_update;
mod row_lock;

pub use guarded_decrement::guarded_decrement;
pub use optimistic::optimistic;
pub use plain_update::plain_update;
pub use row_lock::row_lock;

use crate::connection::{BoxFuture, CommitTag, Session};
use crate::scenario::Order;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use stockrace_model::{Assign, DbError, Lock, Update};

/// How an order ended, as the application would tell the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sale {
    /// Every line sold; the transaction committed.
    Sold,
    /// Rejected: not enough stock.
    OutOfStock,
    /// Rejected: retries exhausted.
    GaveUp,
}

pub type StrategyResult = Result<Sale, DbError>;

type StartFn = dyn Fn(Session, Order) -> BoxFuture<'static, StrategyResult> + Send + Sync;

/// What a sale does to the store, so the invariants know what to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A sale decrements `stocked_quantity` by the quantity.
    Decrements,
    /// A sale reserves the quantity: one reservation row per line (and
    /// possibly `reserved_quantity`), `stocked_quantity` unchanged.
    Reserves,
}

/// A named decrement path.
#[derive(Clone)]
pub struct Strategy {
    name: Arc<str>,
    start: Arc<StartFn>,
    effect: Effect,
}

impl Strategy {
    /// Wraps an async function `fn(Session, Order) -> Result<Sale, DbError>`.
    pub fn new<F, Fut>(name: &str, strategy: F) -> Strategy
    where
        F: Fn(Session, Order) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = StrategyResult> + Send + 'static,
    {
        Strategy {
            name: name.into(),
            start: Arc::new(move |session, order| Box::pin(strategy(session, order))),
            effect: Effect::Decrements,
        }
    }

    /// Marks the strategy as one whose sales reserve stock rather than
    /// decrement it.
    pub fn reserving(mut self) -> Strategy {
        self.effect = Effect::Reserves;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The future that runs `order` on `session`.
    pub fn start(&self, session: Session, order: Order) -> BoxFuture<'static, StrategyResult> {
        (self.start)(session, order)
    }
}

impl fmt::Debug for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Strategy({})", self.name)
    }
}

/// Strategies by name: the built-ins plus any the user adds.
#[derive(Clone, Debug)]
pub struct Strategies {
    by_name: BTreeMap<String, Strategy>,
}

impl Strategies {
    /// Names of the built-in strategies, in the order reports list them.
    pub const BUILTIN: [&'static str; 4] = [
        "plain-update",
        "optimistic",
        "row-lock",
        "guarded-decrement",
    ];

    pub fn builtin() -> Strategies {
        let mut all = Strategies {
            by_name: BTreeMap::new(),
        };
        all.add(Strategy::new("plain-update", plain_update));
        all.add(Strategy::new("optimistic", optimistic));
        all.add(Strategy::new("row-lock", row_lock));
        all.add(Strategy::new("guarded-decrement", guarded_decrement));
        all
    }

    /// Adds (or replaces) a strategy under its name.
    pub fn add(&mut self, strategy: Strategy) {
        self.by_name.insert(strategy.name().to_string(), strategy);
    }

    pub fn get(&self, name: &str) -> Option<&Strategy> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// COMMIT, and turn its answer into the order's result.
pub(crate) async fn commit_sale(db: &mut Session) -> StrategyResult {
    match db.commit().await? {
        CommitTag::Committed => Ok(Sale::Sold),
        CommitTag::RolledBack => Err(DbError::IN_FAILED_TRANSACTION),
    }
}

/// ROLLBACK and reject the order as out of stock.
pub(crate) async fn reject_out_of_stock(db: &mut Session) -> StrategyResult {
    db.rollback().await?;
    Ok(Sale::OutOfStock)
}

/// In one transaction, for each line: read the level (with `lock`), check
/// there is enough, write back `read - q` as an absolute value; then commit.
/// Without a lock this is the lost-update race; with FOR UPDATE it is safe.
pub(crate) async fn read_check_write(mut db: Session, order: &Order, lock: Lock) -> StrategyResult {
    db.begin(order.isolation).await?;
    for line in &order.lines {
        let row = db.select_with(line.level, lock).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(&mut db).await;
        }
        db.update(Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    commit_sale(&mut db).await
}
