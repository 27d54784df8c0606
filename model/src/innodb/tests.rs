//! The headline differences from PostgreSQL, each on a small script.
//! (Every reference transcript runs in tests/conformance_mariadb_model.rs.)

use super::{InnoDbConfig, InnoDbStore};
use crate::error::DbError;
use crate::event::{Event, Progress, SessionId};
use crate::statement::{Assign, Isolation, LevelId, Lock, Reply, Row, Statement, Update};

const T1: SessionId = SessionId(0);
const T2: SessionId = SessionId(1);
const RR: Isolation = Isolation::RepeatableRead;

fn store(stock: i64, rows: usize, config: InnoDbConfig) -> InnoDbStore {
    let row = Row {
        stocked: stock,
        reserved: 0,
        version: 0,
    };
    InnoDbStore::new(&vec![row; rows], 2, config)
}

fn run(store: &mut InnoDbStore, session: SessionId, statement: Statement) -> Vec<Event> {
    let mut out = Vec::new();
    store.execute(session, statement, &mut out);
    out
}

/// Runs a statement and returns its own progress.
fn step(store: &mut InnoDbStore, session: SessionId, statement: Statement) -> Progress {
    run(store, session, statement)[0].progress
}

fn select(id: u32) -> Statement {
    Statement::Select {
        level: LevelId(id),
        lock: Lock::None,
    }
}

fn set(id: u32, value: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Set(value),
        ..Update::new(LevelId(id))
    })
}

fn decrement(id: u32) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-1),
        ..Update::new(LevelId(id))
    })
}

fn ok_update(count: u32, stocked: i64) -> Progress {
    Progress::Done(Ok(Reply::Update {
        count,
        row: Some(Row {
            stocked,
            reserved: 0,
            version: 0,
        }),
    }))
}

fn failed(error: DbError) -> Progress {
    Progress::Done(Err(error))
}

/// Both read 1, both write 0 at REPEATABLE READ: with
/// innodb_snapshot_isolation OFF (10.11's default) T2's write succeeds on the
/// newest row and one unit is sold twice; with it ON, T2 gets 1020 and its
/// transaction is gone.
#[test]
fn read_then_absolute_write_loses_the_update_at_repeatable_read() {
    for snapshot_isolation in [false, true] {
        let config = InnoDbConfig {
            snapshot_isolation,
            ..InnoDbConfig::default()
        };
        let mut s = store(1, 1, config);
        for t in [T1, T2] {
            step(&mut s, t, Statement::Begin(RR));
        }
        for t in [T1, T2] {
            let one = Row {
                stocked: 1,
                ..Row::default()
            };
            assert_eq!(
                step(&mut s, t, select(0)),
                Progress::Done(Ok(Reply::Select(Some(one))))
            );
        }
        assert_eq!(step(&mut s, T1, set(0, 0)), ok_update(1, 0));
        step(&mut s, T1, Statement::Commit);
        let t2 = step(&mut s, T2, set(0, 0));
        if snapshot_isolation {
            assert_eq!(t2, failed(DbError::MARIADB_RECORD_CHANGED));
            assert!(
                !s.in_transaction(T2),
                "1020 rolls back the whole transaction"
            );
            assert_eq!(
                step(&mut s, T2, Statement::Commit),
                Progress::Done(Ok(Reply::Commit))
            );
        } else {
            // CLIENT_FOUND_ROWS: matched 1 (though nothing changed).
            assert_eq!(t2, ok_update(1, 0));
            assert_eq!(
                step(&mut s, T2, Statement::Commit),
                Progress::Done(Ok(Reply::Commit))
            );
        }
        assert_eq!(s.committed_rows()[0].stocked, 0);
    }
}

/// Opposite-order updates of two rows. The deadlock is found when T2's
/// request closes the cycle; on equal weights T2 (the requester) is the
/// victim with 1213, T1 goes on. T2 is then in autocommit mode: its next
/// UPDATE commits by itself, and its ROLLBACK undoes nothing.
#[test]
fn deadlock_victim_is_the_requester_on_equal_weights_and_autocommit_follows() {
    let mut s = store(1, 2, InnoDbConfig::default());
    step(&mut s, T1, Statement::Begin(RR));
    step(&mut s, T2, Statement::Begin(RR));
    step(&mut s, T1, decrement(0));
    step(&mut s, T2, decrement(1));
    assert_eq!(step(&mut s, T1, decrement(1)), Progress::Waiting { on: T2 });
    let out = run(&mut s, T2, decrement(0));
    assert_eq!(out[0].progress, failed(DbError::MARIADB_DEADLOCK));
    assert_eq!((out[1].session, out[1].resumed), (T1, true));
    assert_eq!(out[1].progress, ok_update(1, 0));
    assert!(!s.in_transaction(T2));
    step(&mut s, T1, Statement::Commit);
    // Autocommit: T2's update of row 2 is committed at once.
    assert_eq!(step(&mut s, T2, set(1, 99)), ok_update(1, 99));
    assert!(!s.in_transaction(T2));
    assert_eq!(
        step(&mut s, T2, Statement::Rollback),
        Progress::Done(Ok(Reply::Rollback))
    );
    assert_eq!(s.committed_rows()[1].stocked, 99);
}

