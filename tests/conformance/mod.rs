//! The conformance reference (tests/conformance/reference/postgres-15.md) as
//! runnable scripts: every statement's result (or wait, or SQLSTATE) and the
//! final rows, as PostgreSQL 15 gave them, for patterns a-g, schedules S1 and
//! S2, stock 1 / q 1 and stock 5 / q 3, at every isolation level. Each script
//! runs on any [`Backend`]: `conformance_model.rs` runs them on the model,
//! `conformance_postgres.rs` on a real server.
//!
//! Each step lists everything the store reports for one statement: its own
//! result, then any waiting statement it let finish ("(resumed)").
//! The store holds two rows, as in the reference: id 1 is bought, id 2 is a
//! bystander that must stay untouched.

#![allow(dead_code)]

pub mod locks;
pub mod ssi;

use stockrace::model::{
    Assign, Event, Guard, Isolation, LevelId, Lock, Progress, Row, SessionId, Statement,
    StoreConfig, Update,
};
use stockrace::Backend;

/// Makes a backend holding `rows` for `sessions` clients.
pub type NewBackend<'a> = &'a dyn Fn(&[Row], usize, StoreConfig) -> Box<dyn Backend>;

const RC: Isolation = Isolation::ReadCommitted;
const RR: Isolation = Isolation::RepeatableRead;
const SER: Isolation = Isolation::Serializable;
const PAIRS: [(i64, i64); 2] = [(1, 1), (5, 3)];
const ID1: LevelId = LevelId(0);

fn row(stocked: i64, version: i64) -> Row {
    Row {
        stocked,
        reserved: 0,
        version,
    }
}

/// What a step reports, as the reference records it: a result, an error's
/// SQLSTATE, or that the statement blocked. Whom it waits for, and a waiter
/// that woke only to wait again, are details the reference does not record.
fn describe(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| !(e.resumed && matches!(e.progress, Progress::Waiting { .. })))
        .map(|event| {
            let result = match event.progress {
                Progress::Done(Ok(reply)) => reply.to_string(),
                Progress::Done(Err(e)) => format!("ERROR {}", e.state),
                Progress::Waiting { .. } => "waits".to_string(),
            };
            let resumed = if event.resumed { " (resumed)" } else { "" };
            format!("{} {result}{resumed}", event.session)
        })
        .collect()
}

/// Runs the steps (order 1 or 2, statement, expected reports) and checks the final rows.
fn check(
    new: NewBackend,
    label: &str,
    config: StoreConfig,
    start: i64,
    steps: &[(u32, Statement, &[&str])],
    final_rows: [Row; 2],
) {
    let mut store = new(&[row(start, 0), row(start, 0)], 3, config);
    let mut out = Vec::new();
    for (i, (t, statement, expected)) in steps.iter().enumerate() {
        out.clear();
        store.execute(SessionId(t - 1), *statement, &mut out);
        assert_eq!(
            describe(&out),
            *expected,
            "{label}: step {} (T{t}: {statement})",
            i + 1
        );
    }
    assert_eq!(store.committed_rows(), final_rows, "{label}: final rows");
}

fn begin(iso: Isolation) -> Statement {
    Statement::Begin(iso)
}
fn select() -> Statement {
    Statement::Select {
        level: ID1,
        lock: Lock::None,
    }
}
fn for_update() -> Statement {
    Statement::Select {
        level: ID1,
        lock: Lock::ForUpdate,
    }
}
fn set(value: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Set(value),
        ..Update::new(ID1)
    })
}
fn cas_version(value: i64, version: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Set(value),
        bump_version: true,
        guard: Guard::Version(version),
        ..Update::new(ID1)
    })
}
fn cas_value(value: i64, read: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Set(value),
        guard: Guard::Stocked(read),
        ..Update::new(ID1)
    })
}
fn decrement(q: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-q),
        ..Update::new(ID1)
    })
}
fn guarded(q: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-q),
        guard: Guard::StockedAtLeast(q),
        ..Update::new(ID1)
    })
}
const COMMIT: Statement = Statement::Commit;

