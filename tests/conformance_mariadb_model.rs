//! The MariaDB 10.11 reference transcripts
//! (tests/conformance/reference/mariadb-10.11-transcripts.txt) replayed on
//! the InnoDB model, statement by statement: every result, error (number,
//! SQLSTATE and whether the transaction survived), wait, and every waiting
//! statement that returned in between, then the final rows. A case either
//! passes or is in [`SKIPPED`] with the reason; a skipped case that starts
//! passing fails the test, so the list cannot go stale.
//!
//! Run it with `cargo test --test conformance_mariadb_model -- --nocapture`
//! to see the count.

mod transcripts;

use stockrace::model::mariadb::{InnoDbConfig, InnoDbStore};
use stockrace::model::{Event, LevelId, Progress, Reply, Row, SessionId, Statement};
use transcripts::sql::{translate, Action, Columns};
use transcripts::{Outcome, Py, Step, Transcript};

const REFERENCE: &str = include_str!("conformance/reference/mariadb-10.11-transcripts.txt");

/// Cases the model does not run, by key (every setting of it), and why.
/// Each is a statement the model's vocabulary (`Statement`) lacks.
const SKIPPED: &[(&str, &str)] = &[
    (
        "g-lock1",
        "`SELECT coalesce(sum(quantity),0) FROM reservation`: no SUM-only statement \
         (Statement::Available is stock minus the SUM)",
    ),
    ("g-lock2", "the SUM-only statement, as g-lock1"),
    (
        "g-lock3",
        "the availability read `... FOR UPDATE`: Statement::Available has no locking form",
    ),
    (
        "semi",
        "`UPDATE ... WHERE stocked_quantity=2` scans the table (semi-consistent read); \
         the model's UPDATEs find their row by primary key",
    ),
    (
        "c-skiplocked",
        "`FOR UPDATE SKIP LOCKED` over two rows: no Lock::SkipLocked",
    ),
    (
        "c-wait1",
        "`FOR UPDATE WAIT 1`: Lock has no per-statement timeout",
    ),
    (
        "snap1b",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT: Statement::Begin opens no read view",
    ),
];

/// Initial stock where the header does not say it.
const STOCK: &[(&str, i64)] = &[("snap3", 5), ("semi", 5)];

/// What the model's reply looks like in the transcript's terms: tag and rows.
fn render(
    reply: Reply,
    columns: Columns,
    returning: bool,
    level: Option<LevelId>,
) -> (String, Option<Vec<Vec<i64>>>) {
    match reply {
        Reply::Begin => ("BEGIN".into(), None),
        Reply::Commit => ("COMMIT".into(), None),
        Reply::Rollback => ("ROLLBACK".into(), None),
        Reply::Insert => ("INSERT 1".into(), None),
        Reply::Locked => ("SELECT 1".into(), None),
        Reply::Value(v) => ("SELECT 1".into(), Some(vec![vec![v]])),
        Reply::Select(row) => {
            let row = row.unwrap_or_default();
            let values = match columns {
                Columns::StockedVersion => vec![row.stocked, row.version],
                Columns::Available => vec![row.stocked - row.reserved],
                Columns::IdStocked => vec![i64::from(level.map_or(0, |l| l.sql_id())), row.stocked],
                _ => vec![row.stocked],
            };
            ("SELECT 1".into(), Some(vec![values]))
        }
        Reply::Update { count, row } => {
            let rows = returning.then(|| row.map(|r| vec![r.stocked]).into_iter().collect());
            (format!("UPDATE {count}"), rows)
        }
    }
}

fn expected(outcome: &Outcome) -> (String, Option<Vec<Vec<i64>>>) {
    let Outcome::Ok { tag, rows } = outcome else {
        unreachable!()
    };
    let tag = tag.split(" (").next().unwrap_or(tag).to_string();
    let rows = rows.as_ref().map(|rows| {
        rows.iter()
            .map(|r| r.iter().filter_map(Py::int).collect())
            .collect()
    });
    (tag, rows)
}

