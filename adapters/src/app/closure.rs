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

use super::control::Entry;
use super::database::{drop_from_new_thread, Server};
use super::error::AppError;
use super::execution::{AppExecution, Outcome, Timing};
use super::file::{Check, MAX_ORDERS};
use super::fleet::Endpoints;
use super::regression::AppRegression;
use super::runner::{ms, RunPlan};
use super::state::Shared;
use super::sweep::AppSweep;
use super::trace::Event;
use futures::FutureExt;
use std::fmt::Display;
use std::future::Future;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use stockrace_sim::regression::Expect;
use stockrace_sim::{Chooser, RandomChooser, ReplayChooser};
use tokio::time::Instant;

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

    /// Replays this App's kept files, then sweeps the seeds (or, with
    /// `STOCKRACE_SEED` or `STOCKRACE_REPLAY`, runs just that seed or
    /// file). Errors of setup (no server, setup SQL the server refuses, a
    /// check that fails) are in the report, and fail its assertions.
    pub async fn run(mut self) -> AppReport {
        let mut report = AppReport {
            name: self.name.clone(),
            error: None,
            kept: Vec::new(),
            sweep: None,
            server: String::new(),
            seeds_dir: self.seeds_dir.clone(),
            test: test_name(),
            first_failed_order: None,
        };
        let work = match self.work() {
            Ok(work) => work,
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        };
        let mut session = match Session::open(&self).await {
            Ok(session) => session,
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        };
        report.server = session.server.description.clone();
        let result = self.do_work(&mut session, work, &mut report).await;
        session.close().await;
        if let Err(e) = result {
            report.error = Some(e);
        }
        report
    }

    /// What to run, from the builder and the environment.
    fn work(&self) -> Result<Work, AppError> {
        let bad = |why: String| Err(AppError::Setup(format!("app {:?}: {why}", self.name)));
        if self.name.trim().is_empty() || self.name.contains(char::is_whitespace) {
            return bad("the name must be one word, such as \"sqlx-checkout\"".into());
        }
        let orders = self.order_count();
        if !(1..=MAX_ORDERS).contains(&orders) {
            return bad(format!(
                "{orders} orders; give from 1 to {MAX_ORDERS} with .orders(n, ...)"
            ));
        }
        if self.checks.is_empty() {
            return bad("no check: add one, such as .check(\"no-oversell\", \"SELECT :sold WHERE :sold > 1\")".into());
        }
        for (i, check) in self.checks.iter().enumerate() {
            if check.name.is_empty() || check.name.contains(char::is_whitespace) {
                return bad(format!("check name {:?} must be one word", check.name));
            }
            if self.checks[..i].iter().any(|c| c.name == check.name) {
                return bad(format!("check name {:?} is used twice", check.name));
            }
        }
        match (var(SEED_ENV), var(REPLAY_ENV)) {
            (Some(seed), Some(file)) => {
                return Err(AppError::Setup(format!(
                    "{SEED_ENV}={seed} and {REPLAY_ENV}={file} are both set: set one"
                )))
            }
            (Some(text), None) => {
                return match parse_number(&text) {
                    Some(seed) => Ok(Work::Seed(seed)),
                    None => Err(AppError::Setup(format!(
                        "{SEED_ENV}={text:?} is not a seed (a whole number, such as 17)"
                    ))),
                }
            }
            (None, Some(file)) => {
                if let Some(work) = self.replay_env(&file)? {
                    return Ok(work);
                }
            }
            (None, None) => {}
        }
        let count = match (self.seeds, var(SEEDS_ENV)) {
            (Some(n), _) => n,
            (None, Some(text)) => parse_number(&text).ok_or_else(|| {
                AppError::Setup(format!(
                    "{SEEDS_ENV}={text:?} is not a number of seeds (a whole number, such as 100)"
                ))
            })?,
            (None, None) => DEFAULT_SEEDS,
        };
        let end = self.first_seed.checked_add(count).ok_or_else(|| {
            AppError::Setup(format!(
                "seeds {}..{} + {count} run past the last seed",
                self.first_seed, self.first_seed
            ))
        })?;
        let mut kept = Vec::new();
        if self.seeds_dir.is_dir() {
            let entries = std::fs::read_dir(&self.seeds_dir).map_err(|e| {
                AppError::Setup(format!("{}: cannot read: {e}", self.seeds_dir.display()))
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|e| AppError::Setup(format!("{}: {e}", self.seeds_dir.display())))?
                    .path();
                if path.extension().is_none_or(|x| x != "toml") {
                    continue;
                }
                let regression =
                    AppRegression::load(&path).map_err(|e| AppError::Setup(e.to_string()))?;
                if regression.rust_app.as_deref() == Some(self.name.as_str()) {
                    kept.push((path, regression));
                }
            }
        }
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Work::Sweep {
            kept,
            seeds: self.first_seed..end,
        })
    }

    /// `STOCKRACE_REPLAY=FILE`: that file, when this App kept it. A file
    /// another App kept, or one that is not an app regression (a
    /// simulation's, for another test in the binary), is not this App's:
    /// it runs as usual, saying so.
    fn replay_env(&self, file: &str) -> Result<Option<Work>, AppError> {
        let mut path = PathBuf::from(file);
        if path.is_relative() && !path.exists() {
            if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
                path = PathBuf::from(dir).join(path);
            }
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::Setup(format!("{REPLAY_ENV}={file}: cannot read it: {e}")))?;
        let ours = format!("rust_app = {:?}", self.name);
        let kept_by = match AppRegression::load(&path) {
            Ok(r) if r.rust_app.as_deref() == Some(self.name.as_str()) => {
                return Ok(Some(Work::File(path, r)))
            }
            Ok(r) => match r.rust_app {
                Some(name) => format!("the App {name:?}"),
                None => format!("the app file {}", r.app),
            },
            Err(e) if text.contains(&ours) => {
                return Err(AppError::Setup(format!("{REPLAY_ENV}: {e}")))
            }
            Err(_) => "no Rust App".to_string(),
        };
        say(&format!(
            "stockrace: {REPLAY_ENV}={file} was kept by {kept_by}, not by the App {:?}, which runs as usual\n",
            self.name
        ));
        Ok(None)
    }

    async fn do_work(
        &mut self,
        session: &mut Session,
        work: Work,
        report: &mut AppReport,
    ) -> Result<(), AppError> {
        match work {
            Work::File(path, regression) => {
                let run = self.replay(session, path, regression).await?;
                say(&format!(
                    "stockrace: {REPLAY_ENV} is set: the App {:?} replays just that file\n{}",
                    self.name,
                    run.describe()
                ));
                report.kept.push(run);
            }
            Work::Seed(seed) => {
                let execution = self.run_seed(session, seed).await?;
                say(&format!(
                    "stockrace: {SEED_ENV}={seed} is set: the App {:?} runs just that seed (no kept files, no sweep)\nschedule: {:?}\n{}",
                    self.name,
                    execution.schedule,
                    execution.render()
                ));
                let mut sweep = AppSweep::empty(seed..seed.saturating_add(1), 1);
                sweep.count(&execution);
                sweep.set_mean_timing(&execution.timing);
                report.sweep = Some(sweep);
                if failed(&execution) {
                    report.first_failed_order = Some(execution);
                }
            }
            Work::Sweep { kept, seeds } => {
                for (path, regression) in kept {
                    let run = self.replay(session, path, regression).await?;
                    report.kept.push(run);
                }
                let mut sweep = AppSweep::empty(seeds.clone(), 1);
                let mut total = Timing::default();
                for seed in seeds {
                    let execution = self.run_seed(session, seed).await?;
                    total.copy_ms += execution.timing.copy_ms;
                    total.boot_ms += execution.timing.boot_ms;
                    total.steps_ms += execution.timing.steps_ms;
                    total.checks_ms += execution.timing.checks_ms;
                    sweep.count(&execution);
                    if report.first_failed_order.is_none() && failed(&execution) {
                        report.first_failed_order = Some(execution);
                    }
                }
                sweep.set_mean_timing(&total);
                report.sweep = Some(sweep);
            }
        }
        Ok(())
    }

    async fn run_seed(
        &mut self,
        session: &mut Session,
        seed: u64,
    ) -> Result<AppExecution, AppError> {
        let mut chooser = RandomChooser::new(seed);
        self.one_run(session, &mut chooser, Some(seed)).await
    }

    async fn replay(
        &mut self,
        session: &mut Session,
        path: PathBuf,
        regression: AppRegression,
    ) -> Result<KeptRun, AppError> {
        let mut chooser = ReplayChooser::new(regression.schedule.clone());
        let execution = self.one_run(session, &mut chooser, regression.seed).await?;
        let divergence = regression.divergence(&execution).or(chooser.divergence());
        let expectation = regression.check(&execution);
        Ok(KeptRun {
            path,
            regression,
            execution,
            expectation,
            divergence,
        })
    }

    /// One run on a fresh copy of the template: every order's closure
    /// called, scheduled by `chooser`, checked, and the copy dropped.
    async fn one_run(
        &mut self,
        session: &mut Session,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
    ) -> Result<AppExecution, AppError> {
        let started = Instant::now();
        let database = session.server.copy(&session.template).await?;
        let copy_ms = ms(started.elapsed());
        let boot = Instant::now();
        let endpoints = &session.endpoints;
        endpoints.start_run(&database).await;
        let shared = endpoints.shared.clone();
        let mut futures = Vec::with_capacity(self.order_count());
        let mut index = 0;
        for kind in &mut self.orders {
            for _ in 0..kind.count {
                shared.quietly(|state| {
                    let o = &mut state.orders[index];
                    o.new_process();
                    o.ready = !kind.calls_ready;
                });
                let url = session
                    .server
                    .environment(&database, Some(endpoints.ports[index]))
                    .into_iter()
                    .find(|(k, _)| k == "DATABASE_URL")
                    .map(|(_, v)| v)
                    .expect("the environment has a DATABASE_URL")
                    + "?sslmode=disable";
                let order = Order {
                    index,
                    url,
                    shared: shared.clone(),
                };
                futures.push(returned(index, shared.clone(), (kind.make)(order)));
                index += 1;
            }
        }
        let plan = RunPlan {
            server: &session.server,
            shared: shared.clone(),
            database: &database,
            checks: &self.checks,
            settle_ms: self.settle_ms,
            ready_timeout_ms: self.ready_timeout_ms,
            run_timeout_ms: self.run_timeout_ms,
            entry: Entry::Closure,
        };
        let all = futures::future::join_all(futures).map(|_| ());
        // The orders' futures are dropped when the scheduling ends.
        let steps = plan.schedule(chooser, boot, all).await;
        endpoints.proxy.close_connections().await;
        let result = plan.finish(seed, boot, steps).await;
        session.server.drop_all_but(&session.template).await;
        result.map(|mut execution| {
            execution.timing.copy_ms = copy_ms;
            execution
        })
    }
}

