//! What a timeline picture says, before any position is chosen: one lane
//! per order, one step per drawn trace event, the waits between a
//! statement that blocked and the moment its order moved again, the row's
//! value after each step, and the step where an invariant broke.
//!
//! Read from the run's trace exactly as `replay`'s text does (same SQL,
//! same result words); sleeps and wake-ups (latency, think time, backoff)
//! get no row of their own: the time column shows the time they took.
//! [`Story::of_app`] (in `app_story`) tells an app run's story the same way.

use stockrace::trace::{fault_text, process_lock_text, result_text};
use stockrace::{Execution, Outcome, ProcessLockEvent, Progress, Reply, Scenario, Statement};
use stockrace::{Row, TraceEvent};

/// One order's column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// `T1`, `T2`, ...
    pub name: String,
    /// Strategy, app node and isolation level.
    pub detail: String,
}

/// How a step's box is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Statement,
    Commit,
    Rollback,
    /// The statement failed with a SQLSTATE.
    Error,
    /// The statement (or an in-process lock) parked behind another order.
    Waiting,
    /// An in-process lock taken or released, or a lease-service call.
    Lock,
    /// The order ended: sold.
    Sold,
    /// The order ended without selling (out of stock, gave up, failed, ...).
    Ended,
}

/// The row a statement touched, as it stood right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// `id=1 stocked=1`
    pub committed: String,
    /// `T2 uncommitted: stocked=0`, or `locked by T2`.
    pub uncommitted: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based index of the event in the trace (what `replay` numbers it).
    /// In an app run, the step it goes on: the release it follows (what
    /// `app replay` numbers it), 0 before the first.
    pub step: usize,
    pub time_ms: u64,
    pub lane: usize,
    pub kind: Kind,
    /// The SQL (prefixed `(resumed)` when it had waited), or what happened.
    pub text: String,
    /// The result, SQLSTATE or `waits for T2`; empty for non-statements.
    pub result: String,
    pub value: Option<Value>,
}

/// An order blocked from step `from` until step `to` (indices into
/// [`Story::steps`]); `to` is None when the run ended first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub lane: usize,
    pub from: usize,
    pub to: Option<usize>,
    /// Whom it waits for: `T2`, or `in-process lock 7`.
    pub on: String,
}

/// The violating step and the invariant's sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Index into [`Story::steps`].
    pub at: usize,
    /// `no-oversell violated at step 11: 2 units of id=1 sold, but ...`
    pub sentence: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    pub lanes: Vec<Lane>,
    pub steps: Vec<Step>,
    pub waits: Vec<Wait>,
    pub violation: Option<Mark>,
    /// `verdict: every invariant held`, or the violation.
    pub verdict: String,
    /// The final rows, one line each (an app run: each order's outcome).
    pub finals: Vec<String>,
    /// Some event happened after virtual time 0: draw the time column.
    pub timed: bool,
    /// Events in the trace, drawn or not.
    pub trace_len: usize,
}

