//! The scheduler's options at a quiet point, kept from one quiet point to
//! the next rather than listed afresh: between two quiet points only the
//! order that was chosen loses its option, and only orders that ran
//! application code can gain one (they parked with a request), so the list
//! changes by those few entries. Listing every order at every step was a
//! sixth of a run's time at 8 orders.
//!
//! The list reads as it always has (a schedule's indices count it): each
//! order's request by order id, then "let time pass to the next timer" if
//! that is allowed. It is kept as the ids of the orders with an option, in
//! order, and whether the clock has one, which is all a chooser that only
//! counts the options needs (the chosen index is read off at once, and the
//! taken option's place is known at the next update); each option is also
//! described (its statement, or its lock, or when time would pass to) only
//! for a chooser that reads them. Debug builds check both against a
//! listing made afresh.

use super::shared::{Phase, Shared};
use super::Prepared;
use crate::backend::Backend;
use crate::chooser::{Action, Actor, Choice};
use stockrace_model::SessionId;

#[derive(Default)]
pub(crate) struct Options {
    /// The orders with an option, by id.
    orders: Vec<u32>,
    /// Whether the clock has an option (listed after the orders').
    clock: bool,
    /// The faults on offer (listed last; see `super::faults`): listed
    /// afresh at every quiet point, and only while the run has a fault
    /// budget left, so runs without one never look.
    faults: Vec<Action>,
    /// Whether `choices` is kept (the chooser reads the options).
    described: bool,
    /// The options described, in list order, if `described`.
    choices: Vec<Choice>,
    /// The option taken at the last quiet point (its index, and its
    /// order): still listed until the next, where the order usually asks
    /// again at once (its next statement) and its new option takes the old
    /// one's place.
    taken: Option<(usize, usize)>,
}

impl Options {
    /// Empty, for a run of `n` orders; the options are described if
    /// `described`.
    pub fn clear(&mut self, n: usize, described: bool) {
        self.orders.clear();
        self.orders.reserve(n);
        self.clock = false;
        self.faults.clear();
        self.choices.clear();
        self.described = described;
        self.taken = None;
    }

    /// The options described (empty unless they are).
    pub fn as_slice(&self) -> &[Choice] {
        &self.choices
    }

    /// Who moves in each option (for the log).
    pub fn actors(&self) -> Vec<Actor> {
        let orders = self.orders.iter().map(|o| Actor::Order(*o));
        let faults = self.faults.iter().map(|_| Actor::Fault);
        orders
            .chain(self.clock.then_some(Actor::Clock))
            .chain(faults)
            .collect()
    }

    /// How many of the options are faults (the last ones).
    #[inline]
    pub fn fault_count(&self) -> usize {
        self.faults.len()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.orders.len() + usize::from(self.clock) + self.faults.len()
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
        // Describing the taken option again is out of line: a sweep's
        // chooser only counts, and this is every step's path.
        if let Some((at, order)) = self.taken.take() {
            // Asked again at once: same order, same place.
            let again = state.offered.contains(order);
            if self.described {
                self.describe_taken(prepared, state, store, at, again);
            }
            if again {
                state.offered.remove(order);
            } else {
                self.orders.remove(at);
            }
        }
        if !self.faults.is_empty() {
            if self.described {
                self.choices
                    .truncate(self.choices.len() - self.faults.len());
            }
            self.faults.clear();
        }
        if std::mem::take(&mut self.clock) && self.described {
            self.choices.pop();
        }
        if !state.offered.is_empty() {
            self.add_offered(prepared, state, store);
        }
        let next_timer = state.next_timer();
        let result = self.offer_clock(prepared, state, store, next_timer);
        if result.is_ok() && !state.faults_left.is_none() {
            self.offer_faults(prepared, state);
        }
        #[cfg(debug_assertions)]
        {
            let fresh = listed_afresh(prepared, state, store);
            assert_eq!(
                (&self.orders, self.clock, &self.faults),
                (&fresh.orders, fresh.clock, &fresh.faults),
                "the kept options differ from the options listed afresh"
            );
            if self.described {
                assert_eq!(
                    self.choices, fresh.choices,
                    "the kept options differ from the options listed afresh"
                );
            }
        }
        result
    }

    /// The taken option (at `at`) described anew (`again`: its order asked
    /// again) or dropped.
    #[inline(never)]
    fn describe_taken<B: Backend>(
        &mut self,
        prepared: &Prepared,
        state: &Shared,
        store: &B,
        at: usize,
        again: bool,
    ) {
        if again {
            let order = self.orders[at] as usize;
            self.choices[at] = offer(prepared, state, order, store);
        } else {
            self.choices.remove(at);
        }
    }

