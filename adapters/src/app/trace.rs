//! The story of one app run, in the order the scheduler caused it.
//!
//! Events between two releases happen "at once" as far as the schedule is
//! concerned: when T1's COMMIT lets T2's waiting UPDATE finish, which answer
//! reaches the proxy first is up to the kernel. So events are numbered by the
//! step they follow, and within a step listed by order and connection, never
//! by arrival: two runs of one schedule print the same trace.

use super::execution::Outcome;

/// (order, connection), both from 0: the order the options are listed in.
pub type ConnId = (usize, usize);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The scheduler let this connection's held statement go.
    Released { conn: ConnId, text: String },
    /// The server shows it waiting for these (named) holders.
    Waits { conn: ConnId, on: Vec<String> },
    /// Its answer: result tags, or the error.
    Answered { conn: ConnId, result: String },
    /// Application code ran past settle_ms without a statement or an exit.
    Stalled { order: usize, settle_ms: u64 },
    /// A reused order printed its outcome (it stays for the next run).
    Reported { order: usize, outcome: Outcome },
    /// A closure order returned (or panicked): its outcome.
    Returned { order: usize, outcome: Outcome },
    /// The process exited.
    Exited {
        order: usize,
        outcome: Outcome,
        status: String,
    },
}

impl Event {
    /// Where the event sorts among those of the same step.
    fn key(&self) -> (u8, usize, usize) {
        match self {
            Event::Released { .. } => (0, 0, 0),
            Event::Waits { conn, .. } | Event::Answered { conn, .. } => (1, conn.0, conn.1),
            Event::Stalled { order, .. }
            | Event::Reported { order, .. }
            | Event::Returned { order, .. }
            | Event::Exited { order, .. } => (1, *order, usize::MAX),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// (step it follows, event), in arrival order.
    events: Vec<(usize, Event)>,
    steps: usize,
}

/// `T1.c1`: order 1 (STOCKRACE_ORDER=0), its first connection.
pub fn conn_name(conn: ConnId) -> String {
    format!("T{}.c{}", conn.0 + 1, conn.1 + 1)
}

impl Trace {
    pub fn push(&mut self, event: Event) {
        if let Event::Released { .. } = event {
            self.steps += 1;
        }
        self.events.push((self.steps, event));
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The events in schedule order (see the module comment).
    pub fn ordered(&self) -> Vec<(usize, &Event)> {
        let mut events: Vec<(usize, usize, &Event)> = self
            .events
            .iter()
            .enumerate()
            .map(|(arrival, (step, event))| (*step, arrival, event))
            .collect();
        // Stable: events of one connection keep their arrival order.
        events.sort_by_key(|(step, _, event)| (*step, event.key()));
        events
            .into_iter()
            .map(|(step, _, event)| (step, event))
            .collect()
    }

    /// One line per event; a released statement and its prompt answer share
    /// a line.
    pub fn lines(&self) -> Vec<String> {
        let ordered = self.ordered();
        let mut lines = Vec::new();
        let mut i = 0;
        while i < ordered.len() {
            let (step, event) = ordered[i];
            match event {
                Event::Released { conn, text } => {
                    let follow = ordered.iter().skip(i + 1).take_while(|(s, _)| *s == step).find(
                        |(_, e)| matches!(e, Event::Answered { conn: c, .. } | Event::Waits { conn: c, .. } if c == conn),
                    );
                    let result = match follow {
                        Some((_, Event::Answered { result, .. })) => result.clone(),
                        Some((_, Event::Waits { on, .. })) => format!("waits for {}", on.join(", ")),
                        _ => "(no answer yet)".to_string(),
                    };
                    lines.push(format!("{step:>4}  {:<6} {text} → {result}", conn_name(*conn)));
                }
                Event::Answered { conn, result } => {
                    if !released_here(&ordered, step, *conn) {
                        lines.push(format!("      {:<6} resumed → {result}", conn_name(*conn)));
                    }
                }
                Event::Waits { conn, on } => {
                    if !released_here(&ordered, step, *conn) {
                        lines.push(format!("      {:<6} waits for {}", conn_name(*conn), on.join(", ")));
                    }
                }
                Event::Stalled { order, settle_ms } => lines.push(format!(
                    "      T{:<5} stalled: no statement and no exit for {settle_ms} ms (an in-process lock or a timer the proxy cannot see)",
                    order + 1
                )),
                Event::Reported { order, outcome } => {
                    lines.push(format!("      T{:<5} reported: {outcome}", order + 1))
                }
                Event::Returned { order, outcome } => {
                    lines.push(format!("      T{:<5} returned: {outcome}", order + 1))
                }
                Event::Exited { order, outcome, status } => {
                    lines.push(format!("      T{:<5} exited ({status}): {outcome}", order + 1))
                }
            }
            i += 1;
        }
        lines
    }

    pub fn stalls(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Stalled { .. }))
            .count()
    }
}

/// Whether `conn`'s statement was released at `step` (so its first answer
/// or wait is printed on the release's line).
fn released_here(ordered: &[(usize, &Event)], step: usize, conn: ConnId) -> bool {
    ordered
        .iter()
        .any(|(s, e)| *s == step && matches!(e, Event::Released { conn: c, .. } if *c == conn))
        && ordered
            .iter()
            .filter(|(s, e)| *s == step && matches!(e, Event::Answered { conn: c, .. } | Event::Waits { conn: c, .. } if *c == conn))
            .count()
            == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_within_a_step_print_by_connection_not_arrival() {
        let mut a = Trace::default();
        a.push(Event::Released {
            conn: (0, 0),
            text: "COMMIT".into(),
        });
        a.push(Event::Answered {
            conn: (1, 0),
            result: "UPDATE 1".into(),
        });
        a.push(Event::Answered {
            conn: (0, 0),
            result: "COMMIT".into(),
        });
        let mut b = Trace::default();
        b.push(Event::Released {
            conn: (0, 0),
            text: "COMMIT".into(),
        });
        b.push(Event::Answered {
            conn: (0, 0),
            result: "COMMIT".into(),
        });
        b.push(Event::Answered {
            conn: (1, 0),
            result: "UPDATE 1".into(),
        });
        assert_eq!(a.lines(), b.lines());
        assert_eq!(
            a.lines(),
            vec![
                "   1  T1.c1  COMMIT → COMMIT".to_string(),
                "      T2.c1  resumed → UPDATE 1".to_string()
            ]
        );
    }

    #[test]
    fn a_wait_then_its_answer_in_a_later_step() {
        let mut t = Trace::default();
        t.push(Event::Released {
            conn: (1, 0),
            text: "UPDATE t".into(),
        });
        t.push(Event::Waits {
            conn: (1, 0),
            on: vec!["T1.c1".into()],
        });
        t.push(Event::Released {
            conn: (0, 0),
            text: "COMMIT".into(),
        });
        t.push(Event::Answered {
            conn: (0, 0),
            result: "COMMIT".into(),
        });
        t.push(Event::Answered {
            conn: (1, 0),
            result: "UPDATE 1".into(),
        });
        assert_eq!(
            t.lines(),
            vec![
                "   1  T2.c1  UPDATE t → waits for T1.c1".to_string(),
                "   2  T1.c1  COMMIT → COMMIT".to_string(),
                "      T2.c1  resumed → UPDATE 1".to_string(),
            ]
        );
    }
}
