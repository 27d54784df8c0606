//! Application runs whose orders are Rust async closures: a team's own
//! sqlx or tokio-postgres checkout, scheduled statement by statement on a
//! real PostgreSQL from a `#[tokio::test]`, with the same proxy, scheduler,
//! checks, traces and kept files as `stockrace app` (only how an order is
//! started and how it reports its outcome differ).
//!
//! ```no_run
//! use stockrace_adapters::app::App;
//!
//! async fn checkout(url: &str) -> Result<bool, tokio_postgres::Error> {
//!     let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
//!     tokio::spawn(connection);
//!     let n = client
//!         .execute("UPDATE stock SET n = n - 1 WHERE id = 1 AND n >= 1", &[])
//!         .await?;
//!     Ok(n == 1) // true: sold 1; false: out of stock
//! }
//!
//! # async fn test() {
//! App::new("guarded")
//!     .setup("CREATE TABLE stock (id int PRIMARY KEY, n int NOT NULL); INSERT INTO stock VALUES (1, 1);")
//!     .check("no-oversell", "SELECT :sold WHERE :sold > 1")
//!     .orders(2, |url| async move { checkout(&url).await })
//!     .seeds(20)
//!     .run()
//!     .await
//!     .assert_holds();
//! # }
//! ```
//!
//! **Runtime.** [`App::run`] is an `async fn` that runs in the caller's
//! tokio runtime (`#[tokio::test]`, either flavour): the proxy's endpoints
//! are tasks spawned there, and the orders' futures are polled in the
//! caller's own task, beside the scheduler, so they need not be `Send`.
//! Nothing blocks the runtime, and there is no runtime of stockrace's own
//! (the file entry's [`AppRunner`](super::AppRunner) has one and blocks on
//! it, so it cannot be used from inside a runtime). From a plain `#[test]`,
//! build a runtime (`tokio::runtime::Runtime::new()?.block_on(app.run())`).
//! The runtime needs IO and time enabled, with time not paused: the
//! scheduler waits in real time for the orders to reach the proxy.
//!
//! **Orders.** Each run calls every order's closure anew with the URL of
//! its own proxy endpoint (`postgres://...@127.0.0.1:PORT/<the run's
//! database>`), on a fresh copy of the database made by
//! [`App::setup`]; every connection the order opens there (a whole pool) is
//! that order's. With [`App::orders`], every statement after a connection's
//! start-up is scheduled. With [`App::orders_with`], the closure gets an
//! [`Order`] and statements it sends before [`Order::ready`] pass
//! unscheduled (a warm-up); the scheduler starts when every order is ready.
//! When a run ends, the futures of orders still running are dropped.
//!
//! **Outcomes.** What the closure returns becomes the order's
//! [`Outcome`] through [`IntoOutcome`]: `true` sold 1 unit, `false` out of
//! stock, an `Outcome` as it is, `Err(e)` failed with `e`'s message, and a
//! panic failed with the panic's message. `:sold` in a check is the units
//! sold, `:sold_orders` the orders that sold.
//!
//! **Kept files and replay.** [`App::run`] first replays the files in the
//! seeds directory (`<crate>/seeds/app`) that this `App`'s name kept, then
//! sweeps the seeds (`STOCKRACE_SEEDS`, or 20). `STOCKRACE_SEED=N` runs just
//! seed N and `STOCKRACE_REPLAY=FILE` just that kept file, each printing the
//! run's trace past the test harness's capture (the same variables as the
//! simulator's `Builder`; both set is an error, and an `App` that did not
//! keep the file runs as usual, saying so). [`AppReport::assert_holds`] keeps a failure it finds as a new
//! file; [`AppReport::assert_violates`] keeps the first violation when no
//! kept file shows one yet. A kept file whose expectation is no longer met
//! fails either assertion, saying what to do.

use super::execution::Outcome;
use super::file::Check;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

mod order;
mod report;
mod run;

pub use order::{IntoOutcome, Order};
pub use report::{AppReport, KeptRun};

/// How many seeds to sweep when neither [`App::seeds`] nor this says.
pub const SEEDS_ENV: &str = "STOCKRACE_SEEDS";
/// Run just this seed, and print its run.
pub const SEED_ENV: &str = "STOCKRACE_SEED";
/// Run just this kept file (when it is this `App`'s), and print its run.
pub const REPLAY_ENV: &str = "STOCKRACE_REPLAY";
/// Seeds swept when neither [`App::seeds`] nor `STOCKRACE_SEEDS` says.
pub const DEFAULT_SEEDS: u64 = 20;

