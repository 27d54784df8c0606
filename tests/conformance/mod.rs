//! The conformance reference (tests/conformance/reference/postgres-15.md) as
//! runnable scripts, for what its transcripts do not record: every
//! statement's result (or wait, or SQLSTATE) and the final rows, as
//! PostgreSQL 15 gave them, in the schedules and variants of patterns a-g
//! the transcripts lack, and the lock queues, deadlock checks, SSI and
//! error rules found since. The transcripts themselves are replayed by
//! tests/conformance_postgres_transcripts.rs. Each script runs on any
//! [`Backend`]: `conformance_model.rs` runs them on the model,
//! `conformance_postgres.rs` on a real server.
//!
//! Each step lists everything the store reports for one statement: its own
//! result, then any waiting statement it let finish ("(resumed)").
//! The store holds two rows, as in the reference: id 1 is bought, id 2 is a
//! bystander that must stay untouched.

#![allow(dead_code)]

mod decrements;
pub mod locks;
mod read_then_write;
mod reservations;
pub mod ssi;
mod waits_and_errors;

pub use decrements::*;
pub use read_then_write::*;
pub use reservations::*;
pub use waits_and_errors::*;

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
/// The second row: a bystander in patterns a-e, the second item in f and
/// in the lock scripts.
const ID2: LevelId = LevelId(1);

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
        version: Assign::Add(1),
        guard: Guard::Version(version),
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

fn decrement_level(level: LevelId, q: i64) -> Statement {
    Statement::Update(Update {
        stocked: Assign::Add(-q),
        ..Update::new(level)
    })
}

fn sel(s: i64, v: i64) -> String {
    format!("SELECT 1 ({s},0,{v})")
}

/// Label for assertion messages.
fn label(pattern: &str, iso: Isolation, s: i64, q: i64) -> String {
    format!("{pattern} [{}] stock={s} q={q}", iso.sql())
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
        fn d_relative_decrement_read_committed_with_check_constraint() {
            conformance::d_relative_decrement_read_committed_with_check_constraint(&$new)
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
