//! The one driver that replays a reference transcript on a database,
//! statement by statement: every result, error (SQLSTATE and message;
//! MariaDB's number and whether the transaction survived, where recorded),
//! wait, and every waiting statement that returned in between, then the
//! final rows. What differs between the databases is behind [`Db`]:
//! innodb.rs (InnoDB times waits out and finds deadlocks at once) and
//! postgres.rs (a waiter checks for a deadlock after deadlock_timeout; an
//! aborted transaction answers 25P02 even to a literal).

use super::check::{check_event, check_final, check_rows, columns_for, returning_for};
use super::sql::{translate, Action, Columns};
use super::{Outcome, Step, Transcript};
use std::collections::VecDeque;
use stockrace::model::{Event, LevelId, Progress, Row, SessionId, Statement};

/// A session's current lock wait, as the driver saw it begin.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub began_ms: u64,
    /// How many waits began before it: virtual time stands still between
    /// steps, so this is what orders waits that began at the same time.
    pub seq: u64,
    /// PostgreSQL: its deadlock check ran (once per wait).
    pub checked: bool,
}

/// What the driver needs of a database.
pub trait Db {
    /// Runs `statement`; appends its own event first, then those of the
    /// statements it let return (deadlock victims, woken waiters).
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>);
    /// Virtual time is now `now_ms` (think time passed).
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>);
    /// Runs virtual time on to the next thing the database does by itself
    /// about a waiting statement, and does it (InnoDB: a lock wait times
    /// out; PostgreSQL: a waiter's deadlock_timeout runs out and it checks
    /// for a deadlock). `waits`: each session's wait, if it waits. False
    /// when nothing is due.
    fn act_on_a_wait(
        &mut self,
        waits: &mut [Option<Wait>],
        now_ms: &mut u64,
        out: &mut Vec<Event>,
    ) -> bool;
    fn in_transaction(&self, session: SessionId) -> bool;
    /// `@@innodb_lock_wait_timeout` in (virtual) milliseconds, where the
    /// database has one.
    fn lock_wait_timeout_ms(&self) -> Option<u64> {
        None
    }
    /// What to send for a statement that reads no table (`SELECT 'text'`,
    /// a sleep) when the database's answer to one depends on the
    /// transaction, as PostgreSQL's does (25P02 in an aborted one). `None`:
    /// nothing is sent, as MariaDB answers such a statement whatever came
    /// before.
    fn stand_in(&self) -> Option<Statement> {
        None
    }
    fn committed_rows(&self) -> Vec<Row>;
    fn committed_reservations(&self, level: LevelId) -> i64;
    /// Reservation rows of `level`, where the database tells.
    fn committed_reservation_count(&self, level: LevelId) -> Option<usize>;
}

/// The rows a case starts from, `stock` each: one per final row, or two
/// for the reservation cases (whose final line is a summary).
pub fn initial_rows(case: &Transcript, stock: i64) -> Vec<Row> {
    let four_columns = case.final_rows.first().is_some_and(|r| r.len() == 4);
    let rows = if four_columns {
        case.final_rows.len()
    } else {
        2
    };
    vec![
        Row {
            stocked: stock,
            reserved: 0,
            version: 0
        };
        rows
    ]
}

/// A statement that returned while another ran, not yet matched to a line.
struct Returned {
    event: Event,
    /// It returned while the database acted by itself (a deadlock check, a
    /// timeout), that is while the harness waited for another session's
    /// statement: the harness reports it when it next looks, which may be
    /// after a later step (PostgreSQL's f: T2 goes on at T1's 40P01 and is
    /// reported after T1's next statement).
    late: bool,
}

fn describe(event: &Event) -> String {
    format!("{} {:?}", event.session, event.progress)
}

/// One replay under way.
struct Run<'a, D> {
    db: &'a mut D,
    now_ms: u64,
    waits: Vec<Option<Wait>>,
    waits_begun: u64,
    returned: VecDeque<Returned>,
}