/// The lighter transaction is the victim even when the heavier one closes
/// the cycle: T2 changed three more rows, so T1 gets 1213, after T2's own
/// answer (its UPDATE goes through once T1's locks are gone).
#[test]
fn deadlock_victim_is_the_lighter_transaction() {
    let mut s = store(1, 5, InnoDbConfig::default());
    step(&mut s, T1, Statement::Begin(RR));
    step(&mut s, T2, Statement::Begin(RR));
    for id in 2..5 {
        step(&mut s, T2, decrement(id));
    }
    step(&mut s, T1, decrement(0));
    step(&mut s, T2, decrement(1));
    assert_eq!(step(&mut s, T1, decrement(1)), Progress::Waiting { on: T2 });
    let out = run(&mut s, T2, decrement(0));
    assert_eq!((out[0].session, out[0].progress), (T2, ok_update(1, 0)));
    assert_eq!(
        (out[1].session, out[1].progress),
        (T1, failed(DbError::MARIADB_DEADLOCK))
    );
    assert!(!s.in_transaction(T1) && s.in_transaction(T2));
}

/// A lock wait ends after innodb_lock_wait_timeout (50 s virtual) with 1205;
/// only the statement is rolled back: the transaction stays open and its
/// earlier write commits.
#[test]
fn lock_wait_timeout_rolls_back_the_statement_only() {
    let mut s = store(1, 2, InnoDbConfig::default());
    step(&mut s, T1, Statement::Begin(RR));
    step(&mut s, T2, Statement::Begin(RR));
    step(
        &mut s,
        T1,
        Statement::Select {
            level: LevelId(0),
            lock: Lock::ForUpdate,
        },
    );
    assert_eq!(step(&mut s, T2, set(1, 7)), ok_update(1, 7));
    assert_eq!(step(&mut s, T2, set(0, 0)), Progress::Waiting { on: T1 });
    assert_eq!(s.next_timeout_ms(), Some(50_000));
    let mut out = Vec::new();
    s.time_passed(49_999, &mut out);
    assert!(out.is_empty() && s.is_waiting(T2));
    s.time_passed(50_000, &mut out);
    assert_eq!(
        (out[0].session, out[0].progress),
        (T2, failed(DbError::MARIADB_LOCK_WAIT_TIMEOUT))
    );
    assert!(s.in_transaction(T2) && !s.is_waiting(T2));
    step(&mut s, T2, Statement::Commit);
    step(&mut s, T1, Statement::Commit);
    assert_eq!(s.committed_rows()[1].stocked, 7);
    assert_eq!(s.committed_rows()[0].stocked, 1);
}

/// NOWAIT gives the same 1205 at once, statement only.
#[test]
fn nowait_fails_at_once_and_keeps_the_transaction() {
    let mut s = store(1, 1, InnoDbConfig::default());
    step(&mut s, T1, Statement::Begin(RR));
    step(&mut s, T2, Statement::Begin(RR));
    step(
        &mut s,
        T1,
        Statement::Select {
            level: LevelId(0),
            lock: Lock::ForUpdate,
        },
    );
    let nowait = Statement::Select {
        level: LevelId(0),
        lock: Lock::ForUpdateNowait,
    };
    assert_eq!(
        step(&mut s, T2, nowait),
        failed(DbError::MARIADB_LOCK_WAIT_TIMEOUT)
    );
    assert!(s.in_transaction(T2) && !s.is_waiting(T2));
}

/// SERIALIZABLE: the plain reads take shared locks, so read-then-write by
/// both deadlocks (1213 for the one that closes the cycle) where PostgreSQL
/// would give 40001.
#[test]
fn serializable_reads_lock_and_read_then_write_deadlocks() {
    let mut s = store(1, 1, InnoDbConfig::default());
    for t in [T1, T2] {
        step(&mut s, t, Statement::Begin(Isolation::Serializable));
    }
    for t in [T1, T2] {
        step(&mut s, t, select(0));
    }
    assert_eq!(step(&mut s, T1, set(0, 0)), Progress::Waiting { on: T2 });
    let out = run(&mut s, T2, set(0, 0));
    assert_eq!(out[0].progress, failed(DbError::MARIADB_DEADLOCK));
    assert_eq!((out[1].session, out[1].progress), (T1, ok_update(1, 0)));
}

/// The REPEATABLE READ view opens at the first plain read, not at BEGIN.
#[test]
fn read_view_opens_at_the_first_consistent_read() {
    let mut s = store(1, 1, InnoDbConfig::default());
    step(&mut s, T2, Statement::Begin(RR));
    step(&mut s, T1, set(0, 0)); // autocommit
    let read = step(&mut s, T2, select(0));
    assert_eq!(
        read,
        Progress::Done(Ok(Reply::Select(Some(Row::default()))))
    );
}

/// CHECK (stocked_quantity >= 0): 4025, statement only.
#[test]
fn check_constraint_fails_the_statement_only() {
    let config = InnoDbConfig {
        check_nonnegative: true,
        ..InnoDbConfig::default()
    };
    let mut s = store(0, 1, config);
    step(&mut s, T1, Statement::Begin(RR));
    assert_eq!(
        step(&mut s, T1, decrement(0)),
        failed(DbError::MARIADB_CHECK_CONSTRAINT)
    );
    assert!(s.in_transaction(T1));
    assert_eq!(
        DbError::MARIADB_CHECK_CONSTRAINT
            .to_string()
            .split(' ')
            .next(),
        Some("4025")
    );
}
