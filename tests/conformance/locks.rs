//! PostgreSQL's two-level row locks and its deadlock detector's decision
//! (issue 16), as PostgreSQL 15 answered them: the first waiter for a
//! locked row takes the tuple lock and waits for the locker's transaction,
//! later waiters queue on the tuple lock (so they wait for the first
//! waiter, which is whom `pg_blocking_pids` names), and a deadlock check
//! aborts the waiter that ran it whenever it lies on a cycle of hard and
//! soft edges (see model/src/postgres/deadlock.rs for why the model's locks
//! never let PostgreSQL resolve a cycle by reordering a queue).
//!
//! Whom a statement waits for is checked through `Backend::waits_for`; on
//! the server that is the first pid `pg_blocking_pids` gives.

use super::*;

enum Step<'a> {
    /// Session (1-based), statement, expected reports (as `describe`).
    Run(u32, Statement, &'a [&'a str]),
    /// The same where the server races: any of the alternatives (the
    /// model's is the first).
    RunEither(u32, Statement, &'a [&'a [&'a str]]),
    /// The session's deadlock_timeout ran out; expected reports.
    DeadlockCheck(u32, &'a [&'a str]),
    /// Whom the session waits for (1-based), if anyone.
    WaitsFor(u32, Option<u32>),
    /// Virtual time passes (the server sleeps it, paced): keeps the
    /// server's deadlock timers apart, in the order the script checks them.
    Pause(u64),
}
use Step::*;

fn script(new: NewBackend, label: &str, sessions: usize, start: i64, steps: &[Step]) -> Vec<Row> {
    let mut store = new(
        &[row(start, 0), row(start, 0)],
        sessions,
        StoreConfig::default(),
    );
    let mut out = Vec::new();
    let mut now = 0;
    for (i, step) in steps.iter().enumerate() {
        out.clear();
        match step {
            Run(t, statement, expected) => {
                store.execute(SessionId(t - 1), *statement, &mut out);
                assert_eq!(
                    describe(&out),
                    *expected,
                    "{label}: step {} (T{t}: {statement})",
                    i + 1
                );
            }
            RunEither(t, statement, alternatives) => {
                store.execute(SessionId(t - 1), *statement, &mut out);
                let got = describe(&out);
                assert!(
                    alternatives.iter().any(|a| got == *a),
                    "{label}: step {} (T{t}: {statement}): {got:?} is none of {alternatives:?}",
                    i + 1
                );
            }
            DeadlockCheck(t, expected) => {
                store.deadlock_check(SessionId(t - 1), &mut out);
                assert_eq!(
                    describe(&out),
                    *expected,
                    "{label}: step {} (T{t}'s deadlock check)",
                    i + 1
                );
            }
            WaitsFor(t, on) => assert_eq!(
                store.waits_for(SessionId(t - 1)),
                on.map(|o| SessionId(o - 1)),
                "{label}: step {}: whom T{t} waits for",
                i + 1
            ),
            Pause(ms) => {
                now += ms;
                store.time_passed(now, &mut out);
            }
        }
    }
    store.committed_rows()
}

fn lock_row(level: LevelId) -> Statement {
    Statement::Select {
        level,
        lock: Lock::ForUpdate,
    }
}

/// T1 locks row 1 (FOR UPDATE, no write); T2, T3 and T4 ask for it. T2
/// waits for T1; T3 and T4 queue behind T2. When T1 commits, T2 gets the
/// row, T3 gets the tuple lock and waits for T2, and T4 goes on waiting,
/// now for T3.
pub fn three_waiters_queue_behind_the_first(new: NewBackend) {
    let sel = |s| format!("SELECT 1 ({s},0,0)");
    let rows = script(
        new,
        "three waiters, FOR UPDATE",
        4,
        1,
        &[
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(4, begin(RC), &["T4 BEGIN"]),
            Run(1, lock_row(ID1), &[&format!("T1 {}", sel(1))]),
            Run(2, lock_row(ID1), &["T2 waits"]),
            Run(3, lock_row(ID1), &["T3 waits"]),
            Run(4, lock_row(ID1), &["T4 waits"]),
            WaitsFor(2, Some(1)),
            WaitsFor(3, Some(2)),
            WaitsFor(4, Some(2)),
            Run(
                1,
                COMMIT,
                &["T1 COMMIT", &format!("T2 {} (resumed)", sel(1))],
            ),
            WaitsFor(3, Some(2)),
            WaitsFor(4, Some(3)),
            Run(
                2,
                COMMIT,
                &["T2 COMMIT", &format!("T3 {} (resumed)", sel(1))],
            ),
            WaitsFor(4, Some(3)),
            Run(
                3,
                COMMIT,
                &["T3 COMMIT", &format!("T4 {} (resumed)", sel(1))],
            ),
            Run(4, COMMIT, &["T4 COMMIT"]),
        ],
    );
    assert_eq!(rows, [row(1, 0), row(1, 0)]);
}

