//! The two-level row locks and the deadlock check, statement by statement.
use crate::postgres::{Event, Progress, SessionId, Store, StoreConfig};
use crate::statement::{Assign, Isolation, Lock, Row, Update};
use crate::{LevelId, Statement};

const T1: SessionId = SessionId(0);
const T2: SessionId = SessionId(1);
const T3: SessionId = SessionId(2);
const T4: SessionId = SessionId(3);

fn store(sessions: usize) -> Store {
    let row = Row {
        stocked: 5,
        reserved: 0,
        version: 0,
    };
    Store::new(&[row, row], sessions, StoreConfig::default())
}

fn run(store: &mut Store, s: SessionId, statement: Statement) -> Vec<Event> {
    let mut out = Vec::new();
    store.execute(s, statement, &mut out);
    out
}

fn decrement(level: u32) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-1),
        ..Update::new(LevelId(level))
    })
}

fn for_update(level: u32) -> Statement {
    Statement::Select {
        level: LevelId(level),
        lock: Lock::ForUpdate,
    }
}

fn begin_all(store: &mut Store, n: u32) {
    for s in 0..n {
        run(
            store,
            SessionId(s),
            Statement::Begin(Isolation::ReadCommitted),
        );
    }
}

/// The starts of waits (and re-waits) among `events`, as (session, on).
fn waits(events: &[Event]) -> Vec<(SessionId, SessionId)> {
    events
        .iter()
        .filter_map(|e| match e.progress {
            Progress::Waiting { on } => Some((e.session, on)),
            Progress::Done(_) => None,
        })
        .collect()
}

#[test]
fn later_waiters_queue_behind_the_first_waiter() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T1, for_update(0));
    assert_eq!(waits(&run(&mut s, T2, for_update(0))), [(T2, T1)]);
    assert_eq!(waits(&run(&mut s, T3, for_update(0))), [(T3, T2)]);
    assert_eq!(waits(&run(&mut s, T4, for_update(0))), [(T4, T2)]);
    // T1 only locked the row: T2 takes it, T3 gets the tuple lock and
    // waits (a new wait) for T2's transaction; T4 goes on waiting, now for T3.
    let out = run(&mut s, T1, Statement::Commit);
    assert_eq!(waits(&out), [(T3, T2)]);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(s.waits_for(T4), Some(T3));
    assert_eq!(s.row(LevelId(0)).locked_by, Some((T2, None)));
}

#[test]
fn after_an_update_the_waiters_follow_the_chain() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T1, decrement(0));
    run(&mut s, T2, decrement(0));
    run(&mut s, T3, decrement(0));
    run(&mut s, T4, decrement(0));
    // T1 committed a new version: T2 updates it; T3 and T4 follow the
    // update chain to T2's uncommitted version and wait anew, each for
    // T2's transaction id, without the tuple lock.
    let out = run(&mut s, T1, Statement::Commit);
    assert_eq!(waits(&out), [(T3, T2), (T4, T2)]);
    assert_eq!(s.rows[0].tuple_locks, []);
    // T2 commits: both wake; T3 (waiting longer) updates first.
    let out = run(&mut s, T2, Statement::Commit);
    assert_eq!(waits(&out), [(T4, T3)]);
    assert_eq!(s.committed_rows()[0].stocked, 3);
}

#[test]
fn a_cancelled_first_waiter_hands_the_tuple_lock_on() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T1, for_update(0));
    run(&mut s, T2, for_update(0));
    run(&mut s, T3, for_update(0));
    run(&mut s, T4, for_update(0));
    let mut out = Vec::new();
    s.cancel_wait(T2, crate::DbError::LOCK_TIMEOUT, &mut out);
    assert_eq!(waits(&out), [(T3, T1)]);
    assert_eq!(s.waits_for(T4), Some(T3));
}

/// Seed 8 of `diff --strategy row-lock --items 2 --orders 3 --stock 2`:
/// T1 waits for T3 on row 1, T2 queues behind T1, T3 waits for T2 on
/// row 2: a three-order cycle. T1's check aborts T1; T2 then takes the
/// tuple lock and waits for T3, whose check aborts T3; T2 sells.
#[test]
fn seed_8_shape_aborts_the_first_waiter_then_the_holder() {
    let mut s = store(3);
    begin_all(&mut s, 3);
    run(&mut s, T3, for_update(0));
    run(&mut s, T2, for_update(1));
    assert_eq!(waits(&run(&mut s, T1, for_update(0))), [(T1, T3)]);
    assert_eq!(waits(&run(&mut s, T2, for_update(0))), [(T2, T1)]);
    assert_eq!(waits(&run(&mut s, T3, for_update(1))), [(T3, T2)]);
    assert!(s.in_deadlock(T1) && s.in_deadlock(T2) && s.in_deadlock(T3));
    let mut out = Vec::new();
    assert!(s.deadlock_check(T1, &mut out));
    assert_eq!(waits(&out), [(T2, T3)]);
    out.clear();
    assert!(s.deadlock_check(T3, &mut out));
    assert!(matches!(out[1].progress, Progress::Done(Ok(_))), "{out:?}");
    assert_eq!(out[1].session, T2);
}

