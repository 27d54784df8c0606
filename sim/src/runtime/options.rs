//! The scheduler's options at a quiet point, kept from one quiet point to
//! the next rather than listed afresh: between two quiet points only the
//! order that was chosen loses its option, and only orders that ran
//! application code can gain one (they parked with a request), so the list
//! changes by those few entries. Listing every order at every step was a
//! sixth of a run's time at 8 orders.
//!
//! The list reads as it always has (a schedule's indices count it): each
//! order's request by order id, then "let time pass to the next timer" if
//! that is allowed. Debug builds check it against a listing made afresh.

use super::shared::{Phase, Shared};
use super::Prepared;
use crate::backend::Backend;
use crate::chooser::{Action, Actor, Choice};
use stockrace_model::SessionId;

#[derive(Default)]
pub(crate) struct Options {
    /// The orders' options by order id, then the clock's, if it may move.
    list: Vec<Choice>,
    /// The option taken at the last quiet point: still in `list` until the
    /// next, where the order that took it usually asks again at once (its
    /// next statement) and its new option takes the old one's place.
    taken: Option<usize>,
}

impl Options {
    /// Empty, for a new run.
    pub fn clear(&mut self) {
        self.list.clear();
        self.taken = None;
    }

    pub fn as_slice(&self) -> &[Choice] {
        &self.list
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Brings the list up to date at a quiet point: adds the requests of
    /// the orders that parked with one since the last quiet point and
    /// offers the clock if time may pass. Returns the next timer, or why
    /// the run cannot go on (a budget ran out, or nothing can move).
    pub fn update<B: Backend>(
        &mut self,
        prepared: &Prepared,
        state: &mut Shared,
        store: &B,
    ) -> Result<Option<u64>, String> {
        if let Some(taken) = self.taken.take() {
            if let Actor::Order(order) = self.list[taken].actor {
                let order = order as usize;
                match state.offers.iter().position(|o| *o == order) {
                    Some(at) => {
                        state.offers.swap_remove(at);
                        self.list[taken] = offer(prepared, state, order, store);
                    }
                    None => {
                        self.list.remove(taken);
                    }
                }
            }
        }
        if self.list.last().is_some_and(|c| c.actor == Actor::Clock) {
            self.list.pop();
        }
        while let Some(order) = state.offers.pop() {
            let choice = offer(prepared, state, order, store);
            let at = self.list.partition_point(|c| c.actor < choice.actor);
            self.list.insert(at, choice);
        }
        let next_timer = state.next_timer();
        let result = self.offer_clock(prepared, state, store, next_timer);
        debug_assert_eq!(
            self.list,
            listed_afresh(prepared, state, store),
            "the kept options differ from the options listed afresh"
        );
        result
    }

    /// Adds "let time pass" if the next timer is within the budgets.
    fn offer_clock<B: Backend>(
        &mut self,
        prepared: &Prepared,
        state: &Shared,
        store: &B,
        next_timer: Option<u64>,
    ) -> Result<Option<u64>, String> {
        let max_virtual_ms = prepared.scenario.max_virtual_ms();
        let latency_ms = prepared.scenario.latency.statement_ms;
        // With a statement latency, a request is served within that
        // long: time may not pass beyond it. Without one, the scheduler
        // may also let time pass while requests wait (an app stalled).
        let deadline = if latency_ms > 0 {
            self.list
                .iter()
                .filter_map(|c| match c.actor {
                    Actor::Order(order) => Some(state.slots[order as usize].parked_ms + latency_ms),
                    Actor::Clock => None,
                })
                .min()
        } else {
            None
        };
        match next_timer {
            Some(t) if t <= max_virtual_ms && deadline.map_or(true, |d| t <= d) => {
                self.list.push(Choice {
                    actor: Actor::Clock,
                    action: Action::PassTime { to_ms: t },
                })
            }
            Some(t) if self.list.is_empty() => {
                return Err(format!(
                    "the virtual-time budget ({max_virtual_ms} ms) ran out: the next timer is at {t} ms"
                ));
            }
            _ => {}
        }
        if self.list.is_empty() {
            return Err(describe_hang(state, store));
        }
        Ok(next_timer)
    }

    /// The chosen option: its actor moves now, and the option goes at the
    /// next update.
    pub fn take(&mut self, index: usize) -> &Choice {
        self.taken = Some(index);
        &self.list[index]
    }
}

/// The option of `order`, which parked with a request.
fn offer<B: Backend>(prepared: &Prepared, state: &Shared, order: usize, store: &B) -> Choice {
    let slot = &state.slots[order];
    Choice {
        actor: Actor::Order(order as u32),
        action: request(prepared, slot.phase, slot.node, order, store)
            .expect("an order offers a request"),
    }
}

/// The option of an order in `phase`, if it asks for something.
fn request<B: Backend>(
    prepared: &Prepared,
    phase: Phase,
    node: u32,
    order: usize,
    store: &B,
) -> Option<Action> {
    match phase {
        Phase::Submitted(statement) => Some(Action::Statement {
            statement,
            isolation: prepared.orders[order].isolation,
            in_transaction: store.in_transaction(SessionId(order as u32)),
        }),
        Phase::ProcessLockRequest { key } => Some(Action::ProcessLock { key, node }),
        _ => None,
    }
}

/// Every order's option listed from scratch: what the kept list must equal.
fn listed_afresh<B: Backend>(prepared: &Prepared, state: &Shared, store: &B) -> Vec<Choice> {
    let mut fresh = Options::default();
    for (order, slot) in state.slots.iter().enumerate() {
        if let Some(action) = request(prepared, slot.phase, slot.node, order, store) {
            fresh.list.push(Choice {
                actor: Actor::Order(order as u32),
                action,
            });
        }
    }
    let _ = fresh.offer_clock(prepared, state, store, state.timer_of_slots());
    fresh.list
}

/// Why nothing can run: every live order waits on a lock nobody will release.
fn describe_hang(state: &Shared, store: &dyn Backend) -> String {
    let waiting: Vec<String> = state
        .slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.phase != Phase::Finished)
        .map(|(i, slot)| {
            let session = SessionId(i as u32);
            match (slot.phase, store.waits_for(session)) {
                (_, Some(holder)) => format!("{session} waits for a lock {holder} holds"),
                (Phase::ProcessLockWait { key }, _) => {
                    format!(
                        "{session} waits for in-process lock {key} on app node {}",
                        slot.node
                    )
                }
                _ => format!("{session} is stuck"),
            }
        })
        .collect();
    format!("no order can make progress: {}", waiting.join(", "))
}