/// The same with UPDATEs: T1's commit installs a new version and T2, the
/// first waiter, updates it. T3 and T4 follow the update chain to T2's
/// uncommitted version and wait for T2's transaction id directly, without
/// the tuple lock (heapam_tuple_lock's SnapshotDirty wait). When T2 commits
/// both wake and race for the row: PostgreSQL wakes T3 first, but which
/// one gets to the newest version first is up to the OS scheduler (about
/// half the time each, observed). The model lets T3 go first.
pub fn three_waiters_follow_each_update(new: NewBackend) {
    let rows = script(
        new,
        "three waiters, UPDATE",
        4,
        5,
        &[
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(4, begin(RC), &["T4 BEGIN"]),
            Run(1, decrement(1), &["T1 UPDATE 1"]),
            Run(2, decrement(1), &["T2 waits"]),
            Run(3, decrement(1), &["T3 waits"]),
            Run(4, decrement(1), &["T4 waits"]),
            WaitsFor(3, Some(2)),
            WaitsFor(4, Some(2)),
            Run(1, COMMIT, &["T1 COMMIT", "T2 UPDATE 1 (resumed)"]),
            WaitsFor(3, Some(2)),
            WaitsFor(4, Some(2)),
            RunEither(
                2,
                COMMIT,
                &[
                    &["T2 COMMIT", "T3 UPDATE 1 (resumed)"],
                    &["T2 COMMIT", "T4 UPDATE 1 (resumed)"],
                ],
            ),
        ],
    );
    // T3 and T4 end with the backend (rolled back).
    assert_eq!(rows, [row(3, 0), row(5, 0)]);
}

