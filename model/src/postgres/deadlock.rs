//! PostgreSQL's deadlock detector (src/backend/storage/lmgr/deadlock.c and
//! the README in that folder), as far as the model's locks can exercise it.
//!
//! The check runs in the waiter whose deadlock_timeout fired (the
//! "checker"). It builds the waits-for graph of the lock manager:
//!
//! - a *hard* edge from a waiter to every process holding a lock that
//!   conflicts with its request: here the row's locker for a waiter on its
//!   transaction id, the tuple lock's holder for a waiter queued on a tuple
//!   lock, the advisory lock's holder for a waiter on an advisory lock;
//! - a *soft* edge from a waiter to every process ahead of it in the same
//!   lock's wait queue whose request conflicts with its own: waiters queued
//!   on one tuple lock, or on one advisory lock. (Waiters on a transaction
//!   id ask for ShareLock, which does not conflict with another ShareLock: no
//!   soft edges between them.)
//!
//! `FindLockCycle` looks for a cycle through the checker. A cycle of hard
//! edges only is a deadlock. A cycle with soft edges makes
//! `DeadLockCheckRecurse` try to reorder wait queues (each soft edge on the
//! cycle reversed in turn, `TestConfiguration` checking the checker and every
//! process named in a constraint for a cycle); if some order leaves none of
//! them in a cycle, the queues are rearranged and nobody fails. Otherwise the
//! checker gets 40P01, whether or not its cycle had soft edges.
//!
//! Why the model does not rearrange queues: every lock the model's
//! statements take is exclusive against every other request for it (tuple
//! locks for FOR UPDATE and FOR NO KEY UPDATE, taken by SELECT ... FOR
//! UPDATE [NOWAIT] and UPDATE; transaction ids, whose waiters only meet the
//! owner's ExclusiveLock; `pg_advisory_xact_lock`), and a lock with waiters
//! always has a holder (the lock manager grants the first waiter as the
//! holder leaves). So every waiter has a hard edge to the holder of the lock
//! it waits for, and that hard edge is the only way out of the queue: a run
//! of soft edges W -> V -> ... inside one queue always continues to the
//! holder. Replacing each such run by the first waiter's own hard edge turns
//! any cycle into a closed walk of hard edges that still passes through the
//! first waiter of every run, and hard edges do not depend on queue order.
//! A rearrangement that removes the checker's cycle must move one of those
//! waiters ahead (making it a constraint's waiter, which `TestConfiguration`
//! checks), and that waiter is on a hard cycle in every order: no order
//! passes, and `DeadLockCheckRecurse` reports a deadlock. The decision is
//! therefore exactly "is the checker on a cycle of hard and soft edges".
//! A soft edge still matters on its own: a checker whose only way back to
//! itself is through a waiter queued behind it (its cycle closes with a soft
//! edge) is not on a hard cycle, yet PostgreSQL aborts it.

use super::SessionId;

/// The work lists of a cycle search, kept by the store between checks: a
/// check runs whenever a waiter's deadlock_timeout fires, and allocating
/// them each time was a share of a run.
#[derive(Clone, Debug, Default)]
pub(super) struct Scratch {
    visited: Vec<bool>,
    stack: Vec<SessionId>,
    edges: Vec<SessionId>,
}

/// `FindLockCycle`: whether `start` lies on a cycle of the waits-for graph,
/// `edges(s, out)` pushing waiter `s`'s hard edge and then its soft edges
/// onto `out` (and returning false if `s` does not wait). Like PostgreSQL,
/// a process visited once is not explored again, and meeting a visited
/// process other than `start` ends that path.
pub(super) fn find_lock_cycle(
    start: SessionId,
    sessions: usize,
    scratch: &mut Scratch,
    edges: impl Fn(SessionId, &mut Vec<SessionId>) -> bool,
) -> bool {
    let Scratch {
        visited,
        stack,
        edges: next_ones,
    } = scratch;
    visited.clear();
    visited.resize(sessions, false);
    stack.clear();
    stack.push(start);
    visited[start.index()] = true;
    while let Some(s) = stack.pop() {
        next_ones.clear();
        if !edges(s, next_ones) {
            continue;
        }
        for &next in next_ones.iter() {
            if next == start {
                return true;
            }
            if !visited[next.index()] {
                visited[next.index()] = true;
                stack.push(next);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(
        edges: &'a [(u32, u32, &'a [u32])],
    ) -> impl Fn(SessionId, &mut Vec<SessionId>) -> bool + 'a {
        move |s, out| match edges.iter().find(|(w, _, _)| *w == s.0) {
            Some((_, hard, soft)) => {
                out.push(SessionId(*hard));
                out.extend(soft.iter().map(|s| SessionId(*s)));
                true
            }
            None => false,
        }
    }

    fn find_lock_cycle(
        start: SessionId,
        sessions: usize,
        edges: &impl Fn(SessionId, &mut Vec<SessionId>) -> bool,
    ) -> bool {
        super::find_lock_cycle(start, sessions, &mut Scratch::default(), edges)
    }

    #[test]
    fn a_hard_cycle_through_the_checker_is_found() {
        // Seed 8's shape: T1 -> T3 (xid), T2 -> T1 (tuple lock), T3 -> T2 (xid).
        let g = graph(&[(0, 2, &[]), (1, 0, &[]), (2, 1, &[])]);
        for s in 0..3 {
            assert!(find_lock_cycle(SessionId(s), 3, &g));
        }
    }

    #[test]
    fn a_cycle_not_through_the_checker_is_not_its_deadlock() {
        // T1 waits for T2, which is in a cycle with T3.
        let g = graph(&[(0, 1, &[]), (1, 2, &[]), (2, 1, &[])]);
        assert!(!find_lock_cycle(SessionId(0), 3, &g));
        assert!(find_lock_cycle(SessionId(1), 3, &g));
    }

    #[test]
    fn a_cycle_closed_by_a_soft_edge_aborts_the_checker() {
        // T1 and T3 queue on a tuple lock T2 holds (T3 behind T1: soft edge
        // T3 -> T1); T2 waits for T3. T1 is on no hard cycle, but on one
        // through the soft edge: PostgreSQL aborts it if its check runs.
        let g = graph(&[(0, 1, &[]), (2, 1, &[0]), (1, 2, &[])]);
        assert!(find_lock_cycle(SessionId(0), 3, &g));
        // Without the queue edge T1 would just wait.
        let g = graph(&[(0, 1, &[]), (2, 1, &[]), (1, 2, &[])]);
        assert!(!find_lock_cycle(SessionId(0), 3, &g));
    }
}
