//! How an [`App`] runs: the session (server, template database, proxy
//! endpoints), what the environment asks for (a kept file, a seed, or the
//! sweep), and one run of the orders' futures beside the scheduler.

use super::report::failed;
use super::{
    App, AppReport, KeptRun, Order, OrderFuture, DEFAULT_SEEDS, REPLAY_ENV, SEEDS_ENV, SEED_ENV,
};
use crate::app::control::Entry;
use crate::app::database::{drop_from_new_thread, Server};
use crate::app::error::AppError;
use crate::app::execution::{AppExecution, Outcome, Timing};
use crate::app::file::MAX_ORDERS;
use crate::app::fleet::Endpoints;
use crate::app::regression::AppRegression;
use crate::app::runner::{ms, RunPlan};
use crate::app::state::Shared;
use crate::app::sweep::AppSweep;
use crate::app::trace::Event;
use futures::FutureExt;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use stockrace_sim::{Chooser, RandomChooser, ReplayChooser};
use tokio::time::Instant;

impl App {
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
pub(super) fn say(text: &str) {
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
