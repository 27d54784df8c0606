//! Decrement paths: the code under test.
//!
//! A strategy is an async function `(Session, Order) -> Result<Sale, DbError>`
//! written against [`Session`]; the same function runs in the simulator and on
//! a real database. Users write their own the same way and wrap it with
//! [`Strategy::new`]. Returning `Err` means the order failed cleanly with that
//! error (a 40001 rejection, say); the harness closes the connection, rolling
//! back anything left open.

mod advisory_lock;
mod atomic_decrement;
mod guarded_decrement;
mod idempotent;
mod in_place;
mod lease_lock;
mod medusa_adjust;
mod medusa_update_levels;
mod optimistic;
mod plain_update;
mod reservation;
mod retry_on_error;
mod row_lock;
mod serializable_retry;

pub use advisory_lock::advisory_lock;
pub use atomic_decrement::atomic_decrement;
pub use guarded_decrement::guarded_decrement;
pub use idempotent::idempotent;
pub(crate) use in_place::OrderFuture;
pub use lease_lock::{lease_lock, lease_lock_fenced};
pub use medusa_adjust::{medusa_adjust, medusa_adjust_locked};
pub use medusa_update_levels::medusa_update_levels;
pub use optimistic::optimistic;
pub use plain_update::plain_update;
pub use reservation::{reservation, reservation_insert_only};
pub use retry_on_error::retry_on_error;
pub use row_lock::row_lock;
pub use serializable_retry::serializable_retry;

use crate::connection::{BoxFuture, CommitTag, Session};
use crate::scenario::{Line, LockOrder, Order};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use stockrace_model::{Assign, Database, DbError, Isolation, Lock, Update};

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
type PlaceFn = dyn Fn() -> Box<dyn OrderFuture> + Send + Sync;

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
    /// A place for its futures, reused from run to run (see [`OrderFuture`]).
    place: Arc<PlaceFn>,
    effect: Effect,
    /// The one database it can run on, and why, if it cannot run on all.
    only_on: Option<(Database, Arc<str>)>,
    /// What runs for an order its app node crashed under, once the node
    /// restarts (see [`Strategy::with_recovery`]).
    recovery: Option<Arc<PlaceFn>>,
}

impl Strategy {
    /// Wraps an async function `fn(Session, Order) -> Result<Sale, DbError>`.
    pub fn new<F, Fut>(name: &str, strategy: F) -> Strategy
    where
        F: Fn(Session, Order) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = StrategyResult> + Send + 'static,
    {
        let strategy = Arc::new(strategy);
        let starts = strategy.clone();
        Strategy {
            name: name.into(),
            start: Arc::new(move |session, order| Box::pin(starts(session, order))),
            place: Arc::new(move || {
                Box::new(in_place::InPlace {
                    strategy: strategy.clone(),
                    future: Box::pin(None),
                })
            }),
            effect: Effect::Decrements,
            only_on: None,
            recovery: None,
        }
    }

    /// Gives the strategy a recovery: when an app node crashes under one of
    /// its orders and restarts (`[faults] restart = true`), `recover` runs
    /// for the order on a new connection, and its result is the order's.
    /// It sees only what a restarted process would: the database (and
    /// whatever durable record the strategy keeps there), not the memory
    /// of the process that died.
    pub fn with_recovery<F, Fut>(mut self, recover: F) -> Strategy
    where
        F: Fn(Session, Order) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = StrategyResult> + Send + 'static,
    {
        let recover = Arc::new(recover);
        self.recovery = Some(Arc::new(move || {
            Box::new(in_place::InPlace {
                strategy: recover.clone(),
                future: Box::pin(None),
            })
        }));
        self
    }

    /// Whether an order of this strategy recovers after a crash.
    pub fn recovers(&self) -> bool {
        self.recovery.is_some()
    }

    /// A place to start and poll this strategy's recoveries in, if it has one.
    pub(crate) fn recovery_place(&self) -> Option<Box<dyn OrderFuture>> {
        self.recovery.as_ref().map(|place| place())
    }

    /// Marks the strategy as one that runs only on `database`, `because`
    /// (what the others lack): a scenario running it elsewhere is refused
    /// with that reason.
    pub fn only_on(mut self, database: Database, because: &str) -> Strategy {
        self.only_on = Some((database, because.into()));
        self
    }

