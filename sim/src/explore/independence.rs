//! When two pending steps of different orders commute: taking them in
//! either order leads to the same state, so an exhaustive search needs only
//! one of the two orders. A step is the chosen statement plus the
//! application code that runs until the next quiet point, including the
//! waiters it wakes. Anything not shown independent here is treated as
//! dependent; the soundness tests compare every reduced search with the
//! unreduced one.

use crate::chooser::{Action, Actor, Choice};
use crate::scenario::Scenario;
use stockrace_model::{Isolation, Lock, Statement};

/// The object a statement reads or writes: a row (with its reservations),
/// an advisory lock key, or an order's `sale` row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Object {
    Row(u32),
    Advisory(u32),
    Sale(u32),
}

fn object(statement: &Statement) -> Option<Object> {
    match statement {
        Statement::AdvisoryLock { key } => Some(Object::Advisory(*key)),
        Statement::InsertSale { order } => Some(Object::Sale(*order)),
        other => other.level().map(|l| Object::Row(l.0)),
    }
}

/// A read that takes no lock and sees only committed versions.
fn plain_read(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Select {
            lock: Lock::None,
            ..
        } | Statement::Available { .. }
    )
}

/// What of the scenario decides which statements may abort their transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortRules {
    /// `CHECK (stocked_quantity >= 0)`: an UPDATE may fail.
    pub check_nonnegative: bool,
    /// The database finds a deadlock inside the statement that closes it
    /// (InnoDB) rather than on a later timer (PostgreSQL's deadlock_timeout,
    /// a clock step): any statement that takes a lock may abort a
    /// transaction, its own or another's.
    pub deadlocks_at_once: bool,
}

impl AbortRules {
    pub fn of(scenario: &Scenario) -> AbortRules {
        AbortRules {
            check_nonnegative: scenario.check_nonnegative,
            deadlocks_at_once: scenario.database.finds_deadlocks_at_once(),
        }
    }
}

/// Whether the statement can fail in a way that aborts its transaction (and
/// so releases every lock it holds, waking waiters on other rows).
fn may_abort(statement: &Statement, isolation: Isolation, rules: AbortRules) -> bool {
    match statement {
        Statement::Select {
            lock: Lock::ForUpdateNowait,
            ..
        } => true,
        Statement::Select {
            lock: Lock::ForUpdate,
            ..
        }
        | Statement::Update(_)
        | Statement::InsertReservation { .. } => {
            rules.deadlocks_at_once
                || isolation != Isolation::ReadCommitted
                || (rules.check_nonnegative && matches!(statement, Statement::Update(_)))
        }
        Statement::AdvisoryLock { .. } => rules.deadlocks_at_once,
        // A key already taken (23505 aborts the transaction).
        Statement::InsertSale { .. } => true,
        _ => false,
    }
}

/// Whether taking `a` then `b` leads where taking `b` then `a` does.
pub fn independent(a: &Choice, b: &Choice, rules: AbortRules) -> bool {
    let (Actor::Order(i), Actor::Order(j)) = (a.actor, b.actor) else {
        return false; // letting time pass fires timers: dependent with all
    };
    if i == j {
        return false;
    }
    match (&a.action, &b.action) {
        (Action::ProcessLock { key: k1, node: n1 }, Action::ProcessLock { key: k2, node: n2 }) => {
            (k1, n1) != (k2, n2)
        }
        (Action::ProcessLock { .. }, Action::Statement { .. })
        | (Action::Statement { .. }, Action::ProcessLock { .. }) => true,
        // The lease service is apart from the database and the app nodes:
        // only calls on one lease meet (an acquire and a release of it, in
        // either order, answer differently).
        (Action::Lease { call: c1 }, Action::Lease { call: c2 }) => c1.key() != c2.key(),
        (Action::Lease { .. }, Action::Statement { .. } | Action::ProcessLock { .. })
        | (Action::Statement { .. } | Action::ProcessLock { .. }, Action::Lease { .. }) => true,
        (
            Action::Statement {
                statement: s,
                isolation: x,
                in_transaction: tx,
            },
            Action::Statement {
                statement: t,
                isolation: y,
                in_transaction: ty,
            },
        ) => statements_independent((s, *x, *tx), (t, *y, *ty), rules),
        _ => false,
    }
}

