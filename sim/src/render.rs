//! The readable timeline of a run: one line per event, then the final rows
//! and the verdict.

use crate::execution::Execution;
use crate::invariants::Verdict;
use crate::scenario::Scenario;
use crate::trace::{fault_text, process_lock_text, result_text, TraceEvent};
use std::fmt::Write;

impl Execution {
    /// What `stockrace replay` prints for a run of `scenario`: a header
    /// (strategy, database, orders, seed, schedule), which orders run on which app
    /// node when there are several, then [`Execution::render`].
    pub fn timeline(&self, scenario: &Scenario) -> String {
        let mut out = format!(
            "replay: {} | {} | {} orders | seed {} | schedule {:?}\n",
            scenario.strategy_label(),
            scenario.database,
            scenario.orders.len(),
            self.seed.map_or("none".to_string(), |s| s.to_string()),
            self.schedule
        );
        let mut by_node: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
        for order in scenario.orders() {
            by_node
                .entry(order.node)
                .or_default()
                .push(format!("T{}", order.index + 1));
        }
        if by_node.len() > 1 {
            let nodes: Vec<String> = by_node
                .iter()
                .map(|(node, orders)| format!("node {node} runs {}", orders.join(", ")))
                .collect();
            let _ = writeln!(out, "nodes: {}", nodes.join("; "));
        }
        out + &self.render()
    }

    /// The readable timeline: one line per event (step, virtual time, order,
    /// statement, result, row after), then the final rows and the verdict.
    pub fn render(&self) -> String {
        let execution = self;
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
                TraceEvent::ProcessLock { key, event, .. } => (
                    process_lock_text(*key, *event),
                    String::new(),
                    String::new(),
                ),
                TraceEvent::Finished { order, .. } => (
                    format!("finished: {}", execution.outcomes[*order as usize]),
                    String::new(),
                    String::new(),
                ),
                TraceEvent::Fault { fault, .. } => (
                    format!("FAULT: {}", fault_text(*fault)),
                    String::new(),
                    String::new(),
                ),
                TraceEvent::Lease { event, .. } => {
                    (event.to_string(), String::new(), String::new())
                }
            })
            .collect();
        let statement_width = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
        let result_width = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);

        let mut out = String::new();
        for (step, (event, (statement, result, row))) in
            execution.trace.iter().zip(&lines).enumerate()
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
}