    /// Why it cannot run on `database`, if it cannot.
    pub fn refusal(&self, database: Database) -> Option<String> {
        match &self.only_on {
            Some((only, because)) if *only != database => Some(format!(
                "{} runs on {only} only, not on {database}: {because}",
                self.name
            )),
            _ => None,
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

    /// A place to start and poll this strategy's futures in, one run after
    /// another.
    pub(crate) fn place(&self) -> Box<dyn OrderFuture> {
        (self.place)()
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
    pub const BUILTIN: [&'static str; 16] = [
        "plain-update",
        "optimistic",
        "row-lock",
        "guarded-decrement",
        "atomic-decrement",
        "serializable-retry",
        "reservation",
        "reservation-insert-only",
        "medusa-update-levels",
        "medusa-adjust",
        "medusa-adjust-locked",
        "advisory-lock",
        "retry-on-error",
        "idempotent",
        "lease-lock",
        "lease-lock-fenced",
    ];

    pub fn builtin() -> Strategies {
        let mut all = Strategies {
            by_name: BTreeMap::new(),
        };
        all.add(Strategy::new("plain-update", plain_update));
        all.add(Strategy::new("optimistic", optimistic));
        all.add(Strategy::new("row-lock", row_lock));
        all.add(Strategy::new("guarded-decrement", guarded_decrement));
        all.add(Strategy::new("atomic-decrement", atomic_decrement));
        all.add(Strategy::new("serializable-retry", serializable_retry));
        all.add(Strategy::new("reservation", reservation).reserving());
        all.add(Strategy::new("reservation-insert-only", reservation_insert_only).reserving());
        all.add(Strategy::new("medusa-update-levels", medusa_update_levels));
        all.add(Strategy::new("medusa-adjust", medusa_adjust));
        all.add(Strategy::new("medusa-adjust-locked", medusa_adjust_locked));
        all.add(Strategy::new("retry-on-error", retry_on_error));
        // After a restart the order runs again: its sale row (committed or
        // not) says whether the first attempt sold.
        all.add(Strategy::new("idempotent", idempotent).with_recovery(idempotent));
        all.add(Strategy::new("lease-lock", lease_lock));
        all.add(Strategy::new("lease-lock-fenced", lease_lock_fenced));
        all.add(Strategy::new("advisory-lock", advisory_lock).only_on(
            Database::Postgres15,
            "it takes pg_advisory_xact_lock, a lock the transaction's end releases; MariaDB's GET_LOCK is held by the session until RELEASE_LOCK, a different path (use row-lock there)",
        ));
        all
    }

    /// Adds (or replaces) a strategy under its name.
    pub fn add(&mut self, strategy: Strategy) {
        self.by_name.insert(strategy.name().to_string(), strategy);
    }

    pub fn get(&self, name: &str) -> Option<&Strategy> {
        self.by_name.get(name)
    }

    /// Why `name` cannot run on `database`, if it is known and cannot.
    pub fn refusal(&self, name: &str, database: Database) -> Option<String> {
        self.get(name).and_then(|s| s.refusal(database))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// The order's lines in the order their rows should be locked, as
/// [`Order::lines_to_lock`] gives them, but borrowed when they are listed
/// in that order already (as most are): a copy per order per run was an
/// allocation each.
pub(crate) fn lines_in_lock_order(order: &Order) -> Cow<'_, [Line]> {
    let sorted = order.lines.windows(2).all(|w| w[0].level <= w[1].level);
    if order.lock_order == LockOrder::Listed || sorted {
        Cow::Borrowed(&order.lines[..])
    } else {
        Cow::Owned(order.lines_to_lock())
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

/// How [`read_write`] reads and checks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadWrite {
    pub isolation: Isolation,
    /// Row lock of the read.
    pub lock: Lock,
    /// Reject the order when a level has less than its quantity.
    pub check_stock: bool,
    /// Take `pg_advisory_xact_lock(level id)` before reading each level.
    pub advisory: bool,
}

impl ReadWrite {
    pub fn new(isolation: Isolation) -> ReadWrite {
        ReadWrite {
            isolation,
            lock: Lock::None,
            check_stock: true,
            advisory: false,
        }
    }
}

/// In one transaction, for each line (in lock order): read the level, check
/// there is enough, write back `read - q` as an absolute value; then commit.
/// Without a lock this is the lost-update race; with FOR UPDATE or an
/// advisory lock it is safe.
pub(crate) async fn read_write(db: &mut Session, order: &Order, how: ReadWrite) -> StrategyResult {
    db.begin(how.isolation).await?;
    for line in lines_in_lock_order(order).iter() {
        if how.advisory {
            db.advisory_lock(line.level.sql_id()).await?;
        }
        let row = db.select_with(line.level, how.lock).await?;
        if how.check_stock && row.stocked < line.quantity {
            return reject_out_of_stock(db).await;
        }
        db.update(Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            ..Update::new(line.level)
        })
        .await?;
    }
    commit_sale(db).await
}

/// Attempts a retrying strategy makes before it gives up.
pub const MAX_ATTEMPTS: u32 = 8;

/// One attempt: `Ok(Some(sale))` ends the order; `Ok(None)` asks for another
/// attempt (an optimistic check failed).
pub(crate) type Attempt =
    for<'a> fn(&'a mut Session, &'a Order) -> BoxFuture<'a, Result<Option<Sale>, DbError>>;

/// Runs `attempt` until it decides, retrying (after ROLLBACK and a backoff of
/// 1, 2, 4 ... ms of virtual time) when it asks to or fails with an error
/// the database calls retryable ([`DbError::is_retryable`]: 40001 or 40P01
/// on PostgreSQL, 1213 or 1020 on MariaDB); at most [`MAX_ATTEMPTS`] times,
/// then the order gives up.
pub(crate) async fn retrying(db: &mut Session, order: &Order, attempt: Attempt) -> StrategyResult {
    retrying_on(db, order, attempt, DbError::is_retryable).await
}

/// [`retrying`], retrying the errors `retry` accepts.
pub(crate) async fn retrying_on(
    db: &mut Session,
    order: &Order,
    attempt: Attempt,
    retry: fn(&DbError) -> bool,
) -> StrategyResult {
    for n in 0..MAX_ATTEMPTS {
        if n > 0 {
            db.sleep(Duration::from_millis(1 << (n - 1).min(10))).await;
        }
        match attempt(db, order).await {
            Ok(Some(sale)) => return Ok(sale),
            Ok(None) => {}
            // On MariaDB the server already rolled back (and the session
            // is in autocommit); after a lost reply the connection is new.
            // Either way the ROLLBACK is a no-op there.
            Err(e) if retry(&e) => {}
            Err(e) => return Err(e),
        }
        // The ROLLBACK can fail too (its reply lost): retried alike.
        match db.rollback().await {
            Err(e) if !retry(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(Sale::GaveUp)
}
