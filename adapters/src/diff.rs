//! Does the model agree with a real database? Each seed's schedule is run on
//! the model, then replayed on the scenario's database (PostgreSQL or
//! MariaDB, a [`Server`]) with the same strategies, and the two executions
//! are compared: every statement each session sent and what it got back
//! (rows, error, or having to wait), each order's outcome, and the final
//! rows.
//!
//! Some orderings are races inside the server itself: when several
//! statements wait for a row that its holder updated, they race for the new
//! version once it commits, and a PostgreSQL waiter's deadlock_timeout is a
//! real-time timer. Where a PostgreSQL server runs on this machine the
//! driver takes both out of the server's hands: it pauses waiting backends
//! and lets them go one at a time, in the model's order (`postgres::pause`).
//! MariaDB's sessions are threads of one process and cannot be paused.
//! Elsewhere a real disagreement of the model reproduces and a race does
//! not: a run that disagrees is replayed on the server again, up to
//! [`ATTEMPTS`] times in all, and counts as agreeing (and as retried) if any
//! replay agrees. The report says how many runs went unpaused (PostgreSQL).
//!
//! Within one session the sequence must match exactly. Whom a waiting
//! statement waits for is not compared (PostgreSQL's lock queue can name a
//! queued waiter where the model names the holder), nor a waiting statement
//! going on waiting for someone else after a wake-up: the reference records
//! only that a statement blocked and what it finally returned.

use crate::driver::ServerError;
use crate::mariadb::{MariaDbBackend, MariaDbServer};
use crate::postgres::{PgBackend, PgServer};
use std::ops::Range;
use stockrace_model::{Database, Progress};
use stockrace_sim::trace::{result_text, TraceEvent};
use stockrace_sim::{Backend, Execution, RandomChooser, ReplayChooser, Simulation};

/// A real database that schedules are replayed on.
pub trait Server {
    type Run<'s>: Backend
    where
        Self: 's;
    /// The database it is.
    const DATABASE: Database;
    /// Its name in reports.
    const NAME: &'static str;
    /// Where it is, for reports.
    fn description(&self) -> &str;
    /// A fresh run of `simulation`: its rows, one session per order.
    fn run(&self, simulation: &Simulation) -> Result<Self::Run<'_>, ServerError>;
    /// Runs so far whose waiting sessions ran free rather than paused and
    /// woken one at a time. Only PostgreSQL's can be paused; MariaDB's
    /// never are, so it counts none and leaves its races to the retries.
    fn unpaused_runs(&self) -> u64 {
        0
    }
}

impl Server for PgServer {
    type Run<'s> = PgBackend<'s>;
    const DATABASE: Database = Database::Postgres15;
    const NAME: &'static str = "PostgreSQL";
    fn description(&self) -> &str {
        &self.description
    }
    fn run(&self, simulation: &Simulation) -> Result<PgBackend<'_>, ServerError> {
        self.backend(simulation)
    }
    fn unpaused_runs(&self) -> u64 {
        PgServer::unpaused_runs(self)
    }
}

impl Server for MariaDbServer {
    type Run<'s> = MariaDbBackend<'s>;
    const DATABASE: Database = Database::MariaDb1011;
    const NAME: &'static str = "MariaDB";
    fn description(&self) -> &str {
        &self.description
    }
    fn run(&self, simulation: &Simulation) -> Result<MariaDbBackend<'_>, ServerError> {
        self.simulation_backend(simulation)
    }
}

/// The first run that disagreed.
#[derive(Debug)]
pub struct Disagreement {
    pub seed: u64,
    pub what: String,
    pub model: Execution,
    pub database: Execution,
    /// The server's name ([`Server::NAME`]).
    pub server: &'static str,
}

impl Disagreement {
    /// Both traces, side by side (see [`side_by_side`]).
    pub fn side_by_side(&self) -> String {
        side_by_side(&self.model, &self.database, self.server)
    }
}

/// Replays of a disagreeing run on the server before it counts as a disagreement.
pub const ATTEMPTS: u32 = 5;

