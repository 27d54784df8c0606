//! The trace: one compact event per thing that happened, recorded cheaply
//! (plain `Copy` values) and rendered to text only when asked.

use crate::execution::Execution;
use crate::invariants::Verdict;
use std::fmt::Write;
use crate::runtime::ProcessLockEvent;
use stockrace_model::{Event, Progress, SessionId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// The store completed a statement or parked it behind a lock.
    Statement {
        time_ms: u64,
        event: Event,
    },
    Sleep {
        time_ms: u64,
        order: u32,
        until_ms: u64,
    },
    Wake {
        time_ms: u64,
        order: u32,
    },
    Finished {
        time_ms: u64,
        order: u32,
    },
    /// An in-process lock (one app node's) was taken, waited for or released.
    ProcessLock {
        time_ms: u64,
        order: u32,
        key: u64,
        event: ProcessLockEvent,
    },
}

impl TraceEvent {
    pub fn time_ms(&self) -> u64 {
        match *self {
            TraceEvent::Statement { time_ms, .. }
            | TraceEvent::Sleep { time_ms, .. }
            | TraceEvent::Wake { time_ms, .. }
            | TraceEvent::Finished { time_ms, .. }
            | TraceEvent::ProcessLock { time_ms, .. } => time_ms,
        }
    }

    pub fn order(&self) -> SessionId {
        match *self {
            TraceEvent::Statement { event, .. } => event.session,
            TraceEvent::Sleep { order, .. }
            | TraceEvent::Wake { order, .. }
            | TraceEvent::Finished { order, .. }
            | TraceEvent::ProcessLock { order, .. } => SessionId(order),
        }
    }
}

/// What a statement event says in the result column.
pub fn result_text(event: &Event) -> String {
    match event.progress {
        Progress::Done(Ok(reply)) => reply.to_string(),
        Progress::Done(Err(error)) => format!("ERROR {}", error.state),
        Progress::Waiting { on } => format!("waits for {on}"),
    }
}

/// What an in-process lock event says on its trace line.
pub fn process_lock_text(key: u64, event: ProcessLockEvent) -> String {
    match event {
        ProcessLockEvent::Acquired => format!("takes in-process lock {key}"),
        ProcessLockEvent::Waits { holder } => format!("waits for in-process lock {key} (held by T{})", holder + 1),
        ProcessLockEvent::Released => format!("releases in-process lock {key}"),
    }
}

/// One line per event: step, virtual time, order, statement, result, row after.
pub(crate) fn render(execution: &Execution) -> String {
    let lines: Vec<(String, String, String)> = execution
        .trace
        .iter()
        .map(|e| match e {
            TraceEvent::Statement { event, .. } => {
                let mut statement = event.statement.to_string();
                if event.resumed {
                    statement.insert_str(0, "(resumed) ");
                }
                let row = event.row.map(|r| r.to_string()).unwrap_or_default();
                (statement, result_text(event), row)
            }
            TraceEvent::Sleep { until_ms, .. } => (
                format!("sleeps until {until_ms}ms"),
                String::new(),
                String::new(),
            ),
            TraceEvent::Wake { .. } => ("wakes".to_string(), String::new(), String::new()),
            TraceEvent::ProcessLock { key, event, .. } => {
                (process_lock_text(*key, *event), String::new(), String::new())
            }
            TraceEvent::Finished { order, .. } => (
                format!("finished: {}", execution.outcomes[*order as usize]),
                String::new(),
                String::new(),
            ),
        })
        .collect();
    let statement_width = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
    let result_width = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);

    let mut out = String::new();
    for (step, (event, (statement, result, row))) in execution.trace.iter().zip(&lines).enumerate()
    {
        let line = format!(
            "{:>4} {:>7} {:<4} {:<sw$}  {:<rw$}  {}",
            step + 1,
            format!("{}ms", event.time_ms()),
            event.order().to_string(),
            statement,
            result,
            row,
            sw = statement_width,
            rw = result_width,
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let finals: Vec<String> = execution
        .final_rows
        .iter()
        .zip(&execution.final_reservations)
        .enumerate()
        .map(|(i, (r, reservations))| match reservations {
            0 => format!("id={} {r}", i + 1),
            n => format!("id={} {r}, reservation rows hold {n}", i + 1),
        })
        .collect();
    let _ = writeln!(out, "final: {}", finals.join("; "));
    if let Some(note) = &execution.divergence {
        let _ = writeln!(out, "schedule divergence: {note}");
    }
    match &execution.verdict {
        Verdict::Holds => out.push_str("verdict: every invariant held\n"),
        Verdict::Violated(v) => {
            let _ = writeln!(
                out,
                "verdict: VIOLATED {} at step {}: {}",
                v.invariant, v.step, v.detail
            );
        }
    }
    out
}
