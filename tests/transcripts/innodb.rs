//! The driver that replays the MariaDB 10.11 reference transcripts
//! (tests/conformance/reference/mariadb-10.11-transcripts.txt) on anything
//! that answers as InnoDB does: the model (`InnoDbStore`,
//! tests/conformance_mariadb_model.rs) and a real server
//! (`MariaDbBackend`, tests/conformance_mariadb.rs). Statement by
//! statement it checks every result, error (number, SQLSTATE and whether
//! the transaction survived), wait, and every waiting statement that
//! returned in between, then the final rows.

use super::sql::{translate, Action, Columns};
use super::{Outcome, Py, Step, Transcript};
use stockrace::model::innodb::{InnoDbConfig, InnoDbStore};
use stockrace::model::{Event, LevelId, Progress, Reply, Row, SessionId, Statement};

/// What the driver needs of a database: the inherent operations
/// `InnoDbStore` and `MariaDbBackend` share.
pub trait InnoDb {
    /// Runs `statement`; appends its own event first, then those of the
    /// statements it let return (deadlock victims, woken waiters).
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>);
    /// Virtual time is now `now_ms`; waits past the lock wait timeout end (1205).
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>);
    /// When the next lock wait times out, if any waits.
    fn next_timeout_ms(&self) -> Option<u64>;
    /// `@@in_transaction`.
    fn in_transaction(&self, session: SessionId) -> bool;
    /// `@@innodb_lock_wait_timeout`, in (virtual) milliseconds.
    fn lock_wait_timeout_ms(&self) -> u64;
    fn committed_rows(&self) -> Vec<Row>;
    fn committed_reservations(&self, level: LevelId) -> i64;
    fn committed_reservation_count(&self, level: LevelId) -> usize;
}

impl InnoDb for InnoDbStore {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        InnoDbStore::execute(self, session, statement, out)
    }
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        InnoDbStore::time_passed(self, now_ms, out)
    }
    fn next_timeout_ms(&self) -> Option<u64> {
        InnoDbStore::next_timeout_ms(self)
    }
    fn in_transaction(&self, session: SessionId) -> bool {
        InnoDbStore::in_transaction(self, session)
    }
    fn lock_wait_timeout_ms(&self) -> u64 {
        self.config().lock_wait_timeout_ms
    }
    fn committed_rows(&self) -> Vec<Row> {
        InnoDbStore::committed_rows(self)
    }
    fn committed_reservations(&self, level: LevelId) -> i64 {
        InnoDbStore::committed_reservations(self, level)
    }
    fn committed_reservation_count(&self, level: LevelId) -> usize {
        InnoDbStore::committed_reservation_count(self, level)
    }
}

/// Cases the model's vocabulary cannot run, by key (every setting of it),
/// and why: each is a statement `Statement` lacks, so no database behind
/// the driver runs them.
pub const SKIPPED: &[(&str, &str)] = &[
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

/// What a case starts from: the rows, the sessions, the server settings.
pub struct Setup {
    pub rows: Vec<Row>,
    pub sessions: usize,
    pub config: InnoDbConfig,
}

impl Setup {
    pub fn of(case: &Transcript) -> Setup {
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
        Setup {
            rows: vec![
                Row {
                    stocked: stock,
                    reserved: 0,
                    version: 0
                };
                rows
            ],
            sessions: 3,
            config: InnoDbConfig {
                check_nonnegative: case.key() == "d-check",
                snapshot_isolation: case.snapshot_isolation == Some(true),
                ..InnoDbConfig::default()
            },
        }
    }
}

/// What the database's reply looks like in the transcript's terms: tag and rows.
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
    db: &impl InnoDb,
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
            let in_trx_now = db.in_transaction(event.session);
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
        "{}: expected {outcome:?}, got {got}",
        event.session
    ))
}

