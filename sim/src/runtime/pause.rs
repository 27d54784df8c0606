//! Pauses of an app node (see `super::faults` for the fault model): for
//! the pause's length none of the node's orders runs application code,
//! while the database, the lease service and every other node's timers
//! go on.
//!
//! A paused order is `Phase::Held` until the pause ends, with what it
//! goes on with in `Slot::held`: the request it had parked with (a
//! statement not yet sent, a lock or lease it asked for), withdrawn from
//! the options meanwhile; or `Running`, when something it waited for
//! arrived during the pause (a statement's answer, a granted in-process
//! lock), kept in its slot until then. Work already on the server is not
//! paused: a statement waiting for a lock waits on and may be answered.
//! A sleep that would end during the pause ends when the pause does, and
//! a crashed order whose node restarts during the pause begins its
//! recovery when the pause ends.

use super::shared::{Phase, Shared};

impl Shared {
    /// App node `node` pauses until `until_ms`. Returns the orders whose
    /// option it withdrew (they are held, their request kept).
    pub fn pause(&mut self, node: u32, until_ms: u64) -> Vec<usize> {
        self.paused_nodes.insert(node, until_ms);
        let mut withheld = Vec::new();
        for order in 0..self.slots.len() {
            let slot = &mut self.slots[order];
            if slot.node != node || slot.outcome.is_some() {
                continue;
            }
            slot.paused_until_ms = until_ms;
            match slot.phase {
                Phase::Submitted(_) | Phase::ProcessLockRequest { .. } | Phase::LeaseRequest(_) => {
                    let request = slot.phase;
                    self.offered.remove(order);
                    self.hold(order, request);
                    withheld.push(order);
                }
                Phase::Sleeping { until_ms: end } if end < until_ms => {
                    slot.phase = Phase::Sleeping { until_ms };
                    self.refresh_alarm(order);
                }
                Phase::Running => unreachable!("pauses happen at quiet points"),
                _ => {}
            }
        }
        withheld
    }

    /// `order`'s node is paused: it waits for the pause's end, and then
    /// goes on in `then`.
    pub(super) fn hold(&mut self, order: usize, then: Phase) {
        let slot = &mut self.slots[order];
        slot.held = then;
        slot.phase = Phase::Held {
            until_ms: slot.paused_until_ms,
        };
        self.refresh_alarm(order);
    }

    /// `order`'s pause ended: it runs on what it was handed meanwhile, or
    /// offers its request again.
    pub fn release_held(&mut self, order: usize) {
        let now_ms = self.now_ms;
        let slot = &mut self.slots[order];
        let then = std::mem::replace(&mut slot.held, Phase::Finished);
        if then == Phase::Running {
            self.run_again(order);
            return;
        }
        slot.phase = then;
        // Its request is sent now: a statement latency counts from here.
        slot.parked_ms = now_ms;
        self.refresh_alarm(order);
        self.offered.insert(order);
    }

    /// Whether app node `node` is paused now.
    pub fn is_paused(&self, node: u32) -> bool {
        self.paused_until(node) > self.now_ms
    }

    /// When app node `node`'s last pause ends (0: never paused).
    pub(super) fn paused_until(&self, node: u32) -> u64 {
        self.paused_nodes.get(&node).copied().unwrap_or(0)
    }
}
