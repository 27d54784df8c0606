//! What a run records as it goes: every statement the backend ran (and
//! the waiters it let go) and everything orders did on their own, in the
//! trace, judged by the monitor as it is recorded; and the timers of lock
//! waits.

use super::faults::through_fault;
use super::shared::{News, Phase, Shared, SlotFault, WaitTimers};
use crate::backend::{Backend, WaitSettings};
use crate::invariants::Monitor;
use crate::trace::TraceEvent;
use stockrace_model::{Event, Progress, SessionId, Statement};

/// The backend of one run and everything recorded about it.
/// The store, the monitor and the buffers are the sweep's, lent for the run.
pub(super) struct Recorder<'r, 'p, B> {
    pub store: &'r mut B,
    pub monitor: &'r mut Monitor<'p>,
    pub trace: Vec<TraceEvent>,
    /// What the store reports, as it reports it.
    pub events: &'r mut Vec<Event>,
    /// Lock waits whose timer is due, as (deadline, began, order).
    pub due: &'r mut Vec<(u64, u64, usize)>,
    /// Each order's session's lock-wait settings.
    pub wait_settings: &'p [WaitSettings],
    /// Whether each order recovers when its crashed app node restarts.
    pub recoverable: &'p [bool],
    /// Lock waits begun so far (orders waits that begin at the same time).
    pub waits_begun: u64,
}

impl<B: Backend> Recorder<'_, '_, B> {
    /// Runs a statement on the store and records what happened.
    pub fn execute(&mut self, state: &mut Shared, session: SessionId, statement: Statement) {
        self.store.execute(session, statement, self.events);
        self.record(state);
    }

    /// Records what the store reported, hands every completed statement back
    /// to its order, and starts the timers of statements that began waiting.
    pub(super) fn record(&mut self, state: &mut Shared) {
        let now = state.now_ms;
        // Dead connections the server rolls back once these are recorded
        // (a fault's; see `super::faults`).
        let mut closing = Vec::new();
        // By reference: an event is a few hundred bytes, and each copy showed.
        for event in self.events.iter() {
            tracing::debug!(
                target: "stockrace::store",
                time_ms = now,
                session = %event.session,
                statement = %event.statement,
                result = %crate::trace::result_text(&event),
                resumed = event.resumed,
                "statement"
            );
            // A waiter re-run when a lock holder ended that must wait again
            // (for the row's next holder) is not a new line: with n orders
            // queued on one row, each release re-runs every waiter, and a
            // line per re-run made traces grow as n². Its wait goes on (its
            // timers restart below); its line comes when it completes.
            let rewait = event.resumed && matches!(event.progress, Progress::Waiting { .. });
            if !rewait {
                // Written where it goes, over a small placeholder: a
                // `push` of the event built it beside and copied it over,
                // two copies of a few hundred bytes per event.
                self.trace.push(TraceEvent::Wake {
                    time_ms: now,
                    order: 0,
                });
                *self.trace.last_mut().expect("just pushed") = TraceEvent::Statement {
                    time_ms: now,
                    event: *event,
                };
            }
            self.monitor
                .on_statement(self.trace.len(), event, &*self.store);
            let order = event.session.index();
            match event.progress {
                Progress::Done(result) if state.slots[order].fault == SlotFault::None => {
                    state.deliver(order, result)
                }
                Progress::Done(result) => {
                    let trace = &mut self.trace;
                    if let Some(result) = through_fault(trace, state, order, result, &mut closing) {
                        state.deliver(order, result);
                    }
                }
                Progress::Waiting { .. } => {
                    self.waits_begun += 1;
                    let deadlines =
                        self.store
                            .wait_deadlines(event.session, now, self.wait_settings[order]);
                    state.set_timers(
                        order,
                        WaitTimers {
                            deadlock_check_ms: deadlines.deadlock_check_ms,
                            timeout_ms: deadlines.timeout_ms,
                            began: self.waits_begun,
                        },
                    );
                }
            }
        }
        self.events.clear();
        for order in closing {
            self.close_connection(state, order);
            if state.slots[order].recovers {
                state.restarts.push(order);
            }
        }
    }

