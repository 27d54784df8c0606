//! The [`Story`] of an app run through the scheduling proxy, read from its
//! trace events exactly as `app` and `app replay` print them (one row per
//! printed line, the same statements and answers), so that the one layout
//! and drawing of [`super`] shows simulated and app runs alike.
//!
//! Lanes are the orders (`T1` is the process started with
//! `STOCKRACE_ORDER=0`), labelled with the app's command and the
//! connections the order used. A release is a box with the server's answer
//! (result tags, or `ERROR <SQLSTATE>: message`); a statement the server
//! showed waiting for a lock is a wait bar down its lane until it was
//! answered. Rows after the release of a step (a waiting statement
//! answered, an order ending) belong to that step and carry no number of
//! their own, as in the text. The checks run when the run has ended: the
//! violation marks the run's last row. The app run knows no row values
//! (its checks are the application's SQL), so the value column is left out
//! and each order's outcome closes the picture.

use super::story::{Kind, Lane, Mark, Step, Story, Wait};
use std::collections::BTreeMap;
use stockrace::adapters::app::execution::TERMINATION;
use stockrace::adapters::app::trace::{conn_name, ConnId, Event, Trace};
use stockrace::adapters::app::{AppExecution, Outcome};

impl Story {
    /// The story of `execution`, an app run whose orders ran `command`.
    pub fn of_app(execution: &AppExecution, command: &str) -> Story {
        Story::of_app_trace(
            &execution.events,
            &execution
                .orders
                .iter()
                .enumerate()
                .map(|(i, o)| o.summary(i))
                .collect::<Vec<_>>(),
            execution
                .violation
                .as_ref()
                .map(|v| (v.check.as_str(), v.detail.as_str())),
            command,
        )
    }