impl<D: Db> Run<'_, D> {
    /// Notes the waits `events` began and ended, and queues the statements
    /// among them that returned (a waiter that woke only to wait again did
    /// not) from `returned_from` on.
    fn record(&mut self, events: &[Event], returned_from: usize, late: bool) {
        for event in events {
            let s = event.session.index();
            if self.waits.len() <= s {
                self.waits.resize(s + 1, None);
            }
            self.waits[s] = match event.progress {
                Progress::Waiting { .. } => {
                    self.waits_begun += 1;
                    Some(Wait {
                        began_ms: self.now_ms,
                        seq: self.waits_begun,
                        checked: false,
                    })
                }
                Progress::Done(_) => None,
            };
        }
        let returned = events[returned_from.min(events.len())..]
            .iter()
            .filter(|e| !(e.resumed && matches!(e.progress, Progress::Waiting { .. })));
        self.returned
            .extend(returned.map(|&event| Returned { event, late }));
    }

    /// Sends `statement` for `session`; its own event.
    fn send(&mut self, session: SessionId, statement: Statement) -> Result<Event, String> {
        if self.waits.get(session.index()).is_some_and(Option::is_some) {
            return Err(format!("{session} sends while its statement still waits"));
        }
        // The harness reports a session's last statement before its next.
        if let Some(r) = self.returned.iter().find(|r| r.event.session == session) {
            return Err(format!("{} returned unreported", describe(&r.event)));
        }
        let mut out = Vec::new();
        self.db.execute(session, statement, &mut out);
        self.record(&out, 1, false);
        Ok(out[0])
    }

    /// Sends the database's stand-in for a statement that reads no table,
    /// if it has one, and checks its answer (not its rows: they are not
    /// the literal's); whether the statement ran without an error.
    fn stand_in(&mut self, session: SessionId, outcome: &Outcome) -> Result<bool, String> {
        let Some(statement) = self.db.stand_in() else {
            return Ok(true);
        };
        let event = self.send(session, statement)?;
        match (event.progress, outcome) {
            (Progress::Done(Ok(_)), Outcome::Ok { .. }) => Ok(true),
            _ => check_event(self.db, &event, outcome, Columns::None, false).map(|()| false),
        }
    }

    /// One transcript line a session sent.
    fn step(
        &mut self,
        session: SessionId,
        action: Action,
        outcome: &Outcome,
    ) -> Result<(), String> {
        match action {
            Action::Run {
                statements,
                columns,
                returning,
            } => {
                let mut own = Vec::new();
                for statement in statements {
                    own.push(self.send(session, statement)?);
                }
                match own[..] {
                    [event] => check_event(self.db, &event, outcome, columns, returning),
                    _ => check_rows(&own, columns, outcome),
                }
            }
            Action::Sleep(ms) => {
                if self.stand_in(session, outcome)? {
                    self.now_ms += ms;
                    let mut out = Vec::new();
                    self.db.time_passed(self.now_ms, &mut out);
                    self.record(&out, 0, false);
                }
                Ok(())
            }
            Action::Literal => self.stand_in(session, outcome).map(drop),
            Action::InTransaction => {
                let Outcome::Ok {
                    rows: Some(rows), ..
                } = outcome
                else {
                    return Err("no rows recorded".into());
                };
                let in_transaction = self.db.in_transaction(session);
                let expected = rows[0][0].int() == Some(i64::from(in_transaction));
                let timeout_s = self.db.lock_wait_timeout_ms().map(|ms| (ms / 1000) as i64);
                let timeout = rows[0].get(1).is_none_or(|t| t.int() == timeout_s);
                if !expected || !timeout {
                    return Err(format!("in transaction: {in_transaction}"));
                }
                Ok(())
            }
            Action::Nothing => Ok(()),
        }
    }

    /// The statement of T`who` (1-based) that returned next, letting the
    /// database act on waits by itself until one does.
    fn returned_by(&mut self, who: u32) -> Result<Event, String> {
        loop {
            // In the order they returned, passing over those the harness
            // may report late.
            let next = self
                .returned
                .iter()
                .position(|r| r.event.session.0 + 1 == who || !r.late);
            match next {
                Some(i) if self.returned[i].event.session.0 + 1 == who => {
                    return Ok(self.returned.remove(i).expect("found").event)
                }
                Some(i) => {
                    let got = describe(&self.returned[i].event);
                    return Err(format!("expected T{who} to return, got {got}"));
                }
                None => {
                    let mut out = Vec::new();
                    if !self
                        .db
                        .act_on_a_wait(&mut self.waits, &mut self.now_ms, &mut out)
                    {
                        return Err(format!("expected T{who} to return; nothing did"));
                    }
                    self.record(&out, 0, true);
                }
            }
        }
    }

    /// Every statement that returned was reported, but (unless at the end)
    /// those the harness may report late.
    fn all_reported(&self, at_the_end: bool) -> Result<(), String> {
        let unreported: Vec<String> = self
            .returned
            .iter()
            .filter(|r| at_the_end || !r.late)
            .map(|r| describe(&r.event))
            .collect();
        if unreported.is_empty() {
            return Ok(());
        }
        Err(format!(
            "returned, the transcript does not say so: {unreported:?}"
        ))
    }
}

/// Replays one case on `db` (holding [`initial_rows`]); `Err` says where
/// it first differs (or that it cannot run).
pub fn replay(case: &Transcript, db: &mut impl Db) -> Result<(), String> {
    let rows = initial_rows(case, 0).len();
    let mut run = Run {
        db,
        now_ms: 0,
        waits: Vec::new(),
        waits_begun: 0,
        returned: VecDeque::new(),
    };
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
        let action = translate(sql, rows).map_err(at)?;
        run.step(SessionId(session - 1), action, outcome)
            .map_err(at)?;
        // The waiting statements that returned before the next step.
        i += 1;
        while let Some(Step::Unblocked { session, outcome }) = case.steps.get(i) {
            let event = run.returned_by(*session).map_err(at)?;
            let returning = returning_for(case, i, *session);
            check_event(
                run.db,
                &event,
                outcome,
                columns_for(&event.statement),
                returning,
            )
            .map_err(at)?;
            i += 1;
        }
        run.all_reported(false).map_err(at)?;
    }
    run.all_reported(true)
        .map_err(|e| format!("at the end: {e}"))?;
    check_final(case, run.db)
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

/// The reason a case is skipped, from `skipped` or `extra`.
pub fn skip_reason<'a>(
    case: &Transcript,
    skipped: &[(&str, &'a str)],
    extra: &[(&str, &'a str)],
) -> Option<&'a str> {
    skipped
        .iter()
        .chain(extra)
        .find(|(key, _)| *key == case.key())
        .map(|(_, reason)| *reason)
}

/// Replays every case, each on a database `open` makes for it, on
/// `threads` threads at once. A skipped case is still replayed, so that one
/// that starts passing is reported as stale.
pub fn replay_all<D: Db>(
    cases: &[Transcript],
    skipped: &[(&str, &str)],
    extra_skips: &[(&str, &str)],
    threads: usize,
    open: impl Fn(&Transcript) -> D + Sync,
) -> Verdicts {
    let results: Vec<Result<(), String>> = if threads <= 1 {
        cases
            .iter()
            .map(|case| replay(case, &mut open(case)))
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
                    let result = replay(case, &mut open(case));
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
        match skip_reason(case, skipped, extra_skips) {
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