/// Checks one event against the transcript's outcome for it.
fn check_event(
    store: &InnoDbStore,
    event: &Event,
    outcome: &Outcome,
    columns: Columns,
    returning: bool,
) -> Result<(), String> {
    let got = match (event.progress, outcome) {
        (Progress::Done(Ok(reply)), Outcome::Ok { .. }) => {
            let got = render(reply, columns, returning, event.statement.level());
            if got == expected(outcome) {
                return Ok(());
            }
            format!("{got:?}")
        }
        (
            Progress::Done(Err(e)),
            Outcome::Err {
                code,
                sqlstate,
                in_trx,
            },
        ) => {
            let in_trx_now = store.in_transaction(event.session);
            if e.mariadb_code() == *code
                && e.state.code() == sqlstate
                && in_trx.is_none_or(|t| t == in_trx_now)
            {
                return Ok(());
            }
            format!("{e} (in transaction: {in_trx_now})")
        }
        (Progress::Waiting { on }, Outcome::Blocked { waits_for }) => {
            if waits_for.is_empty() || waits_for.contains(&(on.0 + 1)) {
                return Ok(());
            }
            format!("waits for {on}")
        }
        (progress, _) => format!("{progress:?}"),
    };
    Err(format!(
        "{}: expected {outcome:?}, the model gave {got}",
        event.session
    ))
}

/// Replays one case; `Err` says where it first differs (or that it cannot run).
fn replay(case: &Transcript) -> Result<(), String> {
    let four_columns = case.final_rows.first().is_some_and(|r| r.len() == 4);
    let rows = if four_columns {
        case.final_rows.len()
    } else {
        2
    };
    let stock = case
        .stock_in_name()
        .or_else(|| {
            STOCK
                .iter()
                .find(|(k, _)| *k == case.key())
                .map(|(_, s)| *s)
        })
        .unwrap_or(1);
    let config = InnoDbConfig {
        check_nonnegative: case.key() == "d-check",
        snapshot_isolation: case.snapshot_isolation == Some(true),
        ..InnoDbConfig::default()
    };
    let initial = vec![
        Row {
            stocked: stock,
            reserved: 0,
            version: 0
        };
        rows
    ];
    let mut store = InnoDbStore::new(&initial, 3, config);
    let mut now_ms = 0;
    let mut i = 0;
    while i < case.steps.len() {
        let Step::Sent {
            session,
            sql,
            outcome,
        } = &case.steps[i]
        else {
            return Err(format!(
                "step {}: an unblocked line with nothing before it",
                i + 1
            ));
        };
        let step = i + 1;
        let at = |e: String| format!("step {step} (T{session}: {sql}): {e}");
        let session = SessionId(session - 1);
        let mut others = Vec::new();
        match translate(sql, rows).map_err(at)? {
            Action::Run {
                statements,
                columns,
                returning,
            } => {
                let mut out = Vec::new();
                let mut own = Vec::new();
                for statement in &statements {
                    out.clear();
                    store.execute(session, *statement, &mut out);
                    own.push(out[0]);
                    others.extend(out[1..].iter().copied().filter(|e| {
                        !(e.resumed && matches!(e.progress, Progress::Waiting { .. }))
                    }));
                }
                if let [event] = own[..] {
                    check_event(&store, &event, outcome, columns, returning).map_err(at)?;
                } else {
                    // A multi-row statement sent one row at a time: each must
                    // complete; the counts (UPDATE) or rows (SELECT) add up.
                    let mut count = 0;
                    let mut got_rows = Vec::new();
                    for event in &own {
                        match (event.progress, columns) {
                            (Progress::Done(Ok(Reply::Update { count: c, .. })), _) => count += c,
                            (Progress::Done(Ok(reply)), _) => got_rows.extend(
                                render(reply, columns, false, event.statement.level())
                                    .1
                                    .unwrap_or_default(),
                            ),
                            (p, _) => {
                                return Err(at(format!(
                                    "a row of a multi-row statement gave {p:?}"
                                )))
                            }
                        }
                    }
                    let got = match columns {
                        Columns::None => (format!("UPDATE {count}"), None),
                        _ => (format!("SELECT {}", got_rows.len()), Some(got_rows)),
                    };
                    if got != expected(outcome) {
                        return Err(at(format!("expected {outcome:?}, the model gave {got:?}")));
                    }
                }
            }
            Action::Sleep(ms) => {
                now_ms += ms;
                store.time_passed(now_ms, &mut others);
            }
            Action::InTransaction => {
                let Outcome::Ok {
                    rows: Some(rows), ..
                } = outcome
                else {
                    return Err(at("no rows recorded".into()));
                };
                let expected = rows[0][0].int() == Some(i64::from(store.in_transaction(session)));
                let timeout = rows[0]
                    .get(1)
                    .is_none_or(|t| t.int() == Some((config.lock_wait_timeout_ms / 1000) as i64));
                if !expected || !timeout {
                    return Err(at(format!(
                        "in transaction: {}",
                        store.in_transaction(session)
                    )));
                }
            }
            Action::Literal | Action::Nothing => {}
        }
        // The waiting statements that returned before the next step.
        i += 1;
        let mut expected_unblocked = Vec::new();
        while let Some(Step::Unblocked { session, outcome }) = case.steps.get(i) {
            expected_unblocked.push((*session, outcome));
            i += 1;
        }
        // One that returned on its own (a lock wait timeout): let time pass.
        while others.len() < expected_unblocked.len() {
            let Some(deadline) = store.next_timeout_ms() else {
                break;
            };
            now_ms = now_ms.max(deadline);
            store.time_passed(now_ms, &mut others);
        }
        if others.len() != expected_unblocked.len() {
            let got: Vec<_> = others
                .iter()
                .map(|e| format!("{} {:?}", e.session, e.progress))
                .collect();
            return Err(at(format!(
                "expected {} statement(s) to return meanwhile, the model returned {got:?}",
                expected_unblocked.len()
            )));
        }
        for (event, (who, outcome)) in others.iter().zip(expected_unblocked) {
            if event.session.0 + 1 != who {
                return Err(at(format!(
                    "expected T{who} to return, the model returned {}",
                    event.session
                )));
            }
            check_event(
                &store,
                event,
                outcome,
                columns_for(&event.statement),
                returning_for(case, i, who),
            )
            .map_err(at)?;
        }
    }
    check_final(case, &store)
}