/// Runs an order's future and records what it returned (or why it
/// panicked) as its outcome.
async fn returned(index: usize, shared: Shared, order: OrderFuture) {
    let outcome = match AssertUnwindSafe(order).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(panic) => Outcome::Failed(format!("panicked: {}", panic_message(&*panic))),
    };
    shared.update(|state| {
        let o = &mut state.orders[index];
        o.outcome = Some(outcome.clone());
        o.exit = Some("returned".into());
        o.busy_since = None;
        state.trace.push(Event::Returned {
            order: index,
            outcome,
        });
        state.recheck_blocked();
    });
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".into()
    }
}

/// An environment variable's value; unset when empty (`STOCKRACE_SEED=`).
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A whole number, with optional `_` separators (`1_000`).
fn parse_number(text: &str) -> Option<u64> {
    let digits: String = text.trim().chars().filter(|c| *c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Prints on stderr past the test harness's capture, so a run asked for
/// with `STOCKRACE_SEED` or `STOCKRACE_REPLAY` shows when the test passes.
fn say(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// The test's name, as libtest names its thread (for replay commands).
fn test_name() -> Option<String> {
    let thread = std::thread::current();
    let name = thread.name()?;
    (name != "main").then(|| name.to_string())
}

enum Work {
    /// `STOCKRACE_REPLAY`: one kept file.
    File(PathBuf, AppRegression),
    /// `STOCKRACE_SEED`: one seed.
    Seed(u64),
    /// The kept files, then the seeds.
    Sweep {
        kept: Vec<(PathBuf, AppRegression)>,
        seeds: std::ops::Range<u64>,
    },
}

/// The server, the template and the proxy's endpoints of one
/// [`App::run`]. Closed explicitly; if its future is dropped first, its
/// databases are dropped from a thread of their own.
struct Session {
    server: Server,
    template: String,
    endpoints: Endpoints,
}

impl Session {
    async fn open(app: &App) -> Result<Session, AppError> {
        let mut server = Server::connect(app.pg.as_deref()).await?;
        let template = match server
            .make_template_from_sql(&format!("app {:?}: setup", app.name), app.setup.as_deref())
            .await
        {
            Ok(template) => template,
            Err(e) => {
                server.drop_all().await;
                return Err(e);
            }
        };
        let endpoints = match Endpoints::open(app.order_count(), &server) {
            Ok(endpoints) => endpoints,
            Err(e) => {
                server.drop_all().await;
                return Err(e);
            }
        };
        Ok(Session {
            server,
            template,
            endpoints,
        })
    }

    async fn close(&mut self) {
        self.endpoints.proxy.close_connections().await;
        self.server.drop_all().await;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let left = self.server.live().to_vec();
        if !left.is_empty() {
            drop_from_new_thread(&self.server.config, left);
        }
    }
}

/// One order of an [`App::orders_with`] run: its URL, its number, and the
/// way to say that its warm-up is over.
pub struct Order {
    index: usize,
    url: String,
    shared: Shared,
}

impl Order {
    /// The URL of this order's own proxy endpoint and the run's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// 0 for T1, 1 for T2, ...
    pub fn index(&self) -> usize {
        self.index
    }

    /// From here on this order's statements are scheduled. Call it before
    /// the first statement of the code under test.
    pub fn ready(&self) {
        self.shared
            .update(|state| state.orders[self.index].ready = true);
    }
}

/// What an order's closure may return.
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Outcome {
    /// As it is (`Unfinished` is for runs cut off: returned, it is a failure).
    fn into_outcome(self) -> Outcome {
        match self {
            Outcome::Unfinished => Outcome::Failed("returned Outcome::Unfinished".into()),
            outcome => outcome,
        }
    }
}

impl IntoOutcome for bool {
    /// `true`: sold 1 unit; `false`: out of stock.
    fn into_outcome(self) -> Outcome {
        if self {
            Outcome::Sold(1)
        } else {
            Outcome::OutOfStock
        }
    }
}

impl<T: IntoOutcome, E: Display> IntoOutcome for Result<T, E> {
    /// `Err(e)`: failed, with `e`'s message.
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(value) => value.into_outcome(),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// A kept file replayed by [`App::run`].
#[derive(Debug)]
pub struct KeptRun {
    pub path: PathBuf,
    pub regression: AppRegression,
    pub execution: AppExecution,
    /// Whether the run showed what the file expects, and if not, why.
    pub expectation: Result<(), String>,
    /// Where the orders (or the schedule) took another path than recorded.
    pub divergence: Option<String>,
}

impl KeptRun {
    fn describe(&self) -> String {
        let mut text = format!(
            "stockrace: replayed {} (seed {}, schedule {:?})\n{}",
            self.path.display(),
            self.regression
                .seed
                .map_or("none".to_string(), |s| s.to_string()),
            self.regression.schedule,
            self.execution.render()
        );
        if let Some(d) = &self.divergence {
            text += &format!("divergence: {d}\n");
        }
        text += &match &self.expectation {
            Ok(()) => "expectation: met\n".to_string(),
            Err(why) => format!("expectation: NOT met: {why}\n"),
        };
        text
    }
}

/// What [`App::run`] found.
#[derive(Debug)]
pub struct AppReport {
    /// The App's name.
    pub name: String,
    /// Why the App could not run (no server, setup SQL refused, a check
    /// that fails, bad input); the assertions fail with it.
    pub error: Option<AppError>,
    /// The kept files replayed, in file name order.
    pub kept: Vec<KeptRun>,
    /// The seeds swept (none when `STOCKRACE_REPLAY` ran one file).
    pub sweep: Option<AppSweep>,
    /// `host:port/database` of the server.
    pub server: String,
    seeds_dir: PathBuf,
    test: Option<String>,
    /// The first swept run in which an order failed.
    first_failed_order: Option<AppExecution>,
}

impl AppReport {
    /// The first run that violated a check: a kept file's, then the sweep's.
    pub fn first_violation(&self) -> Option<&AppExecution> {
        self.kept
            .iter()
            .map(|k| &k.execution)
            .find(|e| !e.holds())
            .or(self.sweep.as_ref().and_then(|s| s.first_failure.as_ref()))
    }

    /// Panics unless every kept file and every seed held every check and no
    /// order failed (returned an error or panicked). A failure the sweep
    /// found is kept as a new file first. The message has the seed, the
    /// schedule, the trace and how to run it again.
    #[track_caller]
    pub fn assert_holds(&self) {
        self.assert_ran();
        for kept in &self.kept {
            if kept.expectation.is_ok() && kept.regression.expect == Expect::Violates {
                let v = kept.execution.violation.as_ref().expect("it violates");
                panic!(
                    "stockrace: app {:?}: kept file {} still violates {}: {}\n{}\n\n{}",
                    self.name,
                    kept.path.display(),
                    v.check,
                    v.detail,
                    self.how_to_replay(&kept.path),
                    kept.execution.render()
                );
            }
        }
        if let Some(execution) = self.sweep.as_ref().and_then(|s| s.first_failure.as_ref()) {
            let v = execution.violation.as_ref().expect("a failure");
            let seed = execution.seed.expect("sweeps are seeded");
            panic!(
                "stockrace: app {:?} violated {} at seed {seed}: {}\nschedule: {:?}\n{}\n{}\n\n{}",
                self.name,
                v.check,
                v.detail,
                execution.schedule,
                self.keep(execution),
                self.how_to_run_seed(seed),
                execution.render()
            );
        }
        let failed = self.kept.iter().map(|k| &k.execution).find(|e| failed(e));
        if let Some(execution) = failed {
            panic!(
                "stockrace: app {:?}: an order failed in a kept file's run{}\n\n{}",
                self.name,
                first_failure_reason(execution),
                execution.render()
            );
        }
        if let (Some(sweep), Some(execution)) = (&self.sweep, &self.first_failed_order) {
            panic!(
                "stockrace: app {:?}: {} order(s) failed over {} run(s); at seed {}{}\nEvery check held, but an order that fails sold nothing: map the errors your code expects to an outcome in the closure (e.g. a 40001 it gives up on to Outcome::OutOfStock), or fix what failed.\n{}\n\n{}",
                self.name,
                sweep.failed,
                sweep.runs,
                execution.seed.expect("sweeps are seeded"),
                first_failure_reason(execution),
                self.how_to_run_seed(execution.seed.expect("sweeps are seeded")),
                execution.render()
            );
        }
    }

    /// Panics unless some run violated a check; returns the first that did.
    /// For tests that document a hazard. When no kept file of this App shows
    /// a violation yet, the first one found is kept, so that later runs
    /// replay it exactly.
    #[track_caller]
    pub fn assert_violates(&self) -> &AppExecution {
        self.assert_ran();
        let kept_violation = self
            .kept
            .iter()
            .any(|k| k.expectation.is_ok() && !k.execution.holds());
        match self.first_violation() {
            Some(execution) => {
                if !kept_violation {
                    let kept = self.keep(execution);
                    say(&format!("stockrace: app {:?}: {kept}\n", self.name));
                }
                execution
            }
            None => panic!(
                "stockrace: expected the app {:?} to violate a check, but {} seed(s) and {} kept file(s) held",
                self.name,
                self.sweep.as_ref().map_or(0, |s| s.runs),
                self.kept.len()
            ),
        }
    }

    /// Fails on a setup error, and on a kept file whose expectation is no
    /// longer met (with what to do about it).
    #[track_caller]
    fn assert_ran(&self) {
        if let Some(e) = &self.error {
            panic!("stockrace: app {:?}: {e}", self.name);
        }
        for kept in &self.kept {
            if let Err(why) = &kept.expectation {
                let flip = match kept.regression.expect {
                    Expect::Violates => "holds",
                    Expect::Holds => "violates",
                };
                panic!(
                    "stockrace: app {:?}: kept file {}: {why}.{}\nIf the code changed on purpose, delete the file, or set `expect = \"{flip}\"` in it to keep this schedule as a regression test.\n{}\n\n{}",
                    self.name,
                    kept.path.display(),
                    kept.divergence
                        .as_ref()
                        .map_or(String::new(), |d| format!(" The run took another path than recorded: {d}.")),
                    self.how_to_replay(&kept.path),
                    kept.execution.render()
                );
            }
        }
    }

    /// Keeps `execution` in the seeds directory; says where (or why not).
    fn keep(&self, execution: &AppExecution) -> String {
        let regression = AppRegression::of_rust_app(&self.name, execution);
        match regression.save(&self.seeds_dir) {
            Ok(saved) if saved.new => format!(
                "kept as {} ({})",
                saved.path.display(),
                self.how_to_replay(&saved.path)
            ),
            Ok(saved) => format!("already kept as {}", saved.path.display()),
            Err(e) => format!("could not keep it in {}: {e}", self.seeds_dir.display()),
        }
    }

    fn cargo_test(&self) -> String {
        match &self.test {
            Some(test) => format!("cargo test {test}"),
            None => "cargo test <this test>".to_string(),
        }
    }

    fn how_to_replay(&self, path: &Path) -> String {
        format!(
            "replay: {REPLAY_ENV}={} {}",
            path.display(),
            self.cargo_test()
        )
    }

    fn how_to_run_seed(&self, seed: u64) -> String {
        format!("run it again: {SEED_ENV}={seed} {}", self.cargo_test())
    }
}

fn failed(execution: &AppExecution) -> bool {
    execution
        .orders
        .iter()
        .any(|o| matches!(o.outcome, Outcome::Failed(_)))
}

fn first_failure_reason(execution: &AppExecution) -> String {
    execution
        .orders
        .iter()
        .enumerate()
        .find_map(|(i, o)| match &o.outcome {
            Outcome::Failed(why) => Some(format!(": T{} failed: {why}", i + 1)),
            _ => None,
        })
        .unwrap_or_default()
}