type OrderFuture = Pin<Box<dyn Future<Output = Outcome>>>;

/// Orders of one kind: how many, whether they say when they are ready, and
/// the closure that makes each one's future.
struct Orders {
    count: usize,
    calls_ready: bool,
    make: Box<dyn FnMut(Order) -> OrderFuture>,
}

/// An application under test whose orders are async closures. See the
/// module documentation.
#[must_use = "an App does nothing until `.run().await`"]
pub struct App {
    name: String,
    setup: Option<String>,
    checks: Vec<Check>,
    orders: Vec<Orders>,
    seeds: Option<u64>,
    first_seed: u64,
    pg: Option<String>,
    settle_ms: u64,
    ready_timeout_ms: u64,
    run_timeout_ms: u64,
    seeds_dir: PathBuf,
}

impl App {
    /// An application named `name`: the name its kept files carry (one
    /// word, such as `"sqlx-read-then-write"`; give each `App` its own).
    pub fn new(name: &str) -> App {
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        App {
            name: name.to_string(),
            setup: None,
            checks: Vec::new(),
            orders: Vec::new(),
            seeds: None,
            first_seed: 0,
            pg: None,
            settle_ms: 5_000,
            ready_timeout_ms: 60_000,
            run_timeout_ms: 120_000,
            seeds_dir: crate_dir.join("seeds").join("app"),
        }
    }

    /// SQL run once on the template database; every run gets a fresh copy.
    pub fn setup(mut self, sql: &str) -> App {
        self.setup = Some(sql.to_string());
        self
    }

    /// A check run on the run's database after every run: any row it
    /// returns means the run violated it. `:sold` is the units the orders
    /// sold, `:sold_orders` the orders that sold.
    pub fn check(mut self, name: &str, sql: &str) -> App {
        self.checks.push(Check {
            name: name.to_string(),
            sql: sql.to_string(),
        });
        self
    }

    /// `count` orders, each running `order(url)` in every run; every
    /// statement they send (after a connection's start-up) is scheduled.
    pub fn orders<F, Fut>(self, count: usize, mut order: F) -> App
    where
        F: FnMut(String) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: IntoOutcome,
    {
        self.add_orders(count, false, move |o: Order| order(o.url))
    }

    /// `count` orders, each running `order(Order)` in every run: statements
    /// sent before [`Order::ready`] are not scheduled (a warm-up, such as
    /// filling a pool); every order must call it.
    pub fn orders_with<F, Fut>(self, count: usize, order: F) -> App
    where
        F: FnMut(Order) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: IntoOutcome,
    {
        self.add_orders(count, true, order)
    }

    fn add_orders<F, Fut>(mut self, count: usize, calls_ready: bool, mut order: F) -> App
    where
        F: FnMut(Order) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: IntoOutcome,
    {
        self.orders.push(Orders {
            count,
            calls_ready,
            make: Box::new(move |o: Order| {
                let run = order(o);
                Box::pin(async move { run.await.into_outcome() })
            }),
        });
        self
    }

    /// Seeds to sweep (overrides `STOCKRACE_SEEDS`; default 20).
    pub fn seeds(mut self, seeds: u64) -> App {
        self.seeds = Some(seeds);
        self
    }

    pub fn first_seed(mut self, seed: u64) -> App {
        self.first_seed = seed;
        self
    }

    /// A connection string for the server (default: the PG* variables).
    pub fn pg(mut self, url: &str) -> App {
        self.pg = Some(url.to_string());
        self
    }

    /// Where kept files are read and written (default `<crate>/seeds/app`).
    pub fn seeds_dir(mut self, dir: impl AsRef<Path>) -> App {
        self.seeds_dir = dir.as_ref().to_path_buf();
        self
    }

    /// How long an order may run its own code without a statement before
    /// the scheduler goes on without it (recorded as a stall; default 5000).
    pub fn settle_ms(mut self, ms: u64) -> App {
        self.settle_ms = ms;
        self
    }

    /// How long an [`App::orders_with`] order may take to call
    /// [`Order::ready`] (default 60000).
    pub fn ready_timeout_ms(mut self, ms: u64) -> App {
        self.ready_timeout_ms = ms;
        self
    }

    /// How long one run may take before it is a `termination` violation
    /// (default 120000).
    pub fn run_timeout_ms(mut self, ms: u64) -> App {
        self.run_timeout_ms = ms;
        self
    }

    fn order_count(&self) -> usize {
        self.orders.iter().map(|o| o.count).sum()
    }
}