/// The columns a waiting statement selected, from its statement.
fn columns_for(statement: &Statement) -> Columns {
    match statement {
        Statement::Available { .. } => Columns::Available,
        _ => Columns::Stocked,
    }
}

/// Whether T`who`'s last sent statement before step `i` was an UPDATE ... RETURNING.
fn returning_for(case: &Transcript, i: usize, who: u32) -> bool {
    case.steps[..i].iter().rev().find_map(|s| match s {
        Step::Sent { session, sql, .. } if *session == who => {
            Some(sql.ends_with("RETURNING stocked_quantity"))
        }
        _ => None,
    }) == Some(true)
}

fn check_final(case: &Transcript, store: &InnoDbStore) -> Result<(), String> {
    let rows = store.committed_rows();
    let got: Vec<Vec<i64>> = if case.final_rows.first().is_some_and(|r| r.len() == 4) {
        rows.iter()
            .enumerate()
            .map(|(i, r)| vec![i as i64 + 1, r.stocked, r.reserved, r.version])
            .collect()
    } else {
        // The reservation cases: (stock of id 1 minus its reservations, reservation rows).
        let count = store
            .levels()
            .map(|l| store.committed_reservation_count(l) as i64)
            .sum();
        vec![vec![
            rows[0].stocked - store.committed_reservations(LevelId(0)),
            count,
        ]]
    };
    if got == case.final_rows {
        Ok(())
    } else {
        Err(format!(
            "final rows: expected {:?}, the model has {got:?}",
            case.final_rows
        ))
    }
}

#[test]
fn every_mariadb_transcript_passes_or_is_skipped_with_a_reason() {
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    assert_eq!(cases.len(), 257, "cases in the reference");
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    let (mut passed, mut skipped) = (0, 0);
    for case in &cases {
        let result = replay(case);
        match SKIPPED.iter().find(|(key, _)| *key == case.key()) {
            Some(_) if result.is_ok() => stale.push(case.label()),
            Some(_) => skipped += 1,
            None => match result {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("{} (line {}): {e}", case.label(), case.line)),
            },
        }
    }
    println!(
        "MariaDB transcripts on the InnoDB model: {passed} of {} pass, {skipped} skipped",
        cases.len()
    );
    assert!(
        stale.is_empty(),
        "skipped but passing now, take them off SKIPPED: {stale:#?}"
    );
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_skip_names_a_case() {
    let cases = transcripts::parse(REFERENCE).expect("the reference parses");
    for (key, reason) in SKIPPED {
        assert!(!reason.is_empty());
        assert!(
            cases.iter().any(|c| c.key() == *key),
            "no case {key} in the reference"
        );
    }
}