#[derive(Debug, Default)]
pub struct DiffReport {
    pub compared: u64,
    pub agreeing: u64,
    /// Runs that agreed only on a second or later replay on the server.
    pub retried: u64,
    /// Their seeds, in order: a retried run is a race on the server the
    /// driver did not make deterministic, worth replaying by hand.
    pub retried_seeds: Vec<u64>,
    /// What the first replay of each of them disagreed on, in the same order.
    pub retried_what: Vec<String>,
    /// Runs with a replay on PostgreSQL whose waiting backends ran free
    /// rather than paused and woken one at a time (see `postgres::pause`).
    pub unpaused: u64,
    /// Every run that disagreed on every replay, in order: its seed and
    /// what it disagreed on.
    pub disagreeing: Vec<(u64, String)>,
    /// The first of them, with both executions.
    pub first: Option<Disagreement>,
}

impl DiffReport {
    /// Adds a later range's report to this one (the first disagreement
    /// stays the earliest).
    pub fn absorb(&mut self, later: DiffReport) {
        self.compared += later.compared;
        self.agreeing += later.agreeing;
        self.retried += later.retried;
        self.retried_seeds.extend(later.retried_seeds);
        self.retried_what.extend(later.retried_what);
        self.unpaused += later.unpaused;
        self.disagreeing.extend(later.disagreeing);
        if self.first.is_none() {
            self.first = later.first;
        }
    }
}

/// Runs every seed on the model and on `server`, comparing as it goes.
/// `on_run` hears about each run (seed, agreed) as it finishes.
pub fn diff<S: Server>(
    simulation: &Simulation,
    server: &S,
    seeds: Range<u64>,
    on_run: impl FnMut(u64, bool),
) -> Result<DiffReport, ServerError> {
    diff_with(simulation, server, seeds, || simulation.new_store(), on_run)
}

/// [`diff`] with the model side run on the backends `model` makes (a
/// deliberately wrong model, in the tests that show diff can fail).
pub fn diff_with<S: Server, B: Backend>(
    simulation: &Simulation,
    server: &S,
    seeds: Range<u64>,
    model: impl Fn() -> B,
    mut on_run: impl FnMut(u64, bool),
) -> Result<DiffReport, ServerError> {
    let database = simulation.scenario().database;
    if database != S::DATABASE {
        return Err(ServerError::Setup(format!(
            "this scenario runs on {database}, and {} is {}: diff needs a server of the scenario's database",
            S::NAME,
            S::DATABASE
        )));
    }
    let mut report = DiffReport::default();
    for seed in seeds {
        let model = simulation.run_on(&mut RandomChooser::new(seed), Some(seed), model());
        let unpaused_before = server.unpaused_runs();
        let mut attempt = 0;
        let mut first_what = None;
        let (verdict, database) = loop {
            attempt += 1;
            let backend = server.run(simulation)?;
            let database = simulation.run_on(
                &mut ReplayChooser::new(model.schedule.clone()),
                Some(seed),
                backend,
            );
            let verdict = compare(&model, &database, S::NAME);
            if verdict.is_ok() || attempt == ATTEMPTS {
                break (verdict, database);
            }
            first_what = first_what.or(verdict.err());
        };
        report.compared += 1;
        report.unpaused += u64::from(server.unpaused_runs() > unpaused_before);
        on_run(seed, verdict.is_ok());
        match verdict {
            Ok(()) => {
                report.agreeing += 1;
                if attempt > 1 {
                    report.retried += 1;
                    report.retried_seeds.push(seed);
                    report.retried_what.extend(first_what);
                }
            }
            Err(what) => {
                report.disagreeing.push((seed, what.clone()));
                report.first.get_or_insert(Disagreement {
                    seed,
                    what,
                    model,
                    database,
                    server: S::NAME,
                });
            }
        }
    }
    Ok(report)
}

