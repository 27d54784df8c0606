//! Choosers: who picks the next step when more than one is possible.
//!
//! At a quiet point the scheduler lists its options, each naming its actor
//! (an order, or the clock) and what it would do; a chooser picks one. The
//! scheduler asks only when there is a real choice (two or more options),
//! and records the answer as an index into the list; that list of answers is
//! the run's schedule. The options are always listed in the same order (by
//! order id, then "let time pass"), so a schedule means the same thing on
//! every run. Every step taken, chosen or forced, is shown to
//! [`Chooser::observe`], for explorers that reason about what ran. A
//! chooser that only counts the options (seeded random choices, a replay)
//! says so with [`Chooser::reads_options`]: it is asked through
//! [`Chooser::choose_index`], shown nothing, and the scheduler does not
//! describe the options for it. An explorer that caches visited states
//! says so with [`Chooser::wants_state_keys`] and is then asked through
//! [`Chooser::choose_keyed`], which can hand it the choice point's
//! [`StateKey`]; no other chooser pays anything for keys.

mod pct;
mod random;
mod replay;

pub use pct::PctChooser;
pub use random::RandomChooser;
pub use replay::ReplayChooser;

use crate::lease::LeaseCall;
use std::hash::{Hash, Hasher};
use stockrace_model::{Isolation, Statement};

/// A 128-bit hash of everything a run's future depends on at a choice point
/// (see `explore::cache` for what goes in and why it is sound).
pub type StateKey = u128;

/// The hasher of state keys: SipHash-1-3 with a 128-bit output and fixed
/// keys, so a state hashes alike in every run (and every process).
#[derive(Clone, Debug, Default)]
pub struct KeyHasher(siphasher::sip128::SipHasher13);

impl KeyHasher {
    pub fn key(&self) -> StateKey {
        use siphasher::sip128::Hasher128;
        self.0.finish128().as_u128()
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// The key of one hashable value.
pub fn key_of<T: Hash + ?Sized>(value: &T) -> StateKey {
    let mut hasher = KeyHasher::default();
    value.hash(&mut hasher);
    hasher.key()
}

/// Who an option moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// An order (0-based: T1 is `Order(0)`).
    Order(u32),
    /// Virtual time, passing to the next timer.
    Clock,
    /// A fault (an app node's crash or pause, a lost reply): dependent with
    /// every step.
    Fault,
}

/// What an option would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the order's pending statement, in a transaction at `isolation`
    /// (or on its own, autocommit, when `in_transaction` is false).
    Statement {
        statement: Statement,
        isolation: Isolation,
        in_transaction: bool,
    },
    /// Take an in-process lock on the order's app node.
    ProcessLock { key: u64, node: u32 },
    /// Call the lease-lock service (acquire, renew or release a lease).
    Lease { call: LeaseCall },
    /// Let virtual time pass to the next timer.
    PassTime { to_ms: u64 },
    /// Release a statement an application process sent (app runs; its text,
    /// normalised).
    Sql(String),
    /// Start the order at this virtual time (an offset within the arrival
    /// window, chosen before anything runs). Dependent with everything.
    Arrive { at_ms: u64 },
    /// Crash app node `node`.
    Crash { node: u32 },
    /// Run order `order`'s pending statement and lose its reply.
    LoseReply { order: u32 },
    /// Pause app node `node` (its orders stop; time elsewhere runs on).
    Pause { node: u32 },
}

/// One option at a quiet point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub actor: Actor,
    pub action: Action,
}

pub trait Chooser {
    /// Picks one of `options` (at least 2) possible next steps.
    fn choose(&mut self, options: &[Choice]) -> usize;

    /// A step was taken (chosen, or the only option).
    fn observe(&mut self, _taken: &Choice) {}

    /// Whether this chooser reads the options it is offered (in
    /// [`Chooser::choose`] and [`Chooser::observe`]), or only counts them
    /// (asked once, before the run starts). One that only counts (seeded
    /// random choices, a replayed schedule) is asked through
    /// [`Chooser::choose_index`] instead, and the scheduler does not
    /// describe each option for it: that was a tenth of a sweep's run.
    fn reads_options(&self) -> bool {
        true
    }

    /// Picks one of `count` (at least 2) options by index, for a chooser
    /// whose [`Chooser::reads_options`] is false; the same pick
    /// [`Chooser::choose`] makes from `count` options.
    fn choose_index(&mut self, count: usize) -> usize {
        let _ = count;
        unreachable!("a chooser that reads its options is asked through `choose`")
    }

    /// [`Chooser::choose_index`] where the last `faults` of the `count`
    /// options are faults (see `runtime::faults`), for a chooser that
    /// weighs them apart; by default, no differently.
    fn choose_index_with_faults(&mut self, count: usize, faults: usize) -> usize {
        let _ = faults;
        self.choose_index(count)
    }

    /// Whether this chooser wants state keys in this run (asked once,
    /// before the run starts). When it does, the scheduler keeps what a key
    /// needs (a running hash of what each order observed) and asks through
    /// [`Chooser::choose_keyed`] instead of [`Chooser::choose`].
    fn wants_state_keys(&self) -> bool {
        false
    }

    /// [`Chooser::choose`] with the choice point's state key at hand:
    /// `key()` computes it, and gives `None` when the backend cannot tell
    /// its state (a real database). Only called if
    /// [`Chooser::wants_state_keys`] said so.
    fn choose_keyed(
        &mut self,
        options: &[Choice],
        _key: &mut dyn FnMut() -> Option<StateKey>,
    ) -> usize {
        self.choose(options)
    }

    /// Why the run did not follow the chooser's plan exactly, if it did not
    /// (a replayed schedule that no longer fits the code).
    fn divergence(&self) -> Option<String> {
        None
    }
}

/// How a seed becomes a run's chooser: uniform random choices, or PCT of a
/// depth with `k` fixed for the scenario (see [`PctChooser`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeedChooser {
    #[default]
    Random,
    Pct {
        depth: u32,
        k: usize,
    },
}

impl SeedChooser {
    /// The chooser for `seed`.
    pub fn for_seed(self, seed: u64) -> Seeded {
        match self {
            SeedChooser::Random => Seeded::Random(RandomChooser::new(seed)),
            SeedChooser::Pct { depth, k } => Seeded::Pct(PctChooser::new(seed, depth, k)),
        }
    }

    /// Flags that select it on the command line (none for random).
    pub fn flags(self) -> String {
        match self {
            SeedChooser::Random => String::new(),
            SeedChooser::Pct { depth, .. } => format!(" --chooser pct --depth {depth}"),
        }
    }
}

/// A seeded chooser of either kind.
pub enum Seeded {
    Random(RandomChooser),
    Pct(PctChooser),
}

impl Chooser for Seeded {
    fn choose(&mut self, options: &[Choice]) -> usize {
        match self {
            Seeded::Random(c) => c.choose(options),
            Seeded::Pct(c) => c.choose(options),
        }
    }

    fn reads_options(&self) -> bool {
        match self {
            Seeded::Random(c) => c.reads_options(),
            Seeded::Pct(c) => c.reads_options(),
        }
    }

    fn choose_index(&mut self, count: usize) -> usize {
        match self {
            Seeded::Random(c) => c.choose_index(count),
            Seeded::Pct(c) => c.choose_index(count),
        }
    }

    fn choose_index_with_faults(&mut self, count: usize, faults: usize) -> usize {
        match self {
            Seeded::Random(c) => c.choose_index_with_faults(count, faults),
            Seeded::Pct(c) => c.choose_index_with_faults(count, faults),
        }
    }
}
