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

/// One line of the trace (see [`Trace::entries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The step the event follows: for a release, its own number.
    pub step: usize,
    pub event: &'a Event,
    /// For a release: the first answer or wait of its connection in the
    /// same step, shown on its line (and, when it is the only one, on no
    /// line of its own).
    pub answer: Option<&'a Event>,
}

impl Line<'_> {
    /// What a release's line says came back: the result, `waits for ...`,
    /// or `(no answer yet)`.
    pub fn result(&self) -> String {
        match self.answer {
            Some(Event::Answered { result, .. }) => result.clone(),
            Some(Event::Waits { on, .. }) => format!("waits for {}", on.join(", ")),
            _ => "(no answer yet)".to_string(),
        }
    }

    /// The line as `app` and `app replay` print it.
    pub fn text(&self) -> String {
        let step = self.step;
        match self.event {
            Event::Released { conn, text } => {
                format!(
                    "{step:>4}  {:<6} {text} → {}",
                    conn_name(*conn),
                    self.result()
                )
            }
            Event::Answered { conn, result } => {
                format!("      {:<6} resumed → {result}", conn_name(*conn))
            }
            Event::Waits { conn, on } => {
                format!("      {:<6} waits for {}", conn_name(*conn), on.join(", "))
            }
            Event::Stalled { order, .. }
            | Event::Reported { order, .. }
            | Event::Returned { order, .. }
            | Event::Exited { order, .. } => {
                format!("      T{:<5} {}", order + 1, self.event.of_order())
            }
        }
    }
}

impl Event {
    /// What an order (not a connection) did: `stalled: ...`, `reported:
    /// sold 1`, `returned: ...`, `exited (exit 0): sold 1`; empty for a
    /// connection's event.
    pub fn of_order(&self) -> String {
        match self {
            Event::Stalled { settle_ms, .. } => format!(
                "stalled: no statement and no exit for {settle_ms} ms (an in-process lock or a timer the proxy cannot see)"
            ),
            Event::Reported { outcome, .. } => format!("reported: {outcome}"),
            Event::Returned { outcome, .. } => format!("returned: {outcome}"),
            Event::Exited {
                outcome, status, ..
            } => format!("exited ({status}): {outcome}"),
            Event::Released { .. } | Event::Waits { .. } | Event::Answered { .. } => String::new(),
        }
    }
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

    /// The trace as its lines go: every event in schedule order but a
    /// release's prompt answer or wait, which goes on the release's line
    /// (see [`Line::answer`]). What `lines` prints and a picture draws.
    pub fn entries(&self) -> Vec<Line<'_>> {
        let ordered = self.ordered();
        let mut entries = Vec::new();
        for (i, &(step, event)) in ordered.iter().enumerate() {
            let answer = match event {
                Event::Released { conn, .. } => ordered
                    .iter()
                    .skip(i + 1)
                    .take_while(|(s, _)| *s == step)
                    .find(|(_, e)| answers(e, *conn))
                    .map(|(_, e)| *e),
                Event::Answered { conn, .. } | Event::Waits { conn, .. } => {
                    if released_here(&ordered, step, *conn) {
                        continue;
                    }
                    None
                }
                _ => None,
            };
            entries.push(Line {
                step,
                event,
                answer,
            });
        }
        entries
    }

    /// One line per event; a released statement and its prompt answer share
    /// a line.
    pub fn lines(&self) -> Vec<String> {
        self.entries().iter().map(Line::text).collect()
    }

    pub fn stalls(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Stalled { .. }))
            .count()
    }
}

/// `event` is an answer or a wait of `conn`.
fn answers(event: &Event, conn: ConnId) -> bool {
    matches!(event, Event::Answered { conn: c, .. } | Event::Waits { conn: c, .. } if *c == conn)
}

/// Whether `conn`'s statement was released at `step` (so its first answer
/// or wait is printed on the release's line).
fn released_here(ordered: &[(usize, &Event)], step: usize, conn: ConnId) -> bool {
    ordered
        .iter()
        .any(|(s, e)| *s == step && matches!(e, Event::Released { conn: c, .. } if *c == conn))
        && ordered
            .iter()
            .filter(|(s, e)| *s == step && answers(e, conn))
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
