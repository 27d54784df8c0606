//! The store's state as a search's visited-state cache sees it.

use super::{Parked, SessionState, Store};
use std::hash::{Hash, Hasher};

impl Store {
    /// Feeds everything the store's future behaviour depends on to `state`,
    /// for a search's visited-state cache: two stores that hash alike (up to
    /// hash collisions) answer every future statement alike. Exact, except
    /// that waiters' queue positions are hashed as their rank among the
    /// waiters: only their relative order matters, and every later wait
    /// queues behind them.
    pub fn hash_state<H: Hasher>(&self, state: &mut H) {
        // Destructured so that a new field cannot be forgotten here.
        let Store {
            config,
            rows,
            reservations,
            sales,
            advisory,
            sessions,
            commit_seq,
            wait_seq,
            open_transactions,
            released,
            ssi,
            spare_held: _,
            granted: _,
            cycle_scratch: _,
        } = self;
        config.hash(state);
        rows.hash(state);
        reservations.hash(state);
        sales.hash(state);
        advisory.hash(state);
        commit_seq.hash(state);
        wait_seq.hash(state);
        open_transactions.hash(state);
        released.hash(state);
        ssi.hash(state);
        for SessionState { txn, parked } in sessions {
            txn.hash(state);
            match parked {
                None => state.write_u8(0),
                Some(Parked {
                    statement,
                    on,
                    kind,
                    since,
                }) => {
                    state.write_u8(1);
                    statement.hash(state);
                    on.hash(state);
                    kind.hash(state);
                    let rank = sessions
                        .iter()
                        .filter_map(|s| s.parked.as_ref())
                        .filter(|p| p.since < *since)
                        .count();
                    rank.hash(state);
                }
            }
        }
    }
}
