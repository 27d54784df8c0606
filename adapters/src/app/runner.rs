//! One app sweep's session with the server: the template made once, then
//! runs, each on a fresh copy, with the proxy, the order processes and the
//! scheduler in between. Everything a run starts ends with it: processes
//! (their whole group), proxy endpoints and connections, and its database,
//! also when it is interrupted.
//!
//! `RunPlan` is one run's scheduling and judging whoever the orders are:
//! the closure entry ([`App`](super::App)) uses it too.

use super::control::{Control, Ended, Entry};
use super::database::Server;
use super::error::AppError;
use super::execution::Outcome;
use super::execution::{AppExecution, CheckViolation, OrderRecord, Timing, TERMINATION};
use super::file::{AppFile, Check};
use super::fleet::Fleet;
use super::state::Shared;
use std::time::Duration;
use stockrace_sim::{Chooser, RandomChooser, ReplayChooser};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::time::Instant;

/// How the session connects and whether Ctrl-C ends it.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// A connection string; `None` for the PG* variables.
    pub pg: Option<String>,
    /// Catch Ctrl-C (SIGINT) and SIGTERM: the current run is stopped and
    /// cleaned up and calls return [`AppError::Interrupted`]. For
    /// command-line tools; a test harness should leave signals alone.
    pub interruptible: bool,
}

pub struct AppRunner {
    app: AppFile,
    runtime: tokio::runtime::Runtime,
    server: Server,
    template: String,
    interrupt: Option<[Signal; 2]>,
    /// The order processes and proxy endpoints, kept between runs.
    fleet: Option<Fleet>,
}

impl AppRunner {
    /// Connects, makes the template (runs `prepare`, then `setup`).
    pub fn open(app: AppFile, options: &AppOptions) -> Result<AppRunner, AppError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::Setup(format!("cannot start a tokio runtime: {e}")))?;
        let mut interrupt = if options.interruptible {
            let _guard = runtime.enter();
            let catch = |kind| {
                signal(kind)
                    .map_err(|e| AppError::Setup(format!("cannot catch Ctrl-C and SIGTERM: {e}")))
            };
            Some([
                catch(SignalKind::interrupt())?,
                catch(SignalKind::terminate())?,
            ])
        } else {
            None
        };
        let pg = options.pg.clone();
        let mut server = runtime.block_on(async { Server::connect(pg.as_deref()).await })?;
        let made = runtime.block_on(async {
            tokio::select! {
                made = server.make_template(&app) => made,
                _ = interrupted(&mut interrupt) => Err(AppError::Interrupted),
            }
        });
        match made {
            Ok(template) => Ok(AppRunner {
                app,
                runtime,
                server,
                template,
                interrupt,
                fleet: None,
            }),
            Err(e) => {
                runtime.block_on(server.drop_all());
                Err(e)
            }
        }
    }

    pub fn app(&self) -> &AppFile {
        &self.app
    }

    /// `host:port/database` of the server.
    pub fn server(&self) -> &str {
        &self.server.description
    }

    /// One run with seeded random choices.
    pub fn run_seed(&mut self, seed: u64) -> Result<AppExecution, AppError> {
        let mut chooser = RandomChooser::new(seed);
        self.run(&mut chooser, Some(seed))
    }

    /// One run that follows `schedule`; the second value says where the run
    /// left the schedule, if it did.
    pub fn run_schedule(
        &mut self,
        schedule: &[u32],
        seed: Option<u64>,
    ) -> Result<(AppExecution, Option<String>), AppError> {
        let mut chooser = ReplayChooser::new(schedule.to_vec());
        let execution = self.run(&mut chooser, seed)?;
        Ok((execution, chooser.divergence()))
    }

    /// One run with `chooser` deciding at every quiet point.
    pub fn run(
        &mut self,
        chooser: &mut dyn Chooser,
        seed: Option<u64>,
    ) -> Result<AppExecution, AppError> {
        let started = Instant::now();
        let AppRunner {
            app,
            runtime,
            server,
            template,
            interrupt,
            fleet,
        } = self;
        if fleet.is_none() {
            let _context = runtime.enter();
            *fleet = Some(Fleet::open(app, server)?);
        }
        let crew = fleet.as_mut().expect("opened");
        let database = runtime.block_on(async {
            tokio::select! {
                made = server.copy(template) => made,
                _ = interrupted(interrupt) => Err(AppError::Interrupted),
            }
        });
        let result = match database {
            Ok(database) => {
                let copy_ms = ms(started.elapsed());
                let result = runtime.block_on(async {
                    tokio::select! {
                        run = one_run(app, server, crew, &database, chooser, seed) => run,
                        _ = interrupted(interrupt) => Err(AppError::Interrupted),
                    }
                });
                result.map(|mut execution| {
                    execution.timing.copy_ms = copy_ms;
                    execution
                })
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Cut short: nothing of the run may serve another.
            if let Some(mut crew) = fleet.take() {
                runtime.block_on(crew.stop());
            }
        }
        // Whatever happened: the run's database goes (and any other left).
        runtime.block_on(server.drop_all_but(template));
        result
    }
}

impl Drop for AppRunner {
    fn drop(&mut self) {
        if let Some(mut fleet) = self.fleet.take() {
            self.runtime.block_on(fleet.stop());
        }
        self.runtime.block_on(self.server.drop_all());
    }
}