impl Story {
    pub fn new(execution: &Execution, scenario: &Scenario) -> Story {
        let columns = Columns::of(execution);
        let mut lanes: Vec<Lane> = scenario
            .orders()
            .iter()
            .map(|order| Lane {
                name: format!("T{}", order.index + 1),
                detail: format!(
                    "{} · node {} · {}",
                    scenario.orders[order.index as usize].strategy,
                    order.node,
                    order.isolation.name()
                ),
            })
            .collect();
        // Every order of the trace gets a lane, should the scenario given
        // not name them all.
        let orders = execution.trace.iter().map(|e| e.order().index() + 1);
        let count = orders.chain([execution.outcomes.len()]).max().unwrap_or(0);
        for i in lanes.len()..count {
            lanes.push(Lane {
                name: format!("T{}", i + 1),
                detail: String::new(),
            });
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut waits: Vec<Wait> = Vec::new();
        // Each lane's open wait, as an index into `waits`.
        let mut open: Vec<Option<usize>> = vec![None; lanes.len()];
        // The drawn step each trace event falls on (its own, or the last before it).
        let mut drawn_at: Vec<Option<usize>> = Vec::with_capacity(execution.trace.len());
        for (i, event) in execution.trace.iter().enumerate() {
            let lane = event.order().index();
            let step = |kind, text: String, result: String, value| Step {
                step: i + 1,
                time_ms: event.time_ms(),
                lane,
                kind,
                text,
                result,
                value,
            };
            let (drawn, waits_on) = match *event {
                TraceEvent::Statement { event: e, .. } => {
                    let mut text = e.statement.to_string();
                    if e.resumed {
                        text.insert_str(0, "(resumed) ");
                    }
                    let kind = match (e.progress, e.statement) {
                        (Progress::Waiting { .. }, _) => Kind::Waiting,
                        (Progress::Done(Err(_)), _) => Kind::Error,
                        (Progress::Done(Ok(Reply::Rollback)), _) => Kind::Rollback,
                        (Progress::Done(Ok(Reply::Commit)), Statement::Commit) => Kind::Commit,
                        _ => Kind::Statement,
                    };
                    let on = match e.progress {
                        Progress::Waiting { on } => Some(on.to_string()),
                        _ => None,
                    };
                    let value = e.row.map(|row| Value {
                        committed: format!(
                            "id={} {}",
                            row.level.sql_id(),
                            columns.show(&row.committed)
                        ),
                        uncommitted: row.locked_by.map(|(holder, new)| match new {
                            Some(new) => format!("{holder} uncommitted: {}", columns.show(&new)),
                            None => format!("locked by {holder}"),
                        }),
                    });
                    (Some(step(kind, text, result_text(&e), value)), on)
                }
                TraceEvent::ProcessLock { key, event: e, .. } => {
                    let (kind, on) = match e {
                        ProcessLockEvent::Waits { .. } => {
                            (Kind::Waiting, Some(format!("in-process lock {key}")))
                        }
                        _ => (Kind::Lock, None),
                    };
                    let text = process_lock_text(key, e);
                    (Some(step(kind, text, String::new(), None)), on)
                }
                TraceEvent::Finished { order, .. } => {
                    let outcome = execution.outcomes.get(order as usize);
                    let kind = match outcome {
                        Some(Outcome::Sold) => Kind::Sold,
                        _ => Kind::Ended,
                    };
                    let text = match outcome {
                        Some(outcome) => format!("finished: {outcome}"),
                        None => "finished".to_string(),
                    };
                    (Some(step(kind, text, String::new(), None)), None)
                }
                TraceEvent::Fault { fault, .. } => {
                    let text = format!("FAULT: {}", fault_text(fault));
                    (Some(step(Kind::Error, text, String::new(), None)), None)
                }
                TraceEvent::Lease { event, .. } => (
                    Some(step(Kind::Lock, event.to_string(), String::new(), None)),
                    None,
                ),
                TraceEvent::Sleep { .. } | TraceEvent::Wake { .. } => (None, None),
            };
            if let Some(drawn) = drawn {
                let index = steps.len();
                // The order moved: whatever it waited for is over.
                if let Some(w) = open[lane].take() {
                    waits[w].to = Some(index);
                }
                if let Some(on) = waits_on {
                    open[lane] = Some(waits.len());
                    waits.push(Wait {
                        lane,
                        from: index,
                        to: None,
                        on,
                    });
                }
                steps.push(drawn);
            }
            drawn_at.push(steps.len().checked_sub(1));
        }
        let violation = execution.verdict.violation().map(|v| Mark {
            // A violation seen at an undrawn event (a wake-up) marks the
            // drawn step before it, or the first one.
            at: drawn_at
                .get(v.step.saturating_sub(1))
                .copied()
                .flatten()
                .unwrap_or(0),
            sentence: format!("{} violated at step {}: {}", v.invariant, v.step, v.detail),
        });
        let verdict = match &violation {
            None => "verdict: every invariant held".to_string(),
            Some(mark) => format!("verdict: VIOLATED {}", mark.sentence),
        };
        let finals = execution
            .final_rows
            .iter()
            .zip(&execution.final_reservations)
            .enumerate()
            .map(|(i, (row, reservations))| match reservations {
                0 => format!("final: id={} {row}", i + 1),
                n => format!("final: id={} {row}, reservation rows hold {n}", i + 1),
            })
            .collect();
        Story {
            lanes,
            steps,
            waits,
            violation,
            verdict,
            finals,
            timed: execution.trace.iter().any(|e| e.time_ms() > 0),
            trace_len: execution.trace.len(),
        }
    }
}

/// Which of a row's columns are worth showing: `stocked` always,
/// `reserved` and `version` only when some event of the run saw them
/// other than 0.
struct Columns {
    reserved: bool,
    version: bool,
}

impl Columns {
    fn of(execution: &Execution) -> Columns {
        let mut rows: Vec<Row> = execution.final_rows.clone();
        for event in &execution.trace {
            if let TraceEvent::Statement { event, .. } = event {
                if let Some(view) = event.row {
                    rows.push(view.committed);
                    rows.extend(view.locked_by.and_then(|(_, new)| new));
                }
            }
        }
        Columns {
            reserved: rows.iter().any(|r| r.reserved != 0),
            version: rows.iter().any(|r| r.version != 0),
        }
    }

    fn show(&self, row: &Row) -> String {
        let mut text = format!("stocked={}", row.stocked);
        if self.reserved {
            text += &format!(" reserved={}", row.reserved);
        }
        if self.version {
            text += &format!(" version={}", row.version);
        }
        text
    }
}
