//! NOWAIT, advisory locks, and what an error does to a transaction's
//! locks: behaviour outside patterns a-g, most of it found by `diff` and
//! kept here as scripts.

use super::*;

// ---- locks: NOWAIT, advisory locks ------------------------------------------

pub fn for_update_nowait_fails_at_once_with_55p03(new: NewBackend) {
    check(
        new,
        "nowait",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (1, for_update(), &["T1 SELECT 1 (1,0,0)"]),
            (
                2,
                Statement::Select {
                    level: ID1,
                    lock: Lock::ForUpdateNowait,
                },
                &["T2 ERROR 55P03"],
            ),
            (2, select(), &["T2 ERROR 25P02"]),
            (2, COMMIT, &["T2 ROLLBACK"]),
            (1, COMMIT, &["T1 COMMIT"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}

pub fn advisory_locks_wait_like_row_locks_and_end_with_the_transaction(new: NewBackend) {
    let lock = Statement::AdvisoryLock { key: 7 };
    check(
        new,
        "advisory",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (1, lock, &["T1 SELECT 1"]),
            (2, lock, &["T2 waits"]),
            (1, select(), &["T1 SELECT 1 (1,0,0)"]),
            (1, set(0), &["T1 UPDATE 1"]),
            (1, COMMIT, &["T1 COMMIT", "T2 SELECT 1 (resumed)"]),
            (2, select(), &["T2 SELECT 1 (0,0,0)"]),
            (2, Statement::Rollback, &["T2 ROLLBACK"]),
            (1, begin(RC), &["T1 BEGIN"]),
            (1, lock, &["T1 SELECT 1"]),
            (1, COMMIT, &["T1 COMMIT"]),
        ],
        [row(0, 0), row(1, 0)],
    );
}

/// An error aborts the transaction at once: its locks go, its waiters proceed.
pub fn an_error_releases_locks_before_the_client_rolls_back(new: NewBackend) {
    check(
        new,
        "error releases",
        StoreConfig {
            check_nonnegative: true,
        },
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (1, decrement(1), &["T1 UPDATE 1"]),
            (
                2,
                Statement::Update(Update {
                    stocked: Assign::Add(-1),
                    ..Update::new(LevelId(1))
                }),
                &["T2 UPDATE 1"],
            ),
            (2, decrement(1), &["T2 waits"]),
            (
                1,
                decrement(1),
                &["T1 ERROR 23514", "T2 UPDATE 1 (resumed)"],
            ),
            (2, COMMIT, &["T2 COMMIT"]),
            (1, COMMIT, &["T1 ROLLBACK"]),
        ],
        [row(0, 0), row(0, 0)],
    );
}

/// REPEATABLE READ: the version T2's snapshot sees was replaced by T1, which
/// committed; T3 now holds a newer, uncommitted version. PostgreSQL fails T2
/// at once rather than waiting for T3 (found by `stockrace diff`).
pub fn repeatable_read_fails_at_once_when_its_version_was_replaced_even_if_the_row_is_locked(
    new: NewBackend,
) {
    for iso in [RR, SER] {
        check(
            new,
            &label("rr replaced then locked", iso, 2, 1),
            StoreConfig::default(),
            2,
            &[
                (2, begin(iso), &["T2 BEGIN"]),
                (2, select(), &["T2 SELECT 1 (2,0,0)"]),
                (1, set(1), &["T1 UPDATE 1"]),
                (3, begin(iso), &["T3 BEGIN"]),
                (3, set(0), &["T3 UPDATE 1"]),
                (2, set(1), &["T2 ERROR 40001"]),
                (3, COMMIT, &["T3 COMMIT"]),
                (2, COMMIT, &["T2 ROLLBACK"]),
            ],
            [row(0, 0), row(2, 0)],
        );
    }
}

/// Advisory locks queue: when the holder ends, the first waiter gets the
/// lock and the next goes on waiting, without a new wait of its own.
pub fn advisory_lock_waiters_queue_without_waiting_again(new: NewBackend) {
    let lock = Statement::AdvisoryLock { key: 1 };
    check(
        new,
        "advisory queue",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (1, lock, &["T1 SELECT 1"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (2, lock, &["T2 waits"]),
            (3, begin(RC), &["T3 BEGIN"]),
            (3, lock, &["T3 waits"]),
            (1, COMMIT, &["T1 COMMIT", "T2 SELECT 1 (resumed)"]),
            (2, COMMIT, &["T2 COMMIT", "T3 SELECT 1 (resumed)"]),
            (3, COMMIT, &["T3 COMMIT"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}

/// READ COMMITTED: a waiter whose WHERE no longer holds on the new version
/// returns UPDATE 0 but keeps the row locked (EvalPlanQual locks the newest
/// version before re-checking), so the next waiter waits for it to end
/// (found by `stockrace diff`).
pub fn epq_failure_keeps_the_row_locked(new: NewBackend) {
    check(
        new,
        "epq keeps lock",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (3, begin(RC), &["T3 BEGIN"]),
            (1, guarded(1), &["T1 UPDATE 1"]),
            (2, guarded(1), &["T2 waits"]),
            (3, guarded(1), &["T3 waits"]),
            (1, COMMIT, &["T1 COMMIT", "T2 UPDATE 0 (resumed)"]),
            (2, COMMIT, &["T2 COMMIT", "T3 UPDATE 0 (resumed)"]),
            (3, COMMIT, &["T3 COMMIT"]),
        ],
        [row(0, 0), row(1, 0)],
    );
}
