//! The lock around the state the scheduler shares with the orders.
//!
//! Everything that takes it runs on the run's madsim thread, one thing at a
//! time, so it is never contended; it is taken several times a step, and
//! std's `Mutex` paid each time for what it does for contended and
//! panicking callers (the poison check on taking and on releasing, the
//! check for sleepers to wake on release): about a twentieth of an 8-order
//! run. A spin lock (the `spin` crate's) is one compare-and-swap to take and
//! one store to release. Should another thread ever hold it (an order's
//! waker sent to a thread of a strategy's own), a taker spins until it is
//! released, so it stays a lock. As with `Mutex`, taking it twice on one
//! thread would never return.

pub(crate) use spin::mutex::{SpinMutex as SpinLock, SpinMutexGuard as SpinGuard};