fn statements_independent(
    (s, x, tx): (&Statement, Isolation, bool),
    (t, y, ty): (&Statement, Isolation, bool),
    rules: AbortRules,
) -> bool {
    // The snapshot is taken at the first statement, not at BEGIN.
    if matches!(s, Statement::Begin(_)) || matches!(t, Statement::Begin(_)) {
        return true;
    }
    // Ends of transactions wake waiters and change what later snapshots see.
    let ends = |st: &Statement| matches!(st, Statement::Commit | Statement::Rollback);
    if ends(s) || ends(t) {
        return false;
    }
    // First version: at SERIALIZABLE any read may make a pivot.
    if x == Isolation::Serializable || y == Isolation::Serializable {
        return false;
    }
    // An autocommit write commits at once.
    let autocommit_write = |st: &Statement, in_tx: bool| !in_tx && !plain_read(st);
    if autocommit_write(s, tx) || autocommit_write(t, ty) {
        return false;
    }
    if plain_read(s) && plain_read(t) {
        return true;
    }
    // A plain read sees committed versions only: another transaction's
    // uncommitted write (or its abort) does not change what it returns.
    if plain_read(s) || plain_read(t) {
        return true;
    }
    object(s) != object(t) && !may_abort(s, x, rules) && !may_abort(t, y, rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockrace_model::{LevelId, Update};

    const PG: AbortRules = AbortRules {
        check_nonnegative: false,
        deadlocks_at_once: false,
    };
    const INNODB: AbortRules = AbortRules {
        check_nonnegative: false,
        deadlocks_at_once: true,
    };

    fn step(order: u32, statement: Statement, isolation: Isolation) -> Choice {
        Choice {
            actor: Actor::Order(order),
            action: Action::Statement {
                statement,
                isolation,
                in_transaction: true,
            },
        }
    }

    #[test]
    fn the_relation_of_the_design() {
        let rc = Isolation::ReadCommitted;
        let select = |l| Statement::Select {
            level: LevelId(l),
            lock: Lock::None,
        };
        let update = |l| Statement::Update(Update::new(LevelId(l)));
        // BEGIN commutes with anything.
        assert!(independent(
            &step(0, Statement::Begin(rc), rc),
            &step(1, Statement::Commit, rc),
            PG
        ));
        // COMMIT with nothing else.
        assert!(!independent(
            &step(0, Statement::Commit, rc),
            &step(1, select(0), rc),
            PG
        ));
        // Reads of one row commute; writes of one row do not.
        assert!(independent(
            &step(0, select(0), rc),
            &step(1, select(0), rc),
            PG
        ));
        assert!(!independent(
            &step(0, update(0), rc),
            &step(1, update(0), rc),
            PG
        ));
        // Writes of different rows commute at READ COMMITTED, not at REPEATABLE READ.
        assert!(independent(
            &step(0, update(0), rc),
            &step(1, update(1), rc),
            PG
        ));
        // Not on InnoDB: either may close a deadlock and abort a
        // transaction inside the statement, waking the other's waiters.
        assert!(!independent(
            &step(0, update(0), rc),
            &step(1, update(1), rc),
            INNODB
        ));
        // Plain reads take no lock there either.
        assert!(independent(
            &step(0, select(0), rc),
            &step(1, update(1), rc),
            INNODB
        ));
        let rr = Isolation::RepeatableRead;
        assert!(!independent(
            &step(0, update(0), rr),
            &step(1, update(1), rr),
            PG
        ));
        // SERIALIZABLE: nothing but BEGIN commutes.
        let sz = Isolation::Serializable;
        assert!(!independent(
            &step(0, select(0), sz),
            &step(1, select(1), sz),
            PG
        ));
        // Time passing is dependent with everything.
        let clock = Choice {
            actor: Actor::Clock,
            action: Action::PassTime { to_ms: 5 },
        };
        assert!(!independent(&clock, &step(1, Statement::Begin(rc), rc), PG));
        // An autocommit write is seen by a later read.
        let autocommit = Choice {
            actor: Actor::Order(0),
            action: Action::Statement {
                statement: update(0),
                isolation: rc,
                in_transaction: false,
            },
        };
        assert!(!independent(&autocommit, &step(1, select(0), rc), PG));
    }
}