    /// Virtual time moved on to `now_ms`: the backend reports what it did by
    /// itself meanwhile, then the run's own timers fire.
    pub fn time_passed(&mut self, state: &mut Shared, now_ms: u64) {
        state.now_ms = now_ms;
        self.store.time_passed(now_ms, self.events);
        if !self.events.is_empty() {
            self.record(state);
        }
        self.timers_due(state);
    }

    /// Virtual time reached `state.now_ms`: wake sleepers (in order-id
    /// order), then time out lock waits and run due deadlock checks, the
    /// earliest deadline first and, on a tie, the wait that began first.
    pub fn timers_due(&mut self, state: &mut Shared) {
        let now = state.now_ms;
        let due = &mut *self.due;
        due.clear();
        for order in 0..state.slots.len() {
            match state.slots[order].phase {
                Phase::Sleeping { until_ms } if until_ms <= now => {
                    state.wake(order);
                    self.trace.push(TraceEvent::Wake {
                        time_ms: now,
                        order: order as u32,
                    });
                }
                Phase::Held { until_ms } if until_ms <= now => state.release_held(order),
                Phase::Waiting => {
                    let timers = state.slots[order].timers;
                    if let Some(at) = timers.next().filter(|at| *at <= now) {
                        due.push((at, timers.began, order));
                    }
                }
                _ => {}
            }
        }
        due.sort_unstable();
        for i in 0..self.due.len() {
            let (_, began, order) = self.due[i];
            // An earlier timeout may have ended this wait (or started another).
            let timers = state.slots[order].timers;
            if state.slots[order].phase != Phase::Waiting || timers.began != began {
                continue;
            }
            let session = SessionId(order as u32);
            if timers.timeout_ms.is_some_and(|t| t <= now) {
                self.store.wait_timed_out(session, self.events);
            } else {
                // A deadlock check runs once per wait (PostgreSQL's rule;
                // a cycle that closes later is found by the waiter that
                // closes it).
                state.deadlock_checked(order);
                self.store.deadlock_check(session, self.events);
            }
            self.record(state);
        }
    }

    /// Records what orders did on their own; returns how many finished.
    pub fn take_news(&mut self, state: &mut Shared) -> usize {
        let mut finished = 0;
        let mut news = std::mem::take(&mut state.news);
        // Orders that ran in the same window ran concurrently; the order in
        // which they happened to be polled must not show, so take their
        // news by order id (each order's own news stays in its order).
        news.sort_by_key(News::order);
        for news in news.drain(..) {
            let time_ms = state.now_ms;
            match news {
                News::Slept(order) => {
                    if let Phase::Sleeping { until_ms } = state.slots[order].phase {
                        self.trace.push(TraceEvent::Sleep {
                            time_ms,
                            order: order as u32,
                            until_ms,
                        });
                    }
                }
                News::ProcessLock { order, key, event } => {
                    self.trace.push(TraceEvent::ProcessLock {
                        time_ms,
                        order: order as u32,
                        key,
                        event,
                    });
                }
                News::Lease { order, event } => {
                    self.trace.push(TraceEvent::Lease {
                        time_ms,
                        order: order as u32,
                        event,
                    });
                }
                News::Finished(order) => {
                    self.finished(state, order);
                    finished += 1;
                }
            }
        }
        if state.news.is_empty() {
            // Keep the buffer's capacity for the next steps.
            state.news = news;
        }
        finished
    }

    /// An order's strategy returned: close its connection and judge its result.
    fn finished(&mut self, state: &mut Shared, order: usize) {
        let session = SessionId(order as u32);
        if self.store.in_transaction(session) {
            // Closing the connection: PostgreSQL rolls back what is open.
            self.execute(state, session, Statement::Rollback);
        }
        self.trace.push(TraceEvent::Finished {
            time_ms: state.now_ms,
            order: order as u32,
        });
        let outcome = state.slots[order].outcome.as_ref().expect("finished");
        self.monitor
            .on_finished(self.trace.len(), order, outcome, &*self.store);
    }
}