fn sel(s: i64, v: i64) -> String {
    format!("SELECT 1 ({s},0,{v})")
}

/// Label for assertion messages.
fn label(pattern: &str, iso: Isolation, s: i64, q: i64) -> String {
    format!("{pattern} [{}] stock={s} q={q}", iso.sql())
}

// ---- a) read, then absolute write ------------------------------------------

pub fn pattern_a_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let t2_write: &[&str] = if iso == RC {
            &["T2 UPDATE 1"]
        } else {
            &["T2 ERROR 40001"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("a S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, set(s - q), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn pattern_a_s2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let after: &[&str] = if iso == RC {
            &["T1 COMMIT", "T2 UPDATE 1 (resumed)"]
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
            &label("a S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (2, set(s - q), &["T2 waits"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            // RC: both sold, stock shows one sale (the lost update).
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn a_read_then_absolute_write_s1_read_committed(new: NewBackend) {
    pattern_a_s1(new, RC)
}
pub fn a_read_then_absolute_write_s1_repeatable_read(new: NewBackend) {
    pattern_a_s1(new, RR)
}
pub fn a_read_then_absolute_write_s1_serializable(new: NewBackend) {
    pattern_a_s1(new, SER)
}
pub fn a_read_then_absolute_write_s2_read_committed(new: NewBackend) {
    pattern_a_s2(new, RC)
}
pub fn a_read_then_absolute_write_s2_repeatable_read(new: NewBackend) {
    pattern_a_s2(new, RR)
}
pub fn a_read_then_absolute_write_s2_serializable(new: NewBackend) {
    pattern_a_s2(new, SER)
}

// ---- b) version CAS, b') value CAS -----------------------------------------

pub fn pattern_b_version_s2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
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
            &label("b S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_version(s - q, 0), &["T1 UPDATE 1"]),
                (2, cas_version(s - q, 0), &["T2 waits"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 1), row(s, 0)],
        );
    }
}

pub fn pattern_b_version_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        // The table: "S1: T2 gets UPDATE 0 without waiting" (RC); 40001 otherwise.
        let t2_write: &[&str] = if iso == RC {
            &["T2 UPDATE 0"]
        } else {
            &["T2 ERROR 40001"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("b S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_version(s - q, 0), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, cas_version(s - q, 0), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 1), row(s, 0)],
        );
    }
}

pub fn pattern_b_value_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let t2_write: &[&str] = if iso == RC {
            &["T2 UPDATE 0"]
        } else {
            &["T2 ERROR 40001"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("b' S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_value(s - q, s), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, cas_value(s - q, s), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn b_version_cas_s1_read_committed(new: NewBackend) {
    pattern_b_version_s1(new, RC)
}
pub fn b_version_cas_s1_repeatable_read(new: NewBackend) {
    pattern_b_version_s1(new, RR)
}
pub fn b_version_cas_s1_serializable(new: NewBackend) {
    pattern_b_version_s1(new, SER)
}
pub fn b_version_cas_s2_read_committed(new: NewBackend) {
    pattern_b_version_s2(new, RC)
}
pub fn b_version_cas_s2_repeatable_read(new: NewBackend) {
    pattern_b_version_s2(new, RR)
}
pub fn b_version_cas_s2_serializable(new: NewBackend) {
    pattern_b_version_s2(new, SER)
}
pub fn b_value_cas_s1_read_committed(new: NewBackend) {
    pattern_b_value_s1(new, RC)
}
pub fn b_value_cas_s1_repeatable_read(new: NewBackend) {
    pattern_b_value_s1(new, RR)
}
pub fn b_value_cas_s1_serializable(new: NewBackend) {
    pattern_b_value_s1(new, SER)
}

// ---- c) SELECT ... FOR UPDATE, then UPDATE ---------------------------------

pub fn pattern_c(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let lock1 = format!("T1 {}", sel(s, 0));
        let resumed_rc = format!("T2 {} (resumed)", sel(s - q, 0));
        let after: Vec<&str> = if iso == RC {
            vec!["T1 COMMIT", &resumed_rc]
        } else {
            vec!["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        // The application now decides on the row it got: at RC it sees too
        // little and sells nothing; at RR/SER its next statement gets 25P02.
        let app: Vec<String> = if iso == RC {
            vec![format!("T2 {}", sel(s - q, 0))]
        } else {
            vec!["T2 ERROR 25P02".into()]
        };
        let app: Vec<&str> = app.iter().map(String::as_str).collect();
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("c", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, for_update(), &[&lock1]),
                (2, for_update(), &["T2 waits"]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (1, COMMIT, &after),
                (2, select(), &app),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

/// c2: T2 reads first (plain), then asks for the lock after T1 wrote.
pub fn pattern_c2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read1 = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let resumed_rc = format!("T2 {} (resumed)", sel(s - q, 0));
        let after: Vec<&str> = if iso == RC {
            vec!["T1 COMMIT", &resumed_rc]
        } else {
            vec!["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("c2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read1]),
                (2, select(), &[&read2]),
                (1, for_update(), &[&read1]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (2, for_update(), &["T2 waits"]),
                (1, COMMIT, &after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn c_select_for_update_read_committed(new: NewBackend) {
    pattern_c(new, RC)
}
pub fn c_select_for_update_repeatable_read(new: NewBackend) {
    pattern_c(new, RR)
}
pub fn c_select_for_update_serializable(new: NewBackend) {
    pattern_c(new, SER)
}
pub fn c2_plain_read_then_for_update_read_committed(new: NewBackend) {
    pattern_c2(new, RC)
}
pub fn c2_plain_read_then_for_update_repeatable_read(new: NewBackend) {
    pattern_c2(new, RR)
}
pub fn c2_plain_read_then_for_update_serializable(new: NewBackend) {
    pattern_c2(new, SER)
}

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

const ID2: LevelId = LevelId(1);

fn decrement_level(level: LevelId, q: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-q),
        ..Update::new(level)
    })
}

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

// ---- g) check available from reservation rows, then insert one ------------

fn available() -> Statement {
    Statement::Available { level: ID1 }
}
fn reserve(q: i64) -> Statement {
    Statement::InsertReservation {
        level: ID1,
        quantity: q,
    }
}

/// Runs pattern g and returns the store, for the reservation check.
pub fn pattern_g(new: NewBackend, iso: Isolation, s1: bool) {
    for (s, q) in PAIRS {
        let avail = [format!("T1 SELECT 1 ({s})"), format!("T2 SELECT 1 ({s})")];
        let label = label(if s1 { "g S1" } else { "g S2" }, iso, s, q);
        let mut store = new(&[row(s, 0), row(s, 0)], 2, StoreConfig::default());
        let mut out = Vec::new();
        let mut step =
            |store: &mut Box<dyn Backend>, t: u32, statement: Statement| -> Vec<String> {
                out.clear();
                store.execute(SessionId(t - 1), statement, &mut out);
                describe(&out)
            };
        step(&mut store, 1, begin(iso));
        step(&mut store, 2, begin(iso));
        assert_eq!(
            step(&mut store, 1, available()),
            [avail[0].as_str()],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 2, available()),
            [avail[1].as_str()],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 1, reserve(q)),
            ["T1 INSERT 0 1"],
            "{label}"
        );
        let serializable = iso == SER;
        if s1 {
            assert_eq!(step(&mut store, 1, COMMIT), ["T1 COMMIT"], "{label}");
            // S1: T2's write closes the structure after T1 committed: 40001 at the write.
            let t2_insert = if serializable {
                "T2 ERROR 40001"
            } else {
                "T2 INSERT 0 1"
            };
            assert_eq!(step(&mut store, 2, reserve(q)), [t2_insert], "{label}");
            let t2_commit = if serializable {
                "T2 ROLLBACK"
            } else {
                "T2 COMMIT"
            };
            assert_eq!(step(&mut store, 2, COMMIT), [t2_commit], "{label}");
        } else {
            // S2 (the transcript): both inserts succeed; T2 fails at COMMIT.
            assert_eq!(
                step(&mut store, 2, reserve(q)),
                ["T2 INSERT 0 1"],
                "{label}"
            );
            assert_eq!(step(&mut store, 1, COMMIT), ["T1 COMMIT"], "{label}");
            let t2_commit = if serializable {
                "T2 ERROR 40001"
            } else {
                "T2 COMMIT"
            };
            assert_eq!(step(&mut store, 2, COMMIT), [t2_commit], "{label}");
        }
        let reserved = if serializable { q } else { 2 * q };
        assert_eq!(store.committed_reservations(ID1), reserved, "{label}");
        // Available afterwards: -1 / -1 (write skew), or 0 / 2 at SERIALIZABLE.
        let after = step(&mut store, 1, available());
        assert_eq!(
            after,
            [format!("T1 SELECT 1 ({})", s - reserved)],
            "{label}"
        );
        assert_eq!(
            store.committed_rows(),
            vec![row(s, 0), row(s, 0)],
            "{label}"
        );
    }
}

pub fn g_check_then_insert_reservation_s2_read_committed(new: NewBackend) {
    pattern_g(new, RC, false)
}
pub fn g_check_then_insert_reservation_s2_repeatable_read(new: NewBackend) {
    pattern_g(new, RR, false)
}
pub fn g_check_then_insert_reservation_s2_serializable(new: NewBackend) {
    pattern_g(new, SER, false)
}
pub fn g_check_then_insert_reservation_s1_read_committed(new: NewBackend) {
    pattern_g(new, RC, true)
}
pub fn g_check_then_insert_reservation_s1_repeatable_read(new: NewBackend) {
    pattern_g(new, RR, true)
}
pub fn g_check_then_insert_reservation_s1_serializable(new: NewBackend) {
    pattern_g(new, SER, true)
}

/// SERIALIZABLE: if only one of the two transactions writes, nothing aborts.
pub fn g_serializable_with_one_writer_aborts_nothing(new: NewBackend) {
    check(
        new,
        "g one writer",
        StoreConfig::default(),
        1,
        &[
            (1, begin(SER), &["T1 BEGIN"]),
            (2, begin(SER), &["T2 BEGIN"]),
            (1, available(), &["T1 SELECT 1 (1)"]),
            (2, available(), &["T2 SELECT 1 (1)"]),
            (1, reserve(1), &["T1 INSERT 0 1"]),
            (1, COMMIT, &["T1 COMMIT"]),
            (2, COMMIT, &["T2 COMMIT"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}

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

/// One named test per pattern, on the backend `$new` makes.
#[macro_export]
macro_rules! conformance_tests {
    ($new:expr) => {
        #[test]
        fn three_waiters_queue_behind_the_first() {
            conformance::locks::three_waiters_queue_behind_the_first(&$new)
        }
        #[test]
        fn three_waiters_follow_each_update() {
            conformance::locks::three_waiters_follow_each_update(&$new)
        }
        #[test]
        fn a_queued_waiter_closes_a_three_session_cycle() {
            conformance::locks::a_queued_waiter_closes_a_three_session_cycle(&$new)
        }
        #[test]
        fn a_cycle_closed_by_a_queue_edge_fails_the_checker() {
            conformance::locks::a_cycle_closed_by_a_queue_edge_fails_the_checker(&$new)
        }
        #[test]
        fn a_check_without_a_cycle_changes_nothing() {
            conformance::locks::a_check_without_a_cycle_changes_nothing(&$new)
        }
        #[test]
        fn a_newcomer_queues_on_the_newest_versions_tuple_lock() {
            conformance::locks::a_newcomer_queues_on_the_newest_versions_tuple_lock(&$new)
        }
        #[test]
        fn ssi_read_only_reader_is_no_danger() {
            conformance::ssi::ssi_read_only_reader_is_no_danger(&$new)
        }
        #[test]
        fn ssi_reservation_reads_lock_the_whole_table() {
            conformance::ssi::ssi_reservation_reads_lock_the_whole_table(&$new)
        }
        #[test]
        fn epq_failure_keeps_the_row_locked() {
            conformance::epq_failure_keeps_the_row_locked(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s1_read_committed() {
            conformance::a_read_then_absolute_write_s1_read_committed(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s1_repeatable_read() {
            conformance::a_read_then_absolute_write_s1_repeatable_read(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s1_serializable() {
            conformance::a_read_then_absolute_write_s1_serializable(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s2_read_committed() {
            conformance::a_read_then_absolute_write_s2_read_committed(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s2_repeatable_read() {
            conformance::a_read_then_absolute_write_s2_repeatable_read(&$new)
        }
        #[test]
        fn a_read_then_absolute_write_s2_serializable() {
            conformance::a_read_then_absolute_write_s2_serializable(&$new)
        }
        #[test]
        fn b_version_cas_s1_read_committed() {
            conformance::b_version_cas_s1_read_committed(&$new)
        }
        #[test]
        fn b_version_cas_s1_repeatable_read() {
            conformance::b_version_cas_s1_repeatable_read(&$new)
        }
        #[test]
        fn b_version_cas_s1_serializable() {
            conformance::b_version_cas_s1_serializable(&$new)
        }
        #[test]
        fn b_version_cas_s2_read_committed() {
            conformance::b_version_cas_s2_read_committed(&$new)
        }
        #[test]
        fn b_version_cas_s2_repeatable_read() {
            conformance::b_version_cas_s2_repeatable_read(&$new)
        }
        #[test]
        fn b_version_cas_s2_serializable() {
            conformance::b_version_cas_s2_serializable(&$new)
        }
        #[test]
        fn b_value_cas_s1_read_committed() {
            conformance::b_value_cas_s1_read_committed(&$new)
        }
        #[test]
        fn b_value_cas_s1_repeatable_read() {
            conformance::b_value_cas_s1_repeatable_read(&$new)
        }
        #[test]
        fn b_value_cas_s1_serializable() {
            conformance::b_value_cas_s1_serializable(&$new)
        }
        #[test]
        fn c_select_for_update_read_committed() {
            conformance::c_select_for_update_read_committed(&$new)
        }
        #[test]
        fn c_select_for_update_repeatable_read() {
            conformance::c_select_for_update_repeatable_read(&$new)
        }
        #[test]
        fn c_select_for_update_serializable() {
            conformance::c_select_for_update_serializable(&$new)
        }
        #[test]
        fn c2_plain_read_then_for_update_read_committed() {
            conformance::c2_plain_read_then_for_update_read_committed(&$new)
        }
        #[test]
        fn c2_plain_read_then_for_update_repeatable_read() {
            conformance::c2_plain_read_then_for_update_repeatable_read(&$new)
        }
        #[test]
        fn c2_plain_read_then_for_update_serializable() {
            conformance::c2_plain_read_then_for_update_serializable(&$new)
        }
        #[test]
        fn d_relative_decrement_read_committed_oversells() {
            conformance::d_relative_decrement_read_committed_oversells(&$new)
        }
        #[test]
        fn d_relative_decrement_read_committed_with_check_constraint() {
            conformance::d_relative_decrement_read_committed_with_check_constraint(&$new)
        }
        #[test]
        fn d_relative_decrement_repeatable_read() {
            conformance::d_relative_decrement_repeatable_read(&$new)
        }
        #[test]
        fn d_relative_decrement_serializable() {
            conformance::d_relative_decrement_serializable(&$new)
        }
        #[test]
        fn e_guarded_decrement_read_committed() {
            conformance::e_guarded_decrement_read_committed(&$new)
        }
        #[test]
        fn e_guarded_decrement_repeatable_read() {
            conformance::e_guarded_decrement_repeatable_read(&$new)
        }
        #[test]
        fn e_guarded_decrement_serializable() {
            conformance::e_guarded_decrement_serializable(&$new)
        }
        #[test]
        fn e2_guarded_decrement_after_commit_read_committed() {
            conformance::e2_guarded_decrement_after_commit_read_committed(&$new)
        }
        #[test]
        fn e2_guarded_decrement_after_commit_repeatable_read() {
            conformance::e2_guarded_decrement_after_commit_repeatable_read(&$new)
        }
        #[test]
        fn e2_guarded_decrement_after_commit_serializable() {
            conformance::e2_guarded_decrement_after_commit_serializable(&$new)
        }
        #[test]
        fn e_guarded_decrement_three_buyers_read_committed() {
            conformance::e_guarded_decrement_three_buyers_read_committed(&$new)
        }
        #[test]
        fn waiter_proceeds_on_original_row_when_holder_aborts() {
            conformance::waiter_proceeds_on_original_row_when_holder_aborts(&$new)
        }
        #[test]
        fn plain_select_never_blocks_and_sees_committed_data() {
            conformance::plain_select_never_blocks_and_sees_committed_data(&$new)
        }
        #[test]
        fn f_opposite_order_deadlock_read_committed() {
            conformance::f_opposite_order_deadlock_read_committed(&$new)
        }
        #[test]
        fn f_opposite_order_deadlock_repeatable_read() {
            conformance::f_opposite_order_deadlock_repeatable_read(&$new)
        }
        #[test]
        fn f_opposite_order_deadlock_serializable() {
            conformance::f_opposite_order_deadlock_serializable(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s2_read_committed() {
            conformance::g_check_then_insert_reservation_s2_read_committed(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s2_repeatable_read() {
            conformance::g_check_then_insert_reservation_s2_repeatable_read(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s2_serializable() {
            conformance::g_check_then_insert_reservation_s2_serializable(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s1_read_committed() {
            conformance::g_check_then_insert_reservation_s1_read_committed(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s1_repeatable_read() {
            conformance::g_check_then_insert_reservation_s1_repeatable_read(&$new)
        }
        #[test]
        fn g_check_then_insert_reservation_s1_serializable() {
            conformance::g_check_then_insert_reservation_s1_serializable(&$new)
        }
        #[test]
        fn g_serializable_with_one_writer_aborts_nothing() {
            conformance::g_serializable_with_one_writer_aborts_nothing(&$new)
        }
        #[test]
        fn for_update_nowait_fails_at_once_with_55p03() {
            conformance::for_update_nowait_fails_at_once_with_55p03(&$new)
        }
        #[test]
        fn advisory_locks_wait_like_row_locks_and_end_with_the_transaction() {
            conformance::advisory_locks_wait_like_row_locks_and_end_with_the_transaction(&$new)
        }
        #[test]
        fn an_error_releases_locks_before_the_client_rolls_back() {
            conformance::an_error_releases_locks_before_the_client_rolls_back(&$new)
        }
        #[test]
        fn repeatable_read_fails_at_once_when_its_version_was_replaced_even_if_the_row_is_locked() {
            conformance::repeatable_read_fails_at_once_when_its_version_was_replaced_even_if_the_row_is_locked(&$new)
        }
        #[test]
        fn advisory_lock_waiters_queue_without_waiting_again() {
            conformance::advisory_lock_waiters_queue_without_waiting_again(&$new)
        }
    };
}
