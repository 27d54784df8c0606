//! What the runs of one sweep share: the scheduler's state and the orders'
//! slots, the options, the monitor, and the buffers a run fills but does
//! not keep. A sweep's runs are short (an 8-order run is a few dozen
//! steps), and allocating all of this afresh for each was a good part of a
//! run's time. Every run resets what it takes, so a run is the same
//! whether its scratch is new or was used before.

use super::lock::SpinLock;
use super::options::Options;
use super::orders::Orders;
use super::shared::{lock, Shared, SharedRef};
use super::Prepared;
use crate::invariants::Monitor;
use std::sync::Arc;
use stockrace_model::Event;

pub(crate) struct Scratch<'p> {
    pub shared: SharedRef,
    pub orders: Orders,
    pub options: Options,
    pub monitor: Monitor<'p>,
    /// What the store reports, as it reports it.
    pub events: Vec<Event>,
    /// Lock waits whose timer is due.
    pub due: Vec<(u64, u64, usize)>,
}

impl<'p> Scratch<'p> {
    pub fn new(prepared: &'p Prepared) -> Scratch<'p> {
        let shared = fresh_shared(prepared, false);
        Scratch {
            orders: Orders::new(&shared),
            shared,
            options: Options::default(),
            monitor: Monitor::new(&prepared.expectations),
            events: Vec::new(),
            due: Vec::new(),
        }
    }

    /// Everything reset for a run of `prepared`. If anything of an earlier
    /// run still holds the shared state or the orders' waker (a task or
    /// timer a strategy left behind on the runtime), the run gets new ones,
    /// so nothing left over can reach it. The options are described if
    /// `described` (the chooser reads them).
    pub fn for_run(
        &mut self,
        prepared: &Prepared,
        keyed: bool,
        described: bool,
    ) -> &mut Scratch<'p> {
        // Ours and the waker's.
        if Arc::strong_count(&self.shared) != 2 || !self.orders.waker_unshared() {
            self.shared = fresh_shared(prepared, keyed);
            self.orders = Orders::new(&self.shared);
        } else {
            lock(&self.shared).reset(prepared.orders.iter().map(|o| o.node), keyed);
        }
        lock(&self.shared).faults_left = prepared.scenario.faults;
        self.options.clear(prepared.orders.len(), described);
        self.monitor.reset();
        self.events.clear();
        self.due.clear();
        self
    }
}

fn fresh_shared(prepared: &Prepared, keyed: bool) -> SharedRef {
    let nodes = prepared.orders.iter().map(|o| o.node);
    Arc::new(SpinLock::new(Shared::new(nodes, keyed)))
}
