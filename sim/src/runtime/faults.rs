//! Faults as choices.
//!
//! Most lost and doubled units in production come not from two clean
//! transactions racing but from a process that dies between two steps, or
//! a reply that never arrives. Here they are ordinary steps of a schedule:
//! while a run has fault budget left (`[faults]` in a scenario,
//! `--crashes`, `--lost-replies`, `--pauses`), every quiet point offers them after the
//! orders' options and the clock's, so they replay, sweep, `check` and
//! shrink like any other step, and each one taken is a trace line.
//!
//! The fault model, what each fault does and what it does not:
//!
//! - **Crash** of an app node (one option per node still running an
//!   order). Its orders stop where they are: their code is dropped and
//!   nobody is told anything (outcome `crashed`). Their connections close,
//!   so the server rolls back each transaction they had open. A statement
//!   that is waiting for a lock when its connection closes is not cut
//!   short: PostgreSQL and InnoDB notice a closed client only when they
//!   write to it, so the statement runs on until the server answers it,
//!   and then its transaction is rolled back. Leases it held are not
//!   released: they run out. Nothing restarts the node, and no recovery
//!   runs.
//! - **Lost reply** (one option per order with a statement to send): the
//!   statement runs on the server as sent, but its answer never reaches
//!   the order, which sees a broken connection (08006) and cannot know
//!   whether it ran. A COMMIT whose reply is lost has committed. The
//!   server rolls back whatever the dead connection still had open; the
//!   order's next statement goes out on a new connection.
//! - **Pause** of an app node (one option per node still running an order
//!   and not paused already), for the scenario's `pause_ms`: a GC pause or
//!   a VM stall. Its orders run no code until it ends; what they already
//!   sent runs on, and time passes for everyone else: leases run out,
//!   lock waits time out. See `super::pause`.
//!
//! Strategies see only what a real client would: an error, or nothing.
//! The budget is per run: each fault taken spends one unit of its kind.

use super::recorder::Recorder;
use super::shared::{Shared, SlotFault};
use crate::backend::Backend;
use crate::chooser::Action;
use crate::trace::{Fault, TraceEvent};
use stockrace_model::{DbError, Reply, SessionId};

/// What a fault did to the orders' options.
#[derive(Default)]
pub(super) struct Injected {
    /// Orders whose code it dropped (a crash's).
    pub crashed: Vec<usize>,
    /// How many of them ended (the others recover after a restart).
    pub ended: usize,
    /// Orders whose option it withdrew for now (a pause's).
    pub withheld: Vec<usize>,
}

impl<B: Backend> Recorder<'_, '_, B> {
    /// Injects `fault` (an [`Action::Crash`], [`Action::LoseReply`] or
    /// [`Action::Pause`]).
    pub fn inject(&mut self, state: &mut Shared, fault: Action) -> Injected {
        match fault {
            Action::LoseReply { order } => {
                state.faults_left.lost_replies -= 1;
                let order = order as usize;
                state.slots[order].fault = SlotFault::ReplyLost;
                let statement = state.take_statement(order);
                self.execute(state, SessionId(order as u32), statement);
                Injected::default()
            }
            Action::Crash { node } => {
                state.faults_left.crashes -= 1;
                let crashed = self.crash(state, node);
                Injected {
                    ended: crashed
                        .iter()
                        .filter(|&&o| !state.slots[o].recovers)
                        .count(),
                    crashed,
                    withheld: Vec::new(),
                }
            }
            Action::Pause { node } => {
                state.faults_left.pauses -= 1;
                let until_ms = state.now_ms.saturating_add(state.faults_left.pause_ms);
                let first = (0..state.slots.len())
                    .find(|&o| state.slots[o].node == node && state.slots[o].outcome.is_none())
                    .expect("a paused node runs an order");
                self.trace.push(TraceEvent::Fault {
                    time_ms: state.now_ms,
                    order: first as u32,
                    fault: Fault::Pause { node, until_ms },
                });
                Injected {
                    withheld: state.pause(node, until_ms),
                    ..Injected::default()
                }
            }
            other => unreachable!("not a fault: {other:?}"),
        }
    }

    /// App node `node` crashed: every order on it that has not ended.
    fn crash(&mut self, state: &mut Shared, node: u32) -> Vec<usize> {
        let victims: Vec<usize> = (0..state.slots.len())
            .filter(|&o| state.slots[o].node == node && state.slots[o].outcome.is_none())
            .collect();
        self.trace.push(TraceEvent::Fault {
            time_ms: state.now_ms,
            order: victims[0] as u32,
            fault: Fault::Crash { node },
        });
        // Every victim stops before any connection closes: closing one
        // can answer another's waiting statement, which must find its
        // order gone.
        state.crash(&victims);
        for &order in &victims {
            state.slots[order].recovers = self.recoverable[order];
            if state.slots[order].fault != SlotFault::Disconnected {
                self.close_connection(state, order);
                if state.slots[order].recovers {
                    state.restarts.push(order);
                }
            }
            if state.slots[order].recovers {
                // Not ended: it recovers once the node restarts.
                continue;
            }
            self.trace.push(TraceEvent::Finished {
                time_ms: state.now_ms,
                order: order as u32,
            });
            let outcome = state.slots[order].outcome.as_ref().expect("crashed");
            self.monitor
                .on_finished(self.trace.len(), order, outcome, &*self.store);
        }
        victims
    }

    /// `order`'s connection is dead: it closes, and the server rolls back
    /// what it had open (if anything); the answer goes to nobody.
    pub(super) fn close_connection(&mut self, state: &mut Shared, order: usize) {
        let session = SessionId(order as u32);
        state.slots[order].fault = SlotFault::Closing;
        self.store.close_connection(session, self.events);
        self.record(state);
        state.slots[order].fault = SlotFault::None;
    }
}

/// What the order gets for its statement's `result`, under the fault its
/// connection is under: `None` when nobody is there to get it.
/// Connections the server must now roll back go to `closing`.
pub(super) fn through_fault(
    trace: &mut Vec<TraceEvent>,
    state: &mut Shared,
    order: usize,
    result: Result<Reply, DbError>,
    closing: &mut Vec<usize>,
) -> Option<Result<Reply, DbError>> {
    match std::mem::take(&mut state.slots[order].fault) {
        SlotFault::None => Some(result),
        SlotFault::Closing => None,
        SlotFault::Disconnected => {
            state.end_disconnected(order);
            closing.push(order);
            None
        }
        SlotFault::ReplyLost => {
            trace.push(TraceEvent::Fault {
                time_ms: state.now_ms,
                order: order as u32,
                fault: Fault::LostReply,
            });
            closing.push(order);
            Some(Err(DbError::CONNECTION_LOST))
        }
    }
}
