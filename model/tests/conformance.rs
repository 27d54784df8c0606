//! The model against ../shared/conformance/postgres-15.md: every statement's
//! result (or wait, or SQLSTATE) and the final rows, as PostgreSQL 15 gave
//! them, for patterns a-e, schedules S1 and S2, stock 1 / q 1 and stock 5 / q 3.
//!
//! Each step lists everything the store reports for one statement: its own
//! result, then any waiting statement it let finish ("(resumed)").
//! The store holds two rows, as in the reference: id 1 is bought, id 2 is a
//! bystander that must stay untouched.

use stockrace_model::{
    Assign, Event, Guard, Isolation, LevelId, Lock, Progress, Row, SessionId, Statement, Store,
    StoreConfig, Update,
};

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

fn describe(event: &Event) -> String {
    let result = match event.progress {
        Progress::Done(Ok(reply)) => reply.to_string(),
        Progress::Done(Err(e)) => format!("ERROR {}", e.state),
        Progress::Waiting { on } => format!("waits for {on}"),
    };
    let resumed = if event.resumed { " (resumed)" } else { "" };
    format!("{} {result}{resumed}", event.session)
}

/// Runs the steps (order 1 or 2, statement, expected reports) and checks the final rows.
fn check(
    label: &str,
    config: StoreConfig,
    start: i64,
    steps: &[(u32, Statement, &[&str])],
    final_rows: [Row; 2],
) {
    let mut store = Store::new(&[row(start, 0), row(start, 0)], 3, config);
    let mut out = Vec::new();
    for (i, (t, statement, expected)) in steps.iter().enumerate() {
        out.clear();
        store.execute(SessionId(t - 1), *statement, &mut out);
        let got: Vec<String> = out.iter().map(describe).collect();
        assert_eq!(
            got,
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

fn pattern_a_s1(iso: Isolation) {
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

fn pattern_a_s2(iso: Isolation) {
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
            &label("a S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (2, set(s - q), &["T2 waits for T1"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            // RC: both sold, stock shows one sale (the lost update).
            [row(s - q, 0), row(s, 0)],
        );
    }
}

#[test]
fn a_read_then_absolute_write_s1_read_committed() {
    pattern_a_s1(RC)
}
#[test]
fn a_read_then_absolute_write_s1_repeatable_read() {
    pattern_a_s1(RR)
}
#[test]
fn a_read_then_absolute_write_s1_serializable() {
    pattern_a_s1(SER)
}
#[test]
fn a_read_then_absolute_write_s2_read_committed() {
    pattern_a_s2(RC)
}
#[test]
fn a_read_then_absolute_write_s2_repeatable_read() {
    pattern_a_s2(RR)
}
#[test]
fn a_read_then_absolute_write_s2_serializable() {
    pattern_a_s2(SER)
}

// ---- b) version CAS, b') value CAS -----------------------------------------

fn pattern_b_version_s2(iso: Isolation) {
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
            &label("b S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_version(s - q, 0), &["T1 UPDATE 1"]),
                (2, cas_version(s - q, 0), &["T2 waits for T1"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 1), row(s, 0)],
        );
    }
}

fn pattern_b_version_s1(iso: Isolation) {
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

fn pattern_b_value_s1(iso: Isolation) {
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

#[test]
fn b_version_cas_s1_read_committed() {
    pattern_b_version_s1(RC)
}
#[test]
fn b_version_cas_s1_repeatable_read() {
    pattern_b_version_s1(RR)
}
#[test]
fn b_version_cas_s1_serializable() {
    pattern_b_version_s1(SER)
}
#[test]
fn b_version_cas_s2_read_committed() {
    pattern_b_version_s2(RC)
}
#[test]
fn b_version_cas_s2_repeatable_read() {
    pattern_b_version_s2(RR)
}
#[test]
fn b_version_cas_s2_serializable() {
    pattern_b_version_s2(SER)
}
#[test]
fn b_value_cas_s1_read_committed() {
    pattern_b_value_s1(RC)
}
#[test]
fn b_value_cas_s1_repeatable_read() {
    pattern_b_value_s1(RR)
}
#[test]
fn b_value_cas_s1_serializable() {
    pattern_b_value_s1(SER)
}

// ---- c) SELECT ... FOR UPDATE, then UPDATE ---------------------------------

fn pattern_c(iso: Isolation) {
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
            &label("c", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, for_update(), &[&lock1]),
                (2, for_update(), &["T2 waits for T1"]),
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
fn pattern_c2(iso: Isolation) {
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
                (2, for_update(), &["T2 waits for T1"]),
                (1, COMMIT, &after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

#[test]
fn c_select_for_update_read_committed() {
    pattern_c(RC)
}
#[test]
fn c_select_for_update_repeatable_read() {
    pattern_c(RR)
}
#[test]
fn c_select_for_update_serializable() {
    pattern_c(SER)
}
#[test]
fn c2_plain_read_then_for_update_read_committed() {
    pattern_c2(RC)
}
#[test]
fn c2_plain_read_then_for_update_repeatable_read() {
    pattern_c2(RR)
}
#[test]
fn c2_plain_read_then_for_update_serializable() {
    pattern_c2(SER)
}

// ---- d) relative decrement -------------------------------------------------

fn pattern_d(iso: Isolation, config: StoreConfig) {
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
            &label("d", iso, s, q),
            config,
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, decrement(q), &["T1 UPDATE 1"]),
                (2, decrement(q), &["T2 waits for T1"]),
                (1, COMMIT, &after),
                (2, COMMIT, t2_commit),
            ],
            [row(stocked, 0), row(s, 0)],
        );
    }
}

#[test]
fn d_relative_decrement_read_committed_oversells() {
    pattern_d(RC, StoreConfig::default())
}
#[test]
fn d_relative_decrement_read_committed_with_check_constraint() {
    pattern_d(
        RC,
        StoreConfig {
            check_nonnegative: true,
        },
    )
}
#[test]
fn d_relative_decrement_repeatable_read() {
    pattern_d(RR, StoreConfig::default())
}
#[test]
fn d_relative_decrement_serializable() {
    pattern_d(SER, StoreConfig::default())
}

// ---- e) guarded decrement --------------------------------------------------

fn pattern_e(iso: Isolation) {
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
            &label("e", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, guarded(q), &["T1 UPDATE 1"]),
                (2, guarded(q), &["T2 waits for T1"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

/// e2: T2 begins after T1 committed, so even a REPEATABLE READ snapshot sees
/// T1's write: UPDATE 0 at every level.
fn pattern_e2(iso: Isolation) {
    for (s, q) in PAIRS {
        check(
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

#[test]
fn e_guarded_decrement_read_committed() {
    pattern_e(RC)
}
#[test]
fn e_guarded_decrement_repeatable_read() {
    pattern_e(RR)
}
#[test]
fn e_guarded_decrement_serializable() {
    pattern_e(SER)
}
#[test]
fn e2_guarded_decrement_after_commit_read_committed() {
    pattern_e2(RC)
}
#[test]
fn e2_guarded_decrement_after_commit_repeatable_read() {
    pattern_e2(RR)
}
#[test]
fn e2_guarded_decrement_after_commit_serializable() {
    pattern_e2(SER)
}

/// The table's e) note: three buyers, stock 5, q 2 -> 3, 1, then UPDATE 0.
/// The third waits behind the second in queue order.
#[test]
fn e_guarded_decrement_three_buyers_read_committed() {
    check(
        "e three buyers",
        StoreConfig::default(),
        5,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (3, begin(RC), &["T3 BEGIN"]),
            (1, guarded(2), &["T1 UPDATE 1"]),
            (2, guarded(2), &["T2 waits for T1"]),
            (3, guarded(2), &["T3 waits for T1"]),
            (
                1,
                COMMIT,
                &[
                    "T1 COMMIT",
                    "T2 UPDATE 1 (resumed)",
                    "T3 waits for T2 (resumed)",
                ],
            ),
            (2, COMMIT, &["T2 COMMIT", "T3 UPDATE 0 (resumed)"]),
            (3, COMMIT, &["T3 COMMIT"]),
        ],
        [row(1, 0), row(5, 0)],
    );
}

/// A waiter whose lock holder rolls back goes on with the original row.
#[test]
fn waiter_proceeds_on_original_row_when_holder_aborts() {
    for iso in [RC, RR, SER] {
        check(
            &label("abort", iso, 1, 1),
            StoreConfig::default(),
            1,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, guarded(1), &["T1 UPDATE 1"]),
                (2, guarded(1), &["T2 waits for T1"]),
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
#[test]
fn plain_select_never_blocks_and_sees_committed_data() {
    check(
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

fn pattern_f(iso: Isolation) {
    for (s, q) in PAIRS {
        let label = label("f", iso, s, q);
        let mut store = Store::new(&[row(s, 0), row(s, 0)], 2, StoreConfig::default());
        let mut out = Vec::new();
        let mut step = |store: &mut Store, t: u32, statement: Statement| -> Vec<String> {
            out.clear();
            store.execute(SessionId(t - 1), statement, &mut out);
            out.iter().map(describe).collect()
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
            ["T1 waits for T2"],
            "{label}"
        );
        // No cycle yet: a deadline passing now finds nothing.
        let mut events = Vec::new();
        assert!(!store.deadlock_check(SessionId(0), &mut events), "{label}");
        assert!(events.is_empty());
        assert_eq!(
            step(&mut store, 2, decrement_level(ID1, q)),
            ["T2 waits for T1"],
            "{label}"
        );
        assert!(store.in_deadlock(SessionId(0)) && store.in_deadlock(SessionId(1)));
        // T1's deadline runs out first: it is the victim, and its abort
        // releases id 1 at once, so T2 goes on before T1 ends its transaction.
        assert!(store.deadlock_check(SessionId(0), &mut events), "{label}");
        let got: Vec<String> = events.iter().map(describe).collect();
        assert_eq!(
            got,
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

#[test]
fn f_opposite_order_deadlock_read_committed() {
    pattern_f(RC)
}
#[test]
fn f_opposite_order_deadlock_repeatable_read() {
    pattern_f(RR)
}
#[test]
fn f_opposite_order_deadlock_serializable() {
    pattern_f(SER)
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
fn pattern_g(iso: Isolation, s1: bool) {
    for (s, q) in PAIRS {
        let avail = [format!("T1 SELECT 1 ({s})"), format!("T2 SELECT 1 ({s})")];
        let label = label(if s1 { "g S1" } else { "g S2" }, iso, s, q);
        let mut store = Store::new(&[row(s, 0), row(s, 0)], 2, StoreConfig::default());
        let mut out = Vec::new();
        let mut step = |store: &mut Store, t: u32, statement: Statement| -> Vec<String> {
            out.clear();
            store.execute(SessionId(t - 1), statement, &mut out);
            out.iter().map(describe).collect()
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

#[test]
fn g_check_then_insert_reservation_s2_read_committed() {
    pattern_g(RC, false)
}
#[test]
fn g_check_then_insert_reservation_s2_repeatable_read() {
    pattern_g(RR, false)
}
#[test]
fn g_check_then_insert_reservation_s2_serializable() {
    pattern_g(SER, false)
}
#[test]
fn g_check_then_insert_reservation_s1_read_committed() {
    pattern_g(RC, true)
}
#[test]
fn g_check_then_insert_reservation_s1_repeatable_read() {
    pattern_g(RR, true)
}
#[test]
fn g_check_then_insert_reservation_s1_serializable() {
    pattern_g(SER, true)
}

/// SERIALIZABLE: if only one of the two transactions writes, nothing aborts.
#[test]
fn g_serializable_with_one_writer_aborts_nothing() {
    check(
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

#[test]
fn for_update_nowait_fails_at_once_with_55p03() {
    check(
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

#[test]
fn advisory_locks_wait_like_row_locks_and_end_with_the_transaction() {
    let lock = Statement::AdvisoryLock { key: 7 };
    check(
        "advisory",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (1, lock, &["T1 SELECT 1"]),
            (2, lock, &["T2 waits for T1"]),
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
#[test]
fn an_error_releases_locks_before_the_client_rolls_back() {
    check(
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
            (2, decrement(1), &["T2 waits for T1"]),
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
#[test]
fn repeatable_read_fails_at_once_when_its_version_was_replaced_even_if_the_row_is_locked() {
    for iso in [RR, SER] {
        check(
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
#[test]
fn advisory_lock_waiters_queue_without_waiting_again() {
    let lock = Statement::AdvisoryLock { key: 1 };
    check(
        "advisory queue",
        StoreConfig::default(),
        1,
        &[
            (1, begin(RC), &["T1 BEGIN"]),
            (1, lock, &["T1 SELECT 1"]),
            (2, begin(RC), &["T2 BEGIN"]),
            (2, lock, &["T2 waits for T1"]),
            (3, begin(RC), &["T3 BEGIN"]),
            (3, lock, &["T3 waits for T1"]),
            (1, COMMIT, &["T1 COMMIT", "T2 SELECT 1 (resumed)"]),
            (2, COMMIT, &["T2 COMMIT", "T3 SELECT 1 (resumed)"]),
            (3, COMMIT, &["T3 COMMIT"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}