/// What one session sent and got back, in order: (statement, result).
fn observations(execution: &Execution) -> Vec<Vec<(String, String)>> {
    let mut sessions = vec![Vec::new(); execution.outcomes.len()];
    for event in &execution.trace {
        if let TraceEvent::Statement { event, .. } = event {
            let result = match event.progress {
                Progress::Waiting { .. } if event.resumed => continue,
                Progress::Waiting { .. } => "waits".to_string(),
                Progress::Done(_) => result_text(event),
            };
            sessions[event.session.index()].push((event.statement.to_string(), result));
        }
    }
    sessions
}

/// `Ok` when the two runs agree; otherwise the first difference, in words.
/// `server` names the database in the words.
pub fn compare(model: &Execution, database: &Execution, server: &str) -> Result<(), String> {
    if let Some(note) = &database.divergence {
        return Err(format!(
            "the database run left the model's schedule: {note}"
        ));
    }
    let (ours, theirs) = (observations(model), observations(database));
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        for (n, pair) in a.iter().zip(b.iter()).enumerate() {
            if pair.0 != pair.1 {
                let ((statement, model_result), (db_statement, db_result)) = pair;
                return Err(if statement == db_statement {
                    format!(
                        "T{}'s statement {} `{statement}`: the model says {model_result}, {server} says {db_result}",
                        i + 1,
                        n + 1
                    )
                } else {
                    format!(
                        "T{}'s statement {}: the model sent `{statement}`, on {server} it sent `{db_statement}`",
                        i + 1,
                        n + 1
                    )
                });
            }
        }
        if a.len() != b.len() {
            return Err(format!(
                "T{} sent {} statements on the model and {} on {server}",
                i + 1,
                a.len(),
                b.len()
            ));
        }
    }
    for (i, (a, b)) in model.outcomes.iter().zip(&database.outcomes).enumerate() {
        if a != b {
            return Err(format!(
                "T{} ended {a} on the model and {b} on {server}",
                i + 1
            ));
        }
    }
    if model.final_rows != database.final_rows {
        return Err(format!(
            "final rows differ: the model has {:?}, {server} has {:?}",
            model.final_rows, database.final_rows
        ));
    }
    if model.final_reservations != database.final_reservations {
        return Err(format!(
            "final reservations differ: the model has {:?}, {server} has {:?}",
            model.final_reservations, database.final_reservations
        ));
    }
    Ok(())
}

/// Both traces, one event a line, side by side; `server` heads the
/// database's column.
pub fn side_by_side(model: &Execution, database: &Execution, server: &str) -> String {
    let lines = |e: &Execution| -> Vec<String> {
        e.trace
            .iter()
            .map(|t| match t {
                TraceEvent::Statement { event, .. } => {
                    let mut statement = event.statement.to_string();
                    if statement.len() > 58 {
                        statement.truncate(55);
                        statement.push_str("...");
                    }
                    let resumed = if event.resumed { "(resumed) " } else { "" };
                    format!(
                        "{} {resumed}{statement} -> {}",
                        event.session,
                        result_text(event)
                    )
                }
                TraceEvent::Finished { order, .. } => {
                    format!("T{} finished: {}", order + 1, e.outcomes[*order as usize])
                }
                other => format!("{} {}", other.order(), short(other)),
            })
            .collect()
    };
    let (left, right) = (lines(model), lines(database));
    let width = left.iter().map(|l| l.len()).max().unwrap_or(0).max(5);
    let mut out = format!("{:<width$} | {server}\n", "model");
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).map(String::as_str).unwrap_or("");
        let r = right.get(i).map(String::as_str).unwrap_or("");
        let mark = if l == r { " " } else { "*" };
        out.push_str(format!("{l:<width$} |{mark}{r}").trim_end());
        out.push('\n');
    }
    out
}

fn short(event: &TraceEvent) -> String {
    match event {
        TraceEvent::Sleep { until_ms, .. } => format!("sleeps until {until_ms}ms"),
        TraceEvent::Wake { .. } => "wakes".to_string(),
        TraceEvent::ProcessLock { key, event, .. } => {
            stockrace_sim::trace::process_lock_text(*key, *event)
        }
        TraceEvent::Lease { event, .. } => event.to_string(),
        _ => String::new(),
    }
}
