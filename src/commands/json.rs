//! JSON shapes shared by the subcommands.

use serde_json::{json, Value};
use stockrace::trace::{fault_text, process_lock_text, result_text, TraceEvent};
use stockrace::Execution;

pub fn execution_json(execution: &Execution) -> Value {
    let trace: Vec<Value> = execution
        .trace
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let mut line = json!({
                "step": i + 1,
                "time_ms": event.time_ms(),
                "order": event.order().to_string(),
            });
            match event {
                TraceEvent::Statement { event, .. } => {
                    line["statement"] = json!(event.statement.to_string());
                    line["result"] = json!(result_text(event));
                    line["resumed"] = json!(event.resumed);
                    line["row"] = json!(event.row.map(|r| r.to_string()));
                }
                TraceEvent::Sleep { until_ms, .. } => line["sleep_until_ms"] = json!(until_ms),
                TraceEvent::Wake { .. } => line["wake"] = json!(true),
                TraceEvent::ProcessLock { key, event, .. } => {
                    line["process_lock"] = json!(process_lock_text(*key, *event))
                }
                TraceEvent::Fault { fault, .. } => line["fault"] = json!(fault_text(*fault)),
                TraceEvent::Lease { event, .. } => line["lease"] = json!(event.to_string()),
                TraceEvent::Finished { order, .. } => {
                    line["finished"] = json!(execution.outcomes[*order as usize].to_string())
                }
            }
            line
        })
        .collect();
    let verdict = match execution.verdict.violation() {
        None => json!({"holds": true}),
        Some(v) => {
            json!({"holds": false, "invariant": v.invariant.name(), "step": v.step, "detail": v.detail})
        }
    };
    json!({
        "seed": execution.seed,
        "schedule": execution.schedule,
        "verdict": verdict,
        "trace": trace,
        "outcomes": execution.outcomes.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        "final": execution.final_rows.iter().zip(&execution.final_reservations).enumerate().map(|(i, (r, rows))| json!({
            "id": i + 1, "stocked": r.stocked, "reserved": r.reserved, "version": r.version, "reservation_rows": rows
        })).collect::<Vec<_>>(),
        "divergence": execution.divergence,
    })
}

pub fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("serializes")
}