    /// The story of an app trace: `finals` are a line per order (its
    /// outcome), `violation` the check that failed and what it found.
    pub fn of_app_trace(
        trace: &Trace,
        finals: &[String],
        violation: Option<(&str, &str)>,
        command: &str,
    ) -> Story {
        let entries = trace.entries();
        // Connections each order used, in order.
        let mut conns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut orders = finals.len();
        for line in &entries {
            if let Some(conn) = conn_of(line.event) {
                let used = conns.entry(conn.0).or_default();
                if !used.contains(&conn.1) {
                    used.push(conn.1);
                }
            }
            orders = orders.max(order_of(line.event) + 1);
        }
        for used in conns.values_mut() {
            used.sort_unstable();
        }
        let lanes: Vec<Lane> = (0..orders)
            .map(|i| {
                let used = conns.get(&i).map_or(&[][..], Vec::as_slice);
                let mut detail = vec![command.to_string(), format!("STOCKRACE_ORDER={i}")];
                if !used.is_empty() {
                    let names: Vec<String> = used.iter().map(|&c| conn_name((i, c))).collect();
                    detail.push(names.join(", "));
                }
                Lane {
                    name: format!("T{}", i + 1),
                    detail: detail.join(" · "),
                }
            })
            .collect();
        let several = |order: usize| conns.get(&order).is_some_and(|c| c.len() > 1);
        // `[c2] ` before a statement, when its order used more than one connection.
        let on_conn = |conn: ConnId, text: &str| match several(conn.0) {
            true => format!("[c{}] {text}", conn.1 + 1),
            false => text.to_string(),
        };

        let mut steps: Vec<Step> = Vec::new();
        let mut waits: Vec<Wait> = Vec::new();
        // Each connection's open wait (an index into `waits`) and last statement.
        let mut open: BTreeMap<ConnId, usize> = BTreeMap::new();
        let mut last_text: BTreeMap<ConnId, String> = BTreeMap::new();
        for line in &entries {
            let index = steps.len();
            let mut close = |conn: ConnId| {
                if let Some(w) = open.remove(&conn) {
                    waits[w].to = Some(index);
                }
            };
            let (lane, kind, text, result, waits_on) = match line.event {
                Event::Released { conn, text } => {
                    close(*conn);
                    last_text.insert(*conn, text.clone());
                    let result = line.result();
                    let (kind, on) = match line.answer {
                        Some(Event::Waits { on, .. }) => (Kind::Waiting, Some((*conn, on))),
                        Some(Event::Answered { result, .. }) => (kind_of(result), None),
                        _ => (Kind::Statement, None),
                    };
                    (conn.0, kind, on_conn(*conn, text), result, on)
                }
                Event::Answered { conn, result } => {
                    close(*conn);
                    let text = again(&last_text, *conn, "(resumed)");
                    let text = on_conn(*conn, &text);
                    (conn.0, kind_of(result), text, result.clone(), None)
                }
                Event::Waits { conn, on } => {
                    close(*conn);
                    let text = on_conn(*conn, &again(&last_text, *conn, "(still running)"));
                    let result = format!("waits for {}", on.join(", "));
                    (conn.0, Kind::Waiting, text, result, Some((*conn, on)))
                }
                Event::Stalled { order, .. } => (
                    *order,
                    Kind::Lock,
                    line.event.of_order(),
                    String::new(),
                    None,
                ),
                Event::Reported { order, outcome }
                | Event::Returned { order, outcome }
                | Event::Exited { order, outcome, .. } => {
                    // The order is done: whatever it waited for is over.
                    for &c in conns.get(order).into_iter().flatten() {
                        close((*order, c));
                    }
                    let kind = match outcome {
                        Outcome::Sold(_) => Kind::Sold,
                        _ => Kind::Ended,
                    };
                    (*order, kind, line.event.of_order(), String::new(), None)
                }
            };
            if let Some((conn, on)) = waits_on {
                open.insert(conn, waits.len());
                waits.push(Wait {
                    lane,
                    from: index,
                    to: None,
                    on: on.join(", "),
                });
            }
            steps.push(Step {
                step: line.step,
                time_ms: 0,
                lane,
                kind,
                text,
                result,
                value: None,
            });
        }
        let last = trace.steps();
        let violation = violation.map(|(check, detail)| Mark {
            at: steps.len().saturating_sub(1),
            sentence: match check {
                TERMINATION => {
                    format!("{check} violated: the run was cut off after step {last}: {detail}")
                }
                _ => format!(
                    "{check} violated when the run ended (the checks ran after step {last}): {detail}"
                ),
            },
        });
        let verdict = match &violation {
            None => "verdict: every check held".to_string(),
            Some(mark) => format!("verdict: VIOLATED {}", mark.sentence),
        };
        Story {
            lanes,
            trace_len: steps.len(),
            steps,
            waits,
            violation,
            verdict,
            finals: finals.to_vec(),
            timed: false,
        }
    }
}

/// `(resumed) <the connection's last statement>`: a row about a statement
/// released in an earlier step.
fn again(last_text: &BTreeMap<ConnId, String>, conn: ConnId, what: &str) -> String {
    match last_text.get(&conn) {
        Some(text) => format!("{what} {text}"),
        None => what.to_string(),
    }
}

/// A statement's box, from the server's answer: an error (its SQLSTATE is
/// in the answer), a commit or rollback (the last result tag of a batch),
/// or a plain statement.
fn kind_of(result: &str) -> Kind {
    if result.starts_with("ERROR ") {
        return Kind::Error;
    }
    match result.rsplit(", ").next() {
        Some("COMMIT") => Kind::Commit,
        Some("ROLLBACK") => Kind::Rollback,
        _ => Kind::Statement,
    }
}

fn conn_of(event: &Event) -> Option<ConnId> {
    match event {
        Event::Released { conn, .. } | Event::Waits { conn, .. } | Event::Answered { conn, .. } => {
            Some(*conn)
        }
        _ => None,
    }
}

fn order_of(event: &Event) -> usize {
    match event {
        Event::Released { conn, .. } | Event::Waits { conn, .. } | Event::Answered { conn, .. } => {
            conn.0
        }
        Event::Stalled { order, .. }
        | Event::Reported { order, .. }
        | Event::Returned { order, .. }
        | Event::Exited { order, .. } => *order,
    }
}