async fn interrupted(signals: &mut Option<[Signal; 2]>) {
    match signals {
        Some([interrupt, terminate]) => {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        None => std::future::pending().await,
    }
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn one_run(
    app: &AppFile,
    server: &Server,
    fleet: &mut Fleet,
    database: &str,
    chooser: &mut dyn Chooser,
    seed: Option<u64>,
) -> Result<AppExecution, AppError> {
    let boot = Instant::now();
    fleet.start_run(app, server, database).await?;
    let plan = RunPlan {
        server,
        shared: fleet.endpoints.shared.clone(),
        database,
        checks: &app.checks,
        settle_ms: app.settle_ms,
        ready_timeout_ms: app.ready_timeout_ms,
        run_timeout_ms: app.run_timeout_ms,
        entry: Entry::Process {
            command: app.command.join(" "),
            reuse: app.reuse,
        },
    };
    let steps = plan
        .schedule(chooser, boot, std::future::pending::<()>())
        .await;
    fleet.end_run().await;
    plan.finish(seed, boot, steps).await
}

/// What one run needs, whoever its orders are (processes or closures):
/// the server and the run's database, the state the proxy shares, the
/// checks and the time limits.
pub(crate) struct RunPlan<'a> {
    pub server: &'a Server,
    pub shared: Shared,
    pub database: &'a str,
    pub checks: &'a [Check],
    pub settle_ms: u64,
    pub ready_timeout_ms: u64,
    pub run_timeout_ms: u64,
    pub entry: Entry,
}

/// How the scheduling of a run went: the scheduler's result, the choices
/// it made, and the times for the timing figures.
pub(crate) struct Steps {
    ended: Result<Ended, AppError>,
    schedule: Vec<u32>,
    ready_at: Option<Instant>,
    done_at: Instant,
}

impl RunPlan<'_> {
    /// Schedules the run until every order is done or the run's time runs
    /// out, polling `orders` (the orders' own futures, for closures; never
    /// ready, for processes) alongside the scheduler in this task. `orders`
    /// is dropped when the scheduler ends: an order still running then is
    /// cut off (it is `unfinished`).
    pub async fn schedule(
        &self,
        chooser: &mut dyn Chooser,
        boot: Instant,
        orders: impl std::future::Future<Output = ()>,
    ) -> Steps {
        let mut control = Control {
            shared: self.shared.clone(),
            monitor: &self.server.admin,
            chooser,
            settle: Duration::from_millis(self.settle_ms),
            settle_ms: self.settle_ms,
            deadline: boot + Duration::from_millis(self.run_timeout_ms),
            entry: self.entry.clone(),
            schedule: Vec::new(),
            ready_at: None,
        };
        let ended = {
            let run = control.run(boot + Duration::from_millis(self.ready_timeout_ms));
            tokio::pin!(run);
            tokio::pin!(orders);
            let mut orders_done = false;
            loop {
                tokio::select! {
                    ended = &mut run => break ended,
                    () = &mut orders, if !orders_done => orders_done = true,
                }
            }
        };
        Steps {
            ended,
            schedule: std::mem::take(&mut control.schedule),
            ready_at: control.ready_at,
            done_at: Instant::now(),
        }
    }

    /// The run as it ended: each order's outcome and statements, the trace,
    /// and the checks' verdict (run on the run's database), once the orders
    /// are stopped.
    pub async fn finish(
        &self,
        seed: Option<u64>,
        boot: Instant,
        steps: Steps,
    ) -> Result<AppExecution, AppError> {
        let Steps {
            ended,
            schedule,
            ready_at,
            done_at,
        } = steps;
        let ended = ended?;
        let (orders, events, steps, stalls) = {
            let state = self.shared.lock();
            let orders: Vec<OrderRecord> = state
                .orders
                .iter()
                .map(|o| OrderRecord {
                    outcome: o.outcome.clone().unwrap_or(Outcome::Unfinished),
                    statements: o.statements.clone(),
                    unscheduled: o.unscheduled,
                    stalls: o.stalls,
                    exit: o.exit.clone(),
                })
                .collect();
            (
                orders,
                state.trace.clone(),
                state.trace.steps(),
                state.trace.stalls(),
            )
        };
        let mut execution = AppExecution {
            seed,
            schedule,
            steps,
            trace: events.lines(),
            events,
            orders,
            violation: None,
            stalls,
            timing: Timing::default(),
        };
        let checks = Instant::now();
        execution.violation = match ended {
            Ended::Hung => {
                let running: Vec<String> = execution
                    .orders
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.outcome == Outcome::Unfinished)
                    .map(|(i, _)| format!("T{}", i + 1))
                    .collect();
                Some(CheckViolation {
                    check: TERMINATION.into(),
                    detail: format!(
                        "{} still running after run_timeout_ms ({} ms)",
                        running.join(", "),
                        self.run_timeout_ms
                    ),
                })
            }
            Ended::Finished => self
                .server
                .first_violation(
                    self.database,
                    self.checks,
                    execution.sold(),
                    execution.sold_orders(),
                )
                .await?
                .map(|(check, detail)| CheckViolation { check, detail }),
        };
        let ready_at = ready_at.unwrap_or(done_at);
        execution.timing.boot_ms = ms(ready_at.duration_since(boot));
        execution.timing.steps_ms = ms(done_at.duration_since(ready_at));
        execution.timing.checks_ms = ms(checks.elapsed());
        Ok(execution)
    }
}