/// Seed 8 of `diff --strategy row-lock --items 2 --orders 3 --stock 2`.
/// T3 locks row 1, T2 row 2; T1 waits for T3 on row 1 (holding its tuple
/// lock); T2 asks for row 1 and queues behind T1; T3 asks for row 2 and
/// waits for T2. The cycle is T1 -> T3 -> T2 -> T1, and T1's check runs
/// first: T1 fails with 40P01, T2 gets the tuple lock and waits for T3
/// (a new wait), and T3's check fails T3. T2 gets both rows.
pub fn a_queued_waiter_closes_a_three_session_cycle(new: NewBackend) {
    let rows = script(
        new,
        "seed 8 shape",
        3,
        2,
        &[
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(3, lock_row(ID1), &["T3 SELECT 1 (2,0,0)"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(2, lock_row(ID2), &["T2 SELECT 1 (2,0,0)"]),
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(1, lock_row(ID1), &["T1 waits"]),
            Run(2, lock_row(ID1), &["T2 waits"]),
            WaitsFor(1, Some(3)),
            WaitsFor(2, Some(1)),
            Pause(500),
            Run(3, lock_row(ID2), &["T3 waits"]),
            WaitsFor(3, Some(2)),
            DeadlockCheck(1, &["T1 ERROR 40P01 (resumed)"]),
            WaitsFor(2, Some(3)),
            DeadlockCheck(
                3,
                &["T3 ERROR 40P01 (resumed)", "T2 SELECT 1 (2,0,0) (resumed)"],
            ),
            Run(1, Statement::Rollback, &["T1 ROLLBACK"]),
            Run(3, Statement::Rollback, &["T3 ROLLBACK"]),
            Run(2, decrement_level(ID1, 1), &["T2 UPDATE 1"]),
            Run(2, decrement_level(ID2, 1), &["T2 UPDATE 1"]),
            Run(2, COMMIT, &["T2 COMMIT"]),
        ],
    );
    assert_eq!(rows, [row(1, 0), row(1, 0)]);
}

/// A cycle that reaches the checker only through a soft edge. T2 holds
/// advisory lock 1 and T3 holds row 1. T1, then T3, queue on the advisory
/// lock (T3 behind T1: a soft edge T3 -> T1); T2 asks for row 1 and waits
/// for T3. T2 and T3 deadlock; T1 is on no cycle of hard edges, but on
/// T1 -> T2 -> T3 -> T1 through the queue. Its check runs first and
/// PostgreSQL fails it: no queue order helps, since T3 would have to go
/// ahead of T1 and T3 is on the hard cycle. Then T3's check fails T3.
pub fn a_cycle_closed_by_a_queue_edge_fails_the_checker(new: NewBackend) {
    let lock = Statement::AdvisoryLock { key: 1 };
    let rows = script(
        new,
        "soft edge",
        3,
        2,
        &[
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(3, lock_row(ID1), &["T3 SELECT 1 (2,0,0)"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(2, lock, &["T2 SELECT 1"]),
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(1, lock, &["T1 waits"]),
            Pause(500),
            Run(3, lock, &["T3 waits"]),
            Pause(500),
            Run(2, lock_row(ID1), &["T2 waits"]),
            WaitsFor(1, Some(2)),
            WaitsFor(3, Some(2)),
            WaitsFor(2, Some(3)),
            DeadlockCheck(1, &["T1 ERROR 40P01 (resumed)"]),
            DeadlockCheck(
                3,
                &["T3 ERROR 40P01 (resumed)", "T2 SELECT 1 (2,0,0) (resumed)"],
            ),
            Run(1, Statement::Rollback, &["T1 ROLLBACK"]),
            Run(3, Statement::Rollback, &["T3 ROLLBACK"]),
            Run(2, COMMIT, &["T2 COMMIT"]),
        ],
    );
    assert_eq!(rows, [row(2, 0), row(2, 0)]);
}

/// A deadlock check that finds no cycle changes nothing: the waiter goes on
/// waiting, keeps the tuple lock, and gets the row when its locker ends.
pub fn a_check_without_a_cycle_changes_nothing(new: NewBackend) {
    let rows = script(
        new,
        "no cycle",
        3,
        1,
        &[
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(1, lock_row(ID1), &["T1 SELECT 1 (1,0,0)"]),
            Run(2, lock_row(ID1), &["T2 waits"]),
            Pause(500),
            Run(3, lock_row(ID1), &["T3 waits"]),
            WaitsFor(3, Some(2)),
            // Not a deadlock: T2's check finds nothing and T2 goes on waiting.
            DeadlockCheck(2, &[]),
            Run(
                1,
                Statement::Rollback,
                &["T1 ROLLBACK", "T2 SELECT 1 (1,0,0) (resumed)"],
            ),
            WaitsFor(3, Some(2)),
            Run(2, COMMIT, &["T2 COMMIT", "T3 SELECT 1 (1,0,0) (resumed)"]),
            Run(3, COMMIT, &["T3 COMMIT"]),
        ],
    );
    assert_eq!(rows, [row(1, 0), row(1, 0)]);
}

/// A tuple lock belongs to one version of the row (seed 151 of `diff
/// --strategy row-lock --orders 4 --items 2 --stock 2`). T3 locks and
/// updates both rows; T1 waits for it on row 1, T2 on row 2, and T4 queues
/// behind T2 on row 2. T3 commits: T1 and T2 lock the new versions, and T4,
/// handed the old version's tuple lock, waits for T2 keeping it. When T1
/// then asks for row 2 it takes the new version's tuple lock and waits for
/// T2 directly, not behind T4. T1 and T2 deadlock (T4 is outside the
/// cycle); T2's check fails T2, T4 takes row 2 and T1 now waits for T4.
pub fn a_newcomer_queues_on_the_newest_versions_tuple_lock(new: NewBackend) {
    let rows = script(
        new,
        "tuple lock per version",
        4,
        2,
        &[
            Run(3, begin(RC), &["T3 BEGIN"]),
            Run(3, lock_row(ID1), &["T3 SELECT 1 (2,0,0)"]),
            Run(3, decrement_level(ID1, 1), &["T3 UPDATE 1"]),
            Run(3, lock_row(ID2), &["T3 SELECT 1 (2,0,0)"]),
            Run(1, begin(RC), &["T1 BEGIN"]),
            Run(1, lock_row(ID1), &["T1 waits"]),
            Run(2, begin(RC), &["T2 BEGIN"]),
            Run(2, lock_row(ID2), &["T2 waits"]),
            Run(3, decrement_level(ID2, 1), &["T3 UPDATE 1"]),
            Run(4, begin(RC), &["T4 BEGIN"]),
            Run(4, lock_row(ID2), &["T4 waits"]),
            WaitsFor(1, Some(3)),
            WaitsFor(2, Some(3)),
            WaitsFor(4, Some(2)),
            Run(
                3,
                COMMIT,
                &[
                    "T3 COMMIT",
                    "T1 SELECT 1 (1,0,0) (resumed)",
                    "T2 SELECT 1 (1,0,0) (resumed)",
                ],
            ),
            WaitsFor(4, Some(2)),
            Pause(500),
            Run(2, decrement_level(ID2, 1), &["T2 UPDATE 1"]),
            Run(2, lock_row(ID1), &["T2 waits"]),
            Pause(500),
            Run(1, decrement_level(ID1, 1), &["T1 UPDATE 1"]),
            Run(1, lock_row(ID2), &["T1 waits"]),
            WaitsFor(1, Some(2)),
            WaitsFor(2, Some(1)),
            WaitsFor(4, Some(2)),
            // T4 waits longest, but on no cycle: its check changes nothing.
            DeadlockCheck(4, &[]),
            DeadlockCheck(
                2,
                &["T2 ERROR 40P01 (resumed)", "T4 SELECT 1 (1,0,0) (resumed)"],
            ),
            WaitsFor(1, Some(4)),
            Run(2, Statement::Rollback, &["T2 ROLLBACK"]),
            Run(4, decrement_level(ID2, 1), &["T4 UPDATE 1"]),
            Run(4, COMMIT, &["T4 COMMIT", "T1 SELECT 1 (0,0,0) (resumed)"]),
            Run(1, COMMIT, &["T1 COMMIT"]),
        ],
    );
    assert_eq!(rows, [row(0, 0), row(0, 0)]);
}
