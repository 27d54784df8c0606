//! Patterns d-f of the PostgreSQL 15 reference: relative and guarded
//! decrements, and two items decremented in opposite orders (deadlock),
//! at every isolation level.

use super::*;

// ---- d) relative decrement -------------------------------------------------

pub fn pattern_d(new: NewBackend, iso: Isolation, config: StoreConfig) {
    for (s, q) in PAIRS {
        let after_rc = if config.check_nonnegative {
            "T2 ERROR 23514 (resumed)".to_string()
        } else {
            "T2 UPDATE 1 (resumed)".to_string()
        };
        let after: Vec<&str> = if iso == RC {
            vec!["T1 COMMIT", &after_rc]
        } else {
            vec!["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let both_commit = iso == RC && !config.check_nonnegative;
        let t2_commit: &[&str] = if both_commit {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        let stocked = if both_commit { s - 2 * q } else { s - q };
        check(
            new,
            &label("d", iso, s, q),
            config,
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, decrement(q), &["T1 UPDATE 1"]),
                (2, decrement(q), &["T2 waits"]),
                (1, COMMIT, &after),
                (2, COMMIT, t2_commit),
            ],
            [row(stocked, 0), row(s, 0)],
        );
    }
}

pub fn d_relative_decrement_read_committed_oversells(new: NewBackend) {
    pattern_d(new, RC, StoreConfig::default())
}
pub fn d_relative_decrement_read_committed_with_check_constraint(new: NewBackend) {
    pattern_d(
        new,
        RC,
        StoreConfig {
            check_nonnegative: true,
        },
    )
}
pub fn d_relative_decrement_repeatable_read(new: NewBackend) {
    pattern_d(new, RR, StoreConfig::default())
}
pub fn d_relative_decrement_serializable(new: NewBackend) {
    pattern_d(new, SER, StoreConfig::default())
}

// ---- e) guarded decrement --------------------------------------------------

pub fn pattern_e(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let after: &[&str] = if iso == RC {
            &["T1 COMMIT", "T2 UPDATE 0 (resumed)"]
        } else {
            &["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("e", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, guarded(q), &["T1 UPDATE 1"]),
                (2, guarded(q), &["T2 waits"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

/// e2: T2 begins after T1 committed, so even a REPEATABLE READ snapshot sees
/// T1's write: UPDATE 0 at every level.
pub fn pattern_e2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        check(
            new,
            &label("e2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (1, guarded(q), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (2, guarded(q), &["T2 UPDATE 0"]),
                (2, COMMIT, &["T2 COMMIT"]),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn e_guarded_decrement_read_committed(new: NewBackend) {
    pattern_e(new, RC)
}
pub fn e_guarded_decrement_repeatable_read(new: NewBackend) {
    pattern_e(new, RR)
}
pub fn e_guarded_decrement_serializable(new: NewBackend) {
    pattern_e(new, SER)
}
pub fn e2_guarded_decrement_after_commit_read_committed(new: NewBackend) {
    pattern_e2(new, RC)
}
pub fn e2_guarded_decrement_after_commit_repeatable_read(new: NewBackend) {
    pattern_e2(new, RR)
}
pub fn e2_guarded_decrement_after_commit_serializable(new: NewBackend) {
    pattern_e2(new, SER)
}

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
