//! The state key of a choice point, for a chooser that asks (`check`'s
//! visited-state cache; see `explore::cache` for why these parts suffice).

use super::shared::Shared;
use super::Recorder;
use crate::backend::Backend;
use crate::chooser::{KeyHasher, StateKey};
use std::hash::Hash;

impl<B: Backend> Recorder<'_, '_, B> {
    /// Everything the rest of the run depends on at this quiet point: the
    /// backend's state (`None` if it cannot tell, and then there is no
    /// key), the scheduler's (virtual time, each order's phase, history and
    /// timers, the in-process locks), the steps taken (the step budget),
    /// and what the invariant checks still to come depend on. Not the
    /// trace, the schedule or the count of waits begun: they only number
    /// and record what happened.
    pub(super) fn state_key(&self, state: &Shared, steps: u32, latency: bool) -> Option<StateKey> {
        let store = self.store.state_key()?;
        let mut hasher = KeyHasher::default();
        store.hash(&mut hasher);
        steps.hash(&mut hasher);
        state.hash_state(&mut hasher, latency);
        self.monitor.hash_state(&mut hasher);
        Some(hasher.key())
    }
}
