//! A lease-lock service beside the store, in virtual time: what a Redis
//! `SET key token NX PX ttl` lock or an etcd lease gives an application.
//!
//! A lease is granted to one holder at a time, for a time-to-live; the
//! holder may renew it before it runs out and release it when done. Unlike
//! a database lock, nothing ends a lease when its holder stalls: once the
//! TTL passes, the next `acquire` gets it, whatever the old holder is
//! doing. Each grant carries a fencing token that increases with every
//! grant, so a store that remembers the highest token it has seen can turn
//! away a holder that lost its lease without knowing it.
//!
//! The service is a plain table (no I/O, no clock of its own): the
//! scheduler calls it when it carries out an order's lease request, with
//! the run's virtual time. It never fails and never waits; an `acquire`
//! that finds the lease taken answers "busy" at once, and the caller
//! decides whether to poll.

use std::collections::BTreeMap;
use std::fmt;

/// What an order asks of the lease service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseCall {
    /// Take lease `key` for `ttl_ms` if nobody holds it (or its lease ran out).
    Acquire { key: u64, ttl_ms: u64 },
    /// Extend the lease granted with `token` to `ttl_ms` from now, if it
    /// is still the holder's.
    Renew { key: u64, token: u64, ttl_ms: u64 },
    /// Give up the lease granted with `token` (no effect if another holds it now).
    Release { key: u64, token: u64 },
}

impl LeaseCall {
    pub fn key(&self) -> u64 {
        match *self {
            LeaseCall::Acquire { key, .. }
            | LeaseCall::Renew { key, .. }
            | LeaseCall::Release { key, .. } => key,
        }
    }
}

/// What the service answered, as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseAnswer {
    /// Acquired: the lease is the caller's until `until_ms`.
    Granted { token: u64, until_ms: u64 },
    /// Acquire refused: the holder of `token` has it until `until_ms`.
    Busy { token: u64, until_ms: u64 },
    /// Renewed until `until_ms`.
    Renewed { until_ms: u64 },
    /// Renew or release refused: the caller's lease ran out (and may have
    /// been granted to another).
    Lost,
    /// Released.
    Released,
}

impl LeaseAnswer {
    /// The answer as the caller reads it: a token for a grant, 1 for a
    /// renewal or release, 0 for a refusal.
    pub fn value(self) -> u64 {
        match self {
            LeaseAnswer::Granted { token, .. } => token,
            LeaseAnswer::Renewed { .. } | LeaseAnswer::Released => 1,
            LeaseAnswer::Busy { .. } | LeaseAnswer::Lost => 0,
        }
    }
}

/// One call and its answer, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseEvent {
    pub call: LeaseCall,
    pub answer: LeaseAnswer,
}

impl fmt::Display for LeaseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.call.key();
        match (self.call, self.answer) {
            (_, LeaseAnswer::Granted { token, until_ms }) => {
                write!(f, "takes lease {key} (token {token}, until {until_ms}ms)")
            }
            (_, LeaseAnswer::Busy { token, until_ms }) => {
                write!(
                    f,
                    "lease {key} is busy (token {token} holds it until {until_ms}ms)"
                )
            }
            (LeaseCall::Renew { token, .. }, LeaseAnswer::Renewed { until_ms }) => {
                write!(f, "renews lease {key} (token {token}) until {until_ms}ms")
            }
            (LeaseCall::Renew { token, .. }, LeaseAnswer::Lost) => {
                write!(f, "cannot renew lease {key}: token {token} ran out")
            }
            (LeaseCall::Release { token, .. }, LeaseAnswer::Released) => {
                write!(f, "releases lease {key} (token {token})")
            }
            (LeaseCall::Release { token, .. }, LeaseAnswer::Lost) => {
                write!(f, "releases lease {key}: token {token} had already run out")
            }
            (call, answer) => write!(f, "lease {key}: {call:?} answered {answer:?}"),
        }
    }
}

/// The leases of one run.
#[derive(Clone, Debug, Default, Hash)]
pub struct LeaseTable {
    /// Granted leases by key: (token, holder's order, end in virtual ms).
    /// Entries whose end passed stay until replaced or released; they no
    /// longer count.
    leases: BTreeMap<u64, Lease>,
    /// The last token granted (tokens start at 1).
    last_token: u64,
}

#[derive(Clone, Copy, Debug, Hash)]
struct Lease {
    token: u64,
    until_ms: u64,
}

