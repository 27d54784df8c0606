//! Everything one run produced.

use crate::invariants::Verdict;
pub use crate::outcome::Outcome;
use crate::trace::{ProcessLockEvent, TraceEvent};
use stockrace_model::{Progress, Row, SqlState, Statement};

/// One run: the schedule that drove it, what happened, and the verdict.
#[derive(Clone, Debug)]
pub struct Execution {
    /// The seed of the random chooser, when one was used.
    pub seed: Option<u64>,
    /// The choices made, one per step that had more than one option.
    pub schedule: Vec<u32>,
    pub trace: Vec<TraceEvent>,
    /// One per order, in order-id order.
    pub outcomes: Vec<Outcome>,
    /// The newest committed version of every row when the run ended.
    pub final_rows: Vec<Row>,
    /// Units held by committed reservation rows, per level, when the run ended.
    pub final_reservations: Vec<i64>,
    pub verdict: Verdict,
    /// A replayed schedule that did not fit the run exactly.
    pub divergence: Option<String>,
    /// Virtual time at which each order arrived (all 0 without an arrival
    /// window).
    pub arrivals_ms: Vec<u64>,
}

impl Execution {
    /// Transactions each order began beyond its first: its retries.
    pub fn retries(&self) -> Vec<u32> {
        let mut begins = vec![0u32; self.outcomes.len()];
        for event in &self.trace {
            if let TraceEvent::Statement { event, .. } = event {
                if matches!(event.statement, Statement::Begin(_)) && !event.resumed {
                    begins[event.session.index()] += 1;
                }
            }
        }
        begins.iter().map(|b| b.saturating_sub(1)).collect()
    }

    /// How many statements failed with `state`.
    pub fn errors_with(&self, state: SqlState) -> usize {
        self.errors_where(|s| s == state)
    }

    /// How many statements failed with an error whose state `kind` accepts
    /// ([`SqlState::is_deadlock`], say).
    pub fn errors_where(&self, kind: impl Fn(SqlState) -> bool) -> usize {
        self.trace
            .iter()
            .filter(|e| match e {
                TraceEvent::Statement { event, .. } => {
                    matches!(event.progress, Progress::Done(Err(err)) if kind(err.state))
                }
                _ => false,
            })
            .count()
    }

    /// Each order's latency: the virtual time from its arrival to its end
    /// (`None`: it never ended). Without an arrival window every order
    /// arrives at 0, and this is the time at which it ended.
    pub fn end_times_ms(&self) -> Vec<Option<u64>> {
        let mut ends = vec![None; self.outcomes.len()];
        for event in &self.trace {
            if let TraceEvent::Finished { time_ms, order } = *event {
                let arrived = self.arrivals_ms.get(order as usize).copied().unwrap_or(0);
                ends[order as usize] = Some(time_ms.saturating_sub(arrived));
            }
        }
        ends
    }

    /// Virtual milliseconds each order spent waiting for a lock: a row or
    /// advisory lock inside the database, or an in-process lock.
    pub fn lock_wait_ms(&self) -> Vec<u64> {
        let mut total = vec![0u64; self.outcomes.len()];
        let mut since: Vec<Option<u64>> = vec![None; self.outcomes.len()];
        for event in &self.trace {
            let (order, time_ms, begins, ends) = match *event {
                TraceEvent::Statement { time_ms, event } => (
                    event.session.index(),
                    time_ms,
                    matches!(event.progress, Progress::Waiting { .. }),
                    event.resumed,
                ),
                TraceEvent::ProcessLock {
                    time_ms,
                    order,
                    event,
                    ..
                } => (
                    order as usize,
                    time_ms,
                    matches!(event, ProcessLockEvent::Waits { .. }),
                    event == ProcessLockEvent::Acquired,
                ),
                _ => continue,
            };
            if ends {
                if let Some(start) = since[order].take() {
                    total[order] += time_ms - start;
                }
            }
            if begins {
                // A resumed statement can wait again: a new wait begins now.
                since[order] = Some(time_ms);
            }
        }
        // A wait the run ended in (a hang, a budget) counts up to the end.
        let end = self.duration_ms();
        for (order, start) in since.iter().enumerate() {
            if let Some(start) = start {
                total[order] += end - start;
            }
        }
        total
    }

    /// Virtual time the run took: the time of its last event.
    pub fn duration_ms(&self) -> u64 {
        self.trace.last().map_or(0, TraceEvent::time_ms)
    }

    /// The first panic of a strategy, as (order index, message).
    pub fn panic(&self) -> Option<(usize, &str)> {
        self.outcomes.iter().enumerate().find_map(|(i, o)| match o {
            Outcome::Panicked(m) => Some((i, m.as_str())),
            _ => None,
        })
    }
}
