//! The visited-state cache: a choice point whose state the search has
//! already explored from, under conditions at least as permissive, is not
//! explored again.
//!
//! # The key
//!
//! The search is stateless (each run replays from the start), and the
//! strategies are async Rust whose internal state cannot be hashed. But an
//! order is a deterministic function of what it observed: its code decides
//! what to send next only from the replies, wake-ups and granted locks it
//! got. So an order's local state is determined by its history of
//! observations, and the scheduler keeps a running 128-bit hash of it per
//! order (each reply or error, each wake from a sleep, each granted
//! in-process lock, with the virtual time it came at), updated only in
//! runs whose chooser asked for keys ([`crate::Chooser::wants_state_keys`]).
//! The key of a choice point hashes, at that quiet point:
//!
//! - the backend's state ([`crate::Backend::state_key`]): for the model
//!   store, every field (row versions with their commit sequence numbers,
//!   tuple-lock holders and pending versions, reservations, advisory
//!   locks, each session's transaction and parked statement, the SSI
//!   records), with waiters' queue positions as ranks (only their relative
//!   order matters, and later waits queue behind them). A real database
//!   cannot give its state: then there is no key and the cache prunes
//!   nothing.
//! - the scheduler's: virtual now; each order's phase (its pending
//!   request, sleep deadline, lock wait), history hash, any undelivered
//!   reply, outcome, lock-wait timers (their tie-break sequence as a rank
//!   among the waiters, for the same reason), and with a statement latency
//!   the time it parked; the in-process locks with their queues.
//! - the steps taken so far, because the step budget counts them.
//! - the invariant monitor's state: units sold per level and the orders
//!   that committed and have not reported yet. Those are in fact functions
//!   of the histories and the store, but hashing them costs nothing and
//!   needs no argument. The monitor's first violation is left out on
//!   purpose: a run that already broke an invariant is still finished
//!   (pruning cuts a run short, it does not drop it), so that violation is
//!   reported from the run that found it.
//! - in the search itself ([`super::dfs`]), with symmetry on: the set of
//!   actors that have moved, since which orders count as started decides
//!   which identical orders may start.
//!
//! Left out because nothing ahead depends on them: the trace, the schedule
//! and the count of lock waits begun (they only number and record what
//! happened), the arrival offsets (each unstarted order's sleep deadline
//! is in its phase), and everything fixed for the scenario.
//!
//! Keys are 128-bit SipHash-1-3 hashes ([`crate::chooser::KeyHasher`]), not
//! exact states: with n states cached the chance of any collision is about
//! n² / 2¹²⁹, below 10⁻²⁵ for a billion states, against an exact key's
//! cost of a copy of every state (the store's history grows with each
//! commit). A collision could only prune a state wrongly; it cannot make
//! the search report an outcome that does not happen.
//!
//! # When a revisit may be pruned
//!
//! The subtree the search explores below a choice point depends only on
//! the state there (the key) and on the search's own bookkeeping on
//! arrival: the sleep set, and with a preemption bound the preemptions used
//! and the actor that moved last (which options are preemptions). With the
//! bound bookkeeping equal, the subtree is monotone in the sleep set: at a
//! node reached with a larger sleep set Z ⊇ W, every option it takes is
//! also taken with W, and the sleep set it hands down is at least as large
//! (an option explored before it with W but not with Z is asleep in Z,
//! since symmetry and the bound leave out the same options in both), and
//! forced steps only remove what they depend on from either. So every run
//! the search makes below a visit with sleep set Z, except runs it cuts
//! short because everything there sleeps, it also makes below an earlier
//! visit of the same state with a sleep set W ⊆ Z. That is the classic
//! condition for state caching with sleep sets (Godefroid, *Partial-Order
//! Methods for the Verification of Concurrent Systems*, 1996: prune a
//! revisit when the stored sleep set is a subset of the current one); each
//! visit that was not pruned is kept as its own entry (dropping those it
//! covers) rather than merged. With a preemption bound, a revisit is pruned
//! only with the same preemptions used and the same last actor: with fewer
//! used, the bound would cut less below, but an option it cut here would
//! then not be asleep below, and the simple inclusion above would fail.
//!
//! When the search meets a key, every earlier visit of it has been explored
//! to the end: depth-first, the only unfinished visits are on the current
//! path, and none of those has the same key, since the steps taken are in
//! it and grow along a path. By induction on the order in which visits
//! finish, a pruned visit loses no terminal outcome and no violation.
//!
//! A pruned run is finished the quickest way, as a run whose options all
//! sleep is (the lowest option at each later choice point, adding nothing
//! to the search), and counts in `pruned` and in `cache_hits`. What it
//! reaches is a real run's outcome, so it cannot invent one.

use crate::chooser::{Actor, Choice, StateKey};
use std::collections::HashMap;

/// A visit the search explored from: its sleep set, preemptions used and
/// last actor on arrival.
struct Visit {
    sleep: Vec<Choice>,
    preemptions: u32,
    last: Option<Actor>,
}

/// Visited states and the visits explored from each.
#[derive(Default)]
pub struct Visited {
    visits: HashMap<StateKey, Vec<Visit>>,
    /// Revisits pruned.
    pub hits: u64,
}

impl Visited {
    /// Whether a visit already explored from `key` covers this one (then
    /// it is pruned); otherwise records this one. `bounded`: a preemption
    /// bound is on, so `preemptions` and `last` matter.
    pub fn covered(
        &mut self,
        key: StateKey,
        sleep: &[Choice],
        preemptions: u32,
        last: Option<Actor>,
        bounded: bool,
    ) -> bool {
        let visits = self.visits.entry(key).or_default();
        let covers = |earlier: &Visit, later: &Visit| {
            earlier.sleep.iter().all(|s| later.sleep.contains(s))
                && (!bounded
                    || (earlier.preemptions == later.preemptions && earlier.last == later.last))
        };
        let visit = Visit {
            sleep: sleep.to_vec(),
            preemptions,
            last,
        };
        if visits.iter().any(|earlier| covers(earlier, &visit)) {
            self.hits += 1;
            return true;
        }
        // This visit covers any it is at least as permissive as.
        visits.retain(|earlier| !covers(&visit, earlier));
        visits.push(visit);
        false
    }

    /// Distinct states recorded.
    pub fn states(&self) -> usize {
        self.visits.len()
    }
}
