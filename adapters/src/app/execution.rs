//! What one app run produced: the schedule, the trace, each order's
//! outcome and statements, and the verdict of the checks.

use super::trace::Trace;
use serde::Serialize;

/// How an order said it ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Sold(u64),
    OutOfStock,
    Failed(String),
    /// Still running when the run was cut off.
    Unfinished,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Sold(n) => write!(f, "sold {n}"),
            Outcome::OutOfStock => f.write_str("out of stock"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
            Outcome::Unfinished => f.write_str("unfinished"),
        }
    }
}

/// The name a hung run is reported under.
pub const TERMINATION: &str = "termination";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderRecord {
    pub outcome: Outcome,
    /// Statements sent after `ready`, normalised, in the order released.
    pub statements: Vec<String>,
    /// Statements sent before `ready` (booting; not scheduled).
    pub unscheduled: usize,
    /// Times it ran its own code past settle_ms.
    pub stalls: usize,
    /// Its exit status (none if it was killed at the run's end).
    pub exit: Option<String>,
}

impl OrderRecord {
    /// `T1: sold 1 (4 statement(s) scheduled, 0 before ready)`, for the
    /// order at `index`.
    pub fn summary(&self, index: usize) -> String {
        format!(
            "T{}: {} ({} statement(s) scheduled, {} before ready)",
            index + 1,
            self.outcome,
            self.statements.len(),
            self.unscheduled
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckViolation {
    /// The check's name, or `termination` for a run that did not end.
    pub check: String,
    pub detail: String,
}

/// Wall-clock milliseconds spent in each part of a run (for the benchmark;
/// never used in a decision).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timing {
    pub copy_ms: f64,
    pub boot_ms: f64,
    pub steps_ms: f64,
    pub checks_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AppExecution {
    pub seed: Option<u64>,
    pub schedule: Vec<u32>,
    /// Steps released (statements or batches).
    pub steps: usize,
    /// The trace as printed, one line per entry of `events`.
    pub trace: Vec<String>,
    /// The trace's events, as recorded (what a picture of the run is drawn
    /// from). Not in any JSON or regression file: `trace` is.
    #[serde(skip)]
    pub events: Trace,
    pub orders: Vec<OrderRecord>,
    pub violation: Option<CheckViolation>,
    pub stalls: usize,
    pub timing: Timing,
}

impl AppExecution {
    pub fn holds(&self) -> bool {
        self.violation.is_none()
    }

    /// Units the orders said they sold.
    pub fn sold(&self) -> u64 {
        self.orders
            .iter()
            .map(|o| match o.outcome {
                Outcome::Sold(n) => n,
                _ => 0,
            })
            .sum()
    }

    pub fn sold_orders(&self) -> u64 {
        self.orders
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Sold(_)))
            .count() as u64
    }

    /// What must be equal for two runs to count as the same run: the
    /// schedule, the trace and the verdict.
    pub fn same_run_as(&self, other: &AppExecution) -> Result<(), String> {
        if self.violation.as_ref().map(|v| &v.check) != other.violation.as_ref().map(|v| &v.check) {
            return Err(format!(
                "verdict {} then {}",
                verdict_word(self),
                verdict_word(other)
            ));
        }
        if self.schedule != other.schedule {
            return Err(format!(
                "schedule {:?} then {:?}",
                self.schedule, other.schedule
            ));
        }
        if let Some(i) = (0..self.trace.len().max(other.trace.len()))
            .find(|&i| self.trace.get(i) != other.trace.get(i))
        {
            return Err(format!(
                "trace line {}: {:?} then {:?}",
                i + 1,
                self.trace.get(i).map_or("(none)", |s| s.as_str()),
                other.trace.get(i).map_or("(none)", |s| s.as_str())
            ));
        }
        Ok(())
    }

    /// The trace, each order's outcome and the verdict, as text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for line in &self.trace {
            text += line;
            text.push('\n');
        }
        for (i, order) in self.orders.iter().enumerate() {
            text += &order.summary(i);
            text.push('\n');
        }
        if self.stalls > 0 {
            text += &format!(
                "note: {} stall(s) past settle_ms: an order ran code the proxy cannot see (an in-process lock, a timer); what it did then is timed, not scheduled\n",
                self.stalls
            );
        }
        text += &match &self.violation {
            Some(v) => format!("verdict: {} violated: {}\n", v.check, v.detail),
            None => "verdict: every check held\n".to_string(),
        };
        text
    }
}

fn verdict_word(execution: &AppExecution) -> String {
    match &execution.violation {
        Some(v) => format!("{} violated", v.check),
        None => "held".into(),
    }
}
