//! Does the model agree with a real database? Each seed's schedule is run on
//! the model, then replayed on the database with the same strategies, and
//! the two executions are compared: every statement each session sent and
//! what it got back (rows, SQLSTATE, or having to wait), each order's
//! outcome, and the final rows.
//!
//! Some orderings are races inside PostgreSQL itself: when several statements
//! wait for a row that its holder updated, they race for the new version
//! once it commits, and a waiter's deadlock_timeout is a real-time timer.
//! Where the server runs on this machine the driver takes both out of the
//! server's hands: it pauses waiting backends and lets them go one at a
//! time, in the model's order (`postgres::pause`). Elsewhere a real
//! disagreement of the model reproduces and a race does not: a run that
//! disagrees is replayed on the server again, up to [`ATTEMPTS`] times in
//! all, and counts as agreeing (and as retried) if any replay agrees. The
//! report says how many runs went unpaused.
//!
//! Within one session the sequence must match exactly. Whom a waiting
//! statement waits for is not compared (PostgreSQL's lock queue can name a
//! queued waiter where the model names the holder), nor a waiting statement
//! going on waiting for someone else after a wake-up: the reference records
//! only that a statement blocked and what it finally returned.

use crate::postgres::{PgError, PgServer};
use std::ops::Range;
use stockrace_model::Progress;
use stockrace_sim::trace::{result_text, TraceEvent};
use stockrace_sim::{Backend, Execution, RandomChooser, ReplayChooser, Simulation};

/// The first run that disagreed.
#[derive(Debug)]
pub struct Disagreement {
    pub seed: u64,
    pub what: String,
    pub model: Execution,
    pub database: Execution,
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
    /// Runs with a replay on the server whose waiting backends ran free
    /// rather than paused and woken one at a time (see `postgres::pause`).
    pub unpaused: u64,
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
        self.unpaused += later.unpaused;
        if self.first.is_none() {
            self.first = later.first;
        }
    }
}

/// Runs every seed on the model and on `server`, comparing as it goes.
/// `on_run` hears about each run (seed, agreed) as it finishes.
pub fn diff(
    simulation: &Simulation,
    server: &PgServer,
    seeds: Range<u64>,
    on_run: impl FnMut(u64, bool),
) -> Result<DiffReport, PgError> {
    diff_with(simulation, server, seeds, || simulation.new_store(), on_run)
}

/// [`diff`] with the model side run on the backends `model` makes (a
/// deliberately wrong model, in the test that shows diff can fail).
pub fn diff_with<B: Backend>(
    simulation: &Simulation,
    server: &PgServer,
    seeds: Range<u64>,
    model: impl Fn() -> B,
    mut on_run: impl FnMut(u64, bool),
) -> Result<DiffReport, PgError> {
    let mut report = DiffReport::default();
    for seed in seeds {
        let model = simulation.run_on(&mut RandomChooser::new(seed), Some(seed), model());
        let unpaused_before = server.unpaused_runs();
        let mut attempt = 0;
        let (verdict, database) = loop {
            attempt += 1;
            let backend = server.backend(simulation)?;
            let database = simulation.run_on(
                &mut ReplayChooser::new(model.schedule.clone()),
                Some(seed),
                backend,
            );
            let verdict = compare(&model, &database);
            if verdict.is_ok() || attempt == ATTEMPTS {
                break (verdict, database);
            }
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
                }
            }
            Err(what) => {
                report.first.get_or_insert(Disagreement {
                    seed,
                    what,
                    model,
                    database,
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
pub fn compare(model: &Execution, database: &Execution) -> Result<(), String> {
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
                        "T{}'s statement {} `{statement}`: the model says {model_result}, PostgreSQL says {db_result}",
                        i + 1,
                        n + 1
                    )
                } else {
                    format!(
                        "T{}'s statement {}: the model sent `{statement}`, on PostgreSQL it sent `{db_statement}`",
                        i + 1,
                        n + 1
                    )
                });
            }
        }
        if a.len() != b.len() {
            return Err(format!(
                "T{} sent {} statements on the model and {} on PostgreSQL",
                i + 1,
                a.len(),
                b.len()
            ));
        }
    }
    for (i, (a, b)) in model.outcomes.iter().zip(&database.outcomes).enumerate() {
        if a != b {
            return Err(format!(
                "T{} ended {a} on the model and {b} on PostgreSQL",
                i + 1
            ));
        }
    }
    if model.final_rows != database.final_rows {
        return Err(format!(
            "final rows differ: the model has {:?}, PostgreSQL has {:?}",
            model.final_rows, database.final_rows
        ));
    }
    if model.final_reservations != database.final_reservations {
        return Err(format!(
            "final reservations differ: the model has {:?}, PostgreSQL has {:?}",
            model.final_reservations, database.final_reservations
        ));
    }
    Ok(())
}

/// Both traces, one event a line, side by side.
pub fn side_by_side(model: &Execution, database: &Execution) -> String {
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
    let mut out = format!("{:<width$} | {}\n", "model", "PostgreSQL");
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
        _ => String::new(),
    }
}
