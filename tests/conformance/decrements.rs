//! Patterns d-f of the PostgreSQL 15 reference beyond what its transcripts
//! record (those tests/conformance_postgres_transcripts.rs replays): d with
//! the CHECK constraint, e with three buyers, a holder that rolls back, and
//! f's deadlock check, whose events the scripts see as one step.

use super::*;

// ---- d) relative decrement with CHECK (stocked_quantity >= 0) ---------------

/// The reference's d) note, beyond its transcripts: with the CHECK, the
/// waiter's decrement below zero fails with 23514 once T1 commits.
pub fn d_relative_decrement_read_committed_with_check_constraint(new: NewBackend) {
    for (s, q) in PAIRS {
        check(
            new,
            &label("d CHECK", RC, s, q),
            StoreConfig {
                check_nonnegative: true,
            },
            s,
            &[
                (1, begin(RC), &["T1 BEGIN"]),
                (2, begin(RC), &["T2 BEGIN"]),
                (1, decrement(q), &["T1 UPDATE 1"]),
                (2, decrement(q), &["T2 waits"]),
                (1, COMMIT, &["T1 COMMIT", "T2 ERROR 23514 (resumed)"]),
                (2, COMMIT, &["T2 ROLLBACK"]),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

// ---- e) guarded decrement ----------------------------------------------------

/// The table's e) note: three buyers, stock 5, q 2 -> 3, 1, then UPDATE 0.
/// The third waits behind the second in queue order.
pub fn e_guarded_decrement_three_buyers_read_committed(new: NewBackend) {
    check(
        new,
        "e three buyers",
        StoreConfig::default(),
        5,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (3, begin(RC), &["T3 BEGIN"]),
            (1, guarded(2), &["T1 UPDATE 1"]),
            (2, guarded(2), &["T2 waits"]),
            (3, guarded(2), &["T3 waits"]),
            (1, COMMIT, &["T1 COMMIT", "T2 UPDATE 1 (resumed)"]),
            (2, COMMIT, &["T2 COMMIT", "T3 UPDATE 0 (resumed)"]),
            (3, COMMIT, &["T3 COMMIT"]),
        ],
        [row(1, 0), row(5, 0)],
    );
}

/// A waiter whose lock holder rolls back goes on with the original row.
pub fn waiter_proceeds_on_original_row_when_holder_aborts(new: NewBackend) {
    for iso in [RC, RR, SER] {
        check(
            new,
            &label("abort", iso, 1, 1),
            StoreConfig::default(),
            1,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, guarded(1), &["T1 UPDATE 1"]),
                (2, guarded(1), &["T2 waits"]),
                (
                    1,
                    Statement::Rollback,
                    &["T1 ROLLBACK", "T2 UPDATE 1 (resumed)"],
                ),
                (2, COMMIT, &["T2 COMMIT"]),
            ],
            [row(0, 0), row(1, 0)],
        );
    }
}

/// A plain SELECT never waits, and at READ COMMITTED sees only committed data.
pub fn plain_select_never_blocks_and_sees_committed_data(new: NewBackend) {
    check(
        new,
        "plain select",
        StoreConfig::default(),
        5,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (1, decrement(3), &["T1 UPDATE 1"]),
            (2, select(), &["T2 SELECT 1 (5,0,0)"]),
            (1, select(), &["T1 SELECT 1 (2,0,0)"]),
            (1, COMMIT, &["T1 COMMIT"]),
            (2, select(), &["T2 SELECT 1 (2,0,0)"]),
        ],
        [row(2, 0), row(5, 0)],
    );
}

// ---- f) two items updated in opposite order: deadlock ----------------------
//
// The store decides the victim when the scheduler tells it a waiter's
// deadlock_timeout ran out (`deadlock_check`); which waiter's runs out first
// is a matter of virtual time, tested in the simulator (tests/deadlocks.rs).
// The transcripts replay f as well, but their harness reported T2's return
// a step after T1's 40P01; this script checks that both come from the one
// deadlock check.

pub fn pattern_f(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let label = label("f", iso, s, q);
        let mut store = new(&[row(s, 0), row(s, 0)], 2, StoreConfig::default());
        let mut out = Vec::new();
        let mut step =
            |store: &mut Box<dyn Backend>, t: u32, statement: Statement| -> Vec<String> {
                out.clear();
                store.execute(SessionId(t - 1), statement, &mut out);
                describe(&out)
            };
        assert_eq!(step(&mut store, 1, begin(iso)), ["T1 BEGIN"], "{label}");
        assert_eq!(step(&mut store, 2, begin(iso)), ["T2 BEGIN"], "{label}");
        assert_eq!(
            step(&mut store, 1, decrement_level(ID1, q)),
            ["T1 UPDATE 1"],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 2, decrement_level(ID2, q)),
            ["T2 UPDATE 1"],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 1, decrement_level(ID2, q)),
            ["T1 waits"],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 2, decrement_level(ID1, q)),
            ["T2 waits"],
            "{label}"
        );
        // T1's deadline runs out first: it is the victim, and its abort
        // releases id 1 at once, so T2 goes on before T1 ends its transaction.
        let mut events = Vec::new();
        store.deadlock_check(SessionId(0), &mut events);
        assert_eq!(
            describe(&events),
            ["T1 ERROR 40P01 (resumed)", "T2 UPDATE 1 (resumed)"],
            "{label}"
        );
        assert_eq!(step(&mut store, 1, select()), ["T1 ERROR 25P02"], "{label}");
        assert_eq!(step(&mut store, 1, COMMIT), ["T1 ROLLBACK"], "{label}");
        assert_eq!(step(&mut store, 2, COMMIT), ["T2 COMMIT"], "{label}");
        // Only the survivor's changes remain.
        assert_eq!(
            store.committed_rows(),
            vec![row(s - q, 0), row(s - q, 0)],
            "{label}"
        );
    }
}

pub fn f_opposite_order_deadlock_read_committed(new: NewBackend) {
    pattern_f(new, RC)
}
pub fn f_opposite_order_deadlock_repeatable_read(new: NewBackend) {
    pattern_f(new, RR)
}
pub fn f_opposite_order_deadlock_serializable(new: NewBackend) {
    pattern_f(new, SER)
}