    /// The orders that asked since the last quiet point get their options.
    fn add_offered<B: Backend>(&mut self, prepared: &Prepared, state: &mut Shared, store: &B) {
        while let Some(order) = state.offered.pop_first() {
            let at = self.orders.partition_point(|o| (*o as usize) < order);
            self.orders.insert(at, order as u32);
            if self.described {
                self.choices
                    .insert(at, offer(prepared, state, order, store));
            }
        }
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
            self.orders
                .iter()
                .map(|order| state.slots[*order as usize].parked_ms + latency_ms)
                .min()
        } else {
            None
        };
        match next_timer {
            Some(t) if t <= max_virtual_ms && deadline.map_or(true, |d| t <= d) => {
                self.clock = true;
                if self.described {
                    self.choices.push(Choice {
                        actor: Actor::Clock,
                        action: Action::PassTime { to_ms: t },
                    });
                }
            }
            Some(t) if self.orders.is_empty() => return Err(out_of_time(max_virtual_ms, t)),
            _ => {}
        }
        if !self.clock && self.orders.is_empty() {
            return Err(describe_hang(state, store));
        }
        Ok(next_timer)
    }

    /// The faults on offer while budget is left: a crash of each app node
    /// that still runs an order, then a lost reply for each order with a
    /// statement to send, by order id, then a pause of each app node that
    /// runs an order and is not paused.
    fn offer_faults(&mut self, prepared: &Prepared, state: &Shared) {
        let left = state.faults_left;
        let runs_an_order = |node: u32| {
            state
                .slots
                .iter()
                .any(|s| s.node == node && s.outcome.is_none())
        };
        if left.crashes > 0 {
            for node in 0..prepared.scenario.nodes {
                if runs_an_order(node) {
                    self.faults.push(Action::Crash { node });
                }
            }
        }
        if left.lost_replies > 0 {
            for &order in &self.orders {
                if matches!(state.slots[order as usize].phase, Phase::Submitted(_)) {
                    self.faults.push(Action::LoseReply { order });
                }
            }
        }
        if left.pauses > 0 {
            for node in 0..prepared.scenario.nodes {
                if runs_an_order(node) && !state.is_paused(node) {
                    self.faults.push(Action::Pause { node });
                }
            }
        }
        if self.described {
            let faults = self.faults.iter().map(|action| Choice {
                actor: Actor::Fault,
                action: action.clone(),
            });
            self.choices.extend(faults);
        }
    }

    /// The chosen option: its actor moves now, and the option goes at the
    /// next update.
    #[inline]
    pub fn take(&mut self, index: usize) -> Actor {
        match self.orders.get(index) {
            Some(&order) => {
                self.taken = Some((index, order as usize));
                Actor::Order(order)
            }
            None if self.clock && index == self.orders.len() => Actor::Clock,
            None => Actor::Fault,
        }
    }

    /// The fault the option at `index` (taken, an [`Actor::Fault`]) injects.
    /// A lost reply takes its order's option, as running its statement would.
    pub fn take_fault(&mut self, index: usize) -> Action {
        let action = self.faults[index - self.orders.len() - usize::from(self.clock)].clone();
        if let Action::LoseReply { order } = action {
            let at = self
                .orders
                .iter()
                .position(|o| *o == order)
                .expect("an order with an option");
            self.taken = Some((at, order as usize));
        }
        action
    }

    /// `crashed` orders lose their options (their app node crashed).
    pub fn drop_orders(&mut self, crashed: &[usize]) {
        let mut at = 0;
        while at < self.orders.len() {
            if crashed.contains(&(self.orders[at] as usize)) {
                self.orders.remove(at);
                if self.described {
                    self.choices.remove(at);
                }
            } else {
                at += 1;
            }
        }
    }

    /// The chosen option described, if the options are.
    pub fn described(&self, index: usize) -> Option<&Choice> {
        self.choices.get(index)
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
        Phase::LeaseRequest(call) => Some(Action::Lease { call }),
        _ => None,
    }
}

/// Every order's option listed from scratch: what the kept list must equal.
#[cfg(debug_assertions)]
fn listed_afresh<B: Backend>(prepared: &Prepared, state: &Shared, store: &B) -> Options {
    let mut fresh = Options::default();
    fresh.clear(state.slots.len(), true);
    for (order, slot) in state.slots.iter().enumerate() {
        if let Some(action) = request(prepared, slot.phase, slot.node, order, store) {
            fresh.orders.push(order as u32);
            fresh.choices.push(Choice {
                actor: Actor::Order(order as u32),
                action,
            });
        }
    }
    if fresh
        .offer_clock(prepared, state, store, state.timer_of_slots())
        .is_ok()
        && !state.faults_left.is_none()
    {
        fresh.offer_faults(prepared, state);
    }
    fresh
}

/// Why time may not pass: the virtual-time budget ran out.
#[cold]
fn out_of_time(max_virtual_ms: u64, next_timer: u64) -> String {
    format!(
        "the virtual-time budget ({max_virtual_ms} ms) ran out: the next timer is at {next_timer} ms"
    )
}

/// Why nothing can run: every live order waits on a lock nobody will release.
#[cold]
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