#[test]
fn a_waiter_outside_the_cycle_is_not_its_victim() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T1, for_update(0));
    run(&mut s, T2, for_update(1));
    run(&mut s, T1, for_update(1));
    run(&mut s, T2, for_update(0));
    // T3 queues on row 2's tuple lock behind T1, which is in the cycle.
    run(&mut s, T3, for_update(1));
    assert!(!s.in_deadlock(T3));
    let mut out = Vec::new();
    assert!(!s.deadlock_check(T3, &mut out));
    assert!(out.is_empty());
}

/// Seed 151 of `diff --strategy row-lock --orders 4 --items 2 --stock 2`:
/// T4 queued on row 2's old version is handed its tuple lock after T3's
/// update and waits for T2, which locked the new version, keeping the old
/// version's tuple lock. T1 then asks for row 2: it takes the *new*
/// version's tuple lock and waits for T2 directly, not behind T4.
#[test]
fn a_newcomer_queues_on_the_newest_versions_tuple_lock() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T3, for_update(0));
    run(&mut s, T3, decrement(0));
    run(&mut s, T3, for_update(1));
    assert_eq!(waits(&run(&mut s, T1, for_update(0))), [(T1, T3)]);
    assert_eq!(waits(&run(&mut s, T2, for_update(1))), [(T2, T3)]);
    run(&mut s, T3, decrement(1));
    assert_eq!(waits(&run(&mut s, T4, for_update(1))), [(T4, T2)]);
    // T3 commits: T1 and T2 lock the new versions; T4, handed row 2's old
    // tuple lock, waits for T2's transaction (a new wait) and keeps it.
    let out = run(&mut s, T3, Statement::Commit);
    assert_eq!(waits(&out), [(T4, T2)]);
    assert_eq!(s.rows[1].tuple_locks, [(0, T4)]);
    run(&mut s, T2, decrement(1));
    assert_eq!(waits(&run(&mut s, T2, for_update(0))), [(T2, T1)]);
    run(&mut s, T1, decrement(0));
    assert_eq!(waits(&run(&mut s, T1, for_update(1))), [(T1, T2)]);
    // T1 <-> T2 is a deadlock; T4 waits for T2 but is on no cycle.
    assert!(s.in_deadlock(T1) && s.in_deadlock(T2) && !s.in_deadlock(T4));
    // T2's check aborts it: T4 (waiting longer) takes row 2, and T1 goes
    // on waiting with the new version's tuple lock, now for T4.
    let mut out = Vec::new();
    assert!(s.deadlock_check(T2, &mut out));
    assert!(matches!(out[1].progress, Progress::Done(Ok(_))), "{out:?}");
    assert_eq!(out[1].session, T4);
    assert_eq!(waits(&out), [(T1, T4)]);
    assert_eq!(s.rows[1].tuple_locks, [(1, T1)]);
}

/// An updated version's queue moves one waiter at a time: each FOR
/// UPDATE waiter handed the old version's tuple lock waits for the new
/// version's locker keeping it, so the ones behind stay queued.
#[test]
fn for_update_waiters_behind_an_updated_version_queue_on_its_tuple_lock() {
    let mut s = store(4);
    begin_all(&mut s, 4);
    run(&mut s, T1, for_update(0));
    run(&mut s, T1, decrement(0));
    run(&mut s, T2, for_update(0));
    run(&mut s, T3, for_update(0));
    run(&mut s, T4, for_update(0));
    // T1 commits a new version: T2 locks it; T3, handed the old
    // version's tuple lock, waits for T2 keeping it; T4 waits for T3.
    let out = run(&mut s, T1, Statement::Commit);
    assert_eq!(waits(&out), [(T3, T2)]);
    assert_eq!(s.waits_for(T4), Some(T3));
    assert_eq!(s.row(LevelId(0)).locked_by, Some((T2, None)));
    assert_eq!(s.rows[0].tuple_locks, [(0, T3)]);
}