impl LeaseTable {
    /// Empty, as at the start of a run.
    pub fn clear(&mut self) {
        self.leases.clear();
        self.last_token = 0;
    }

    /// Carries out `call` at virtual time `now_ms`.
    pub fn call(&mut self, call: LeaseCall, now_ms: u64) -> LeaseAnswer {
        let live = |lease: &Lease| lease.until_ms > now_ms;
        match call {
            LeaseCall::Acquire { key, ttl_ms } => match self.leases.get(&key) {
                Some(lease) if live(lease) => LeaseAnswer::Busy {
                    token: lease.token,
                    until_ms: lease.until_ms,
                },
                _ => {
                    self.last_token += 1;
                    let lease = Lease {
                        token: self.last_token,
                        until_ms: now_ms.saturating_add(ttl_ms),
                    };
                    self.leases.insert(key, lease);
                    LeaseAnswer::Granted {
                        token: lease.token,
                        until_ms: lease.until_ms,
                    }
                }
            },
            LeaseCall::Renew { key, token, ttl_ms } => match self.leases.get_mut(&key) {
                Some(lease) if lease.token == token && live(lease) => {
                    lease.until_ms = now_ms.saturating_add(ttl_ms);
                    LeaseAnswer::Renewed {
                        until_ms: lease.until_ms,
                    }
                }
                _ => LeaseAnswer::Lost,
            },
            LeaseCall::Release { key, token } => match self.leases.get(&key) {
                Some(lease) if lease.token == token && live(lease) => {
                    self.leases.remove(&key);
                    LeaseAnswer::Released
                }
                _ => LeaseAnswer::Lost,
            },
        }
    }

    /// Whether no lease was ever granted (most runs).
    pub fn is_empty(&self) -> bool {
        self.last_token == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: u64 = 7;

    fn acquire(table: &mut LeaseTable, now_ms: u64) -> LeaseAnswer {
        table.call(
            LeaseCall::Acquire {
                key: KEY,
                ttl_ms: 100,
            },
            now_ms,
        )
    }

    #[test]
    fn a_lease_is_one_holders_until_its_ttl_passes() {
        let mut table = LeaseTable::default();
        assert_eq!(
            acquire(&mut table, 0),
            LeaseAnswer::Granted {
                token: 1,
                until_ms: 100
            }
        );
        assert_eq!(
            acquire(&mut table, 99),
            LeaseAnswer::Busy {
                token: 1,
                until_ms: 100
            }
        );
        // Expired: the next caller gets it with a higher token, and the
        // old holder can neither renew nor release it.
        assert_eq!(
            acquire(&mut table, 100),
            LeaseAnswer::Granted {
                token: 2,
                until_ms: 200
            }
        );
        let renew = |token| LeaseCall::Renew {
            key: KEY,
            token,
            ttl_ms: 100,
        };
        assert_eq!(table.call(renew(1), 150), LeaseAnswer::Lost);
        let release = |token| LeaseCall::Release { key: KEY, token };
        assert_eq!(table.call(release(1), 150), LeaseAnswer::Lost);
        assert_eq!(
            acquire(&mut table, 150),
            LeaseAnswer::Busy {
                token: 2,
                until_ms: 200
            }
        );
        assert_eq!(
            table.call(renew(2), 150),
            LeaseAnswer::Renewed { until_ms: 250 }
        );
        assert_eq!(
            acquire(&mut table, 200),
            LeaseAnswer::Busy {
                token: 2,
                until_ms: 250
            }
        );
        assert_eq!(table.call(release(2), 200), LeaseAnswer::Released);
        assert_eq!(
            acquire(&mut table, 200),
            LeaseAnswer::Granted {
                token: 3,
                until_ms: 300
            }
        );
    }

    #[test]
    fn keys_are_independent_and_tokens_count_every_grant() {
        let mut table = LeaseTable::default();
        assert!(table.is_empty());
        let other = table.call(LeaseCall::Acquire { key: 1, ttl_ms: 10 }, 0);
        assert_eq!(
            other,
            LeaseAnswer::Granted {
                token: 1,
                until_ms: 10
            }
        );
        assert_eq!(
            acquire(&mut table, 0),
            LeaseAnswer::Granted {
                token: 2,
                until_ms: 100
            }
        );
        table.clear();
        assert!(table.is_empty());
        assert_eq!(acquire(&mut table, 0).value(), 1);
    }
}