/// Replays one case on `db` (made from [`Setup::of`] the case); `Err` says
/// where it first differs (or that it cannot run).
pub fn replay(case: &Transcript, db: &mut impl InnoDb) -> Result<(), String> {
    let rows = Setup::of(case).rows.len();
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
                    db.execute(session, *statement, &mut out);
                    own.push(out[0]);
                    others.extend(out[1..].iter().copied().filter(|e| {
                        !(e.resumed && matches!(e.progress, Progress::Waiting { .. }))
                    }));
                }
                if let [event] = own[..] {
                    check_event(db, &event, outcome, columns, returning).map_err(at)?;
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
                        return Err(at(format!("expected {outcome:?}, got {got:?}")));
                    }
                }
            }
            Action::Sleep(ms) => {
                now_ms += ms;
                db.time_passed(now_ms, &mut others);
            }
            Action::InTransaction => {
                let Outcome::Ok {
                    rows: Some(rows), ..
                } = outcome
                else {
                    return Err(at("no rows recorded".into()));
                };
                let in_transaction = db.in_transaction(session);
                let expected = rows[0][0].int() == Some(i64::from(in_transaction));
                let timeout = rows[0]
                    .get(1)
                    .is_none_or(|t| t.int() == Some((db.lock_wait_timeout_ms() / 1000) as i64));
                if !expected || !timeout {
                    return Err(at(format!("in transaction: {in_transaction}")));
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
            let Some(deadline) = db.next_timeout_ms() else {
                break;
            };
            now_ms = now_ms.max(deadline);
            db.time_passed(now_ms, &mut others);
        }
        if others.len() != expected_unblocked.len() {
            let got: Vec<_> = others
                .iter()
                .map(|e| format!("{} {:?}", e.session, e.progress))
                .collect();
            return Err(at(format!(
                "expected {} statement(s) to return meanwhile, got {got:?}",
                expected_unblocked.len()
            )));
        }
        for (event, (who, outcome)) in others.iter().zip(expected_unblocked) {
            if event.session.0 + 1 != who {
                return Err(at(format!(
                    "expected T{who} to return, got {}",
                    event.session
                )));
            }
            check_event(
                db,
                event,
                outcome,
                columns_for(&event.statement),
                returning_for(case, i, who),
            )
            .map_err(at)?;
        }
    }
    check_final(case, db)
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

fn check_final(case: &Transcript, db: &impl InnoDb) -> Result<(), String> {
    let rows = db.committed_rows();
    let got: Vec<Vec<i64>> = if case.final_rows.first().is_some_and(|r| r.len() == 4) {
        rows.iter()
            .enumerate()
            .map(|(i, r)| vec![i as i64 + 1, r.stocked, r.reserved, r.version])
            .collect()
    } else {
        // The reservation cases: (stock of id 1 minus its reservations, reservation rows).
        let count = (0..rows.len() as u32)
            .map(|l| db.committed_reservation_count(LevelId(l)) as i64)
            .sum();
        vec![vec![
            rows[0].stocked - db.committed_reservations(LevelId(0)),
            count,
        ]]
    };
    if got == case.final_rows {
        Ok(())
    } else {
        Err(format!(
            "final rows: expected {:?}, got {got:?}",
            case.final_rows
        ))
    }
}

/// Every case's verdict on one database.
#[derive(Default)]
pub struct Verdicts {
    pub cases: usize,
    pub passed: usize,
    pub skipped: usize,
    /// Skipped cases that pass now: the skip list has gone stale.
    pub stale: Vec<String>,
    pub failures: Vec<String>,
}

impl Verdicts {
    /// Fails the test on a stale skip or a differing case.
    pub fn assert_clean(&self) {
        assert!(
            self.stale.is_empty(),
            "skipped but passing now, take them off the skip list: {:#?}",
            self.stale
        );
        assert!(
            self.failures.is_empty(),
            "{} case(s) differ:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The reason a case is skipped, from [`SKIPPED`] or `extra`.
pub fn skip_reason<'a>(case: &Transcript, extra: &[(&str, &'a str)]) -> Option<&'a str> {
    SKIPPED
        .iter()
        .chain(extra)
        .find(|(key, _)| *key == case.key())
        .map(|(_, reason)| *reason)
}

/// Replays every case, each on a database `open` makes for it, on
/// `threads` threads at once. A skipped case is still replayed, so that one
/// that starts passing is reported as stale.
pub fn replay_all<D: InnoDb>(
    cases: &[Transcript],
    extra_skips: &[(&str, &str)],
    threads: usize,
    open: impl Fn(&Setup) -> D + Sync,
) -> Verdicts {
    let results: Vec<Result<(), String>> = if threads <= 1 {
        cases
            .iter()
            .map(|case| replay(case, &mut open(&Setup::of(case))))
            .collect()
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = std::sync::Mutex::new(vec![None; cases.len()]);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = cases.get(i) else {
                        break;
                    };
                    let result = replay(case, &mut open(&Setup::of(case)));
                    results.lock().unwrap()[i] = Some(result);
                });
            }
        });
        results
            .into_inner()
            .unwrap()
            .into_iter()
            .map(|r| r.expect("every case ran"))
            .collect()
    };
    let mut verdicts = Verdicts {
        cases: cases.len(),
        ..Verdicts::default()
    };
    for (case, result) in cases.iter().zip(results) {
        match skip_reason(case, extra_skips) {
            Some(_) if result.is_ok() => verdicts.stale.push(case.label()),
            Some(_) => verdicts.skipped += 1,
            None => match result {
                Ok(()) => verdicts.passed += 1,
                Err(e) => {
                    verdicts
                        .failures
                        .push(format!("{} (line {}): {e}", case.label(), case.line))
                }
            },
        }
    }
    verdicts
}
