//! The PostgreSQL 15 side of the driver (replay.rs): the reference
//! (tests/conformance/reference/postgres-15-transcripts.txt) with its
//! statements in full, what it replays them on (any `Backend` with
//! PostgreSQL's rules: the model's `Store`, a real server's `PgBackend`;
//! tests/conformance_postgres_transcripts.rs), and the cases it cannot run.

use super::replay::{self, initial_rows, Db, Verdicts, Wait};
use super::{parse, Step, Transcript};
use std::collections::HashMap;
use stockrace::model::{Event, LevelId, Lock, Row, SessionId, Statement};
use stockrace::{Backend, WaitSettings};

const REFERENCE: &str = include_str!("../conformance/reference/postgres-15-transcripts.txt");
/// Where the statements are in full: see [`cases`].
const MARIADB: &str = include_str!("../conformance/reference/mariadb-10.11-transcripts.txt");

/// The PostgreSQL harness printed each statement cut to this many characters.
const CUT: usize = 70;

/// `deadlock_timeout`, virtual milliseconds. The reference ran with
/// PostgreSQL's 1 s (its 40P01s came 1.0 s into the wait), but the driver
/// runs each check itself, so the length only paces a real server: 10 s
/// virtual is 1 s real at the default pacing, long enough that a loaded
/// machine does not run the server's check before the driver has seen the
/// statement wait (as tests/conformance_postgres.rs found with 100 ms).
pub const DEADLOCK_TIMEOUT_MS: u64 = 10_000;

/// Cases the model's vocabulary cannot run, or that the model runs
/// differently from the reference, by key (every setting of it), and why.
pub const SKIPPED: &[(&str, &str)] = &[];

/// The PostgreSQL reference, each statement in full. Its harness printed
/// statements cut to [`CUT`] characters; the MariaDB harness is its port
/// and ran the same scenarios (the MariaDB reference's SECTION 1, which
/// prints them whole), so a cut statement is completed from the same case
/// there: the same session's next statement that starts with the text.
pub fn cases() -> Result<Vec<Transcript>, String> {
    let mut cases = parse(REFERENCE)?;
    let whole = parse(MARIADB)?;
    for case in &mut cases {
        let line = case.line;
        let at = |e: String| format!("line {line}: {e}");
        let same = whole
            .iter()
            .find(|w| {
                w.section.starts_with("SECTION 1:")
                    && w.key() == case.key()
                    && w.stock_in_name() == case.stock_in_name()
                    && w.isolation == case.isolation
            })
            .ok_or_else(|| at(format!("no {} in the MariaDB reference", case.label())))?;
        complete(case, same).map_err(at)?;
    }
    Ok(cases)
}

/// Completes `case`'s cut statements from `whole`'s.
fn complete(case: &mut Transcript, whole: &Transcript) -> Result<(), String> {
    // Per session and cut text, how many were completed so far: the
    // next is the MariaDB case's next statement of that session starting so.
    let mut done: HashMap<(u32, String), usize> = HashMap::new();
    for step in &mut case.steps {
        let Step::Sent { session, sql, .. } = step else {
            continue;
        };
        if sql.len() < CUT {
            continue;
        }
        let n = done.entry((*session, sql.clone())).or_default();
        let full = whole
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Sent {
                    session: t, sql: w, ..
                } if t == session && w.starts_with(sql.as_str()) => Some(w),
                _ => None,
            })
            .nth(*n)
            .ok_or(format!("T{session}: `{sql}` is not in the MariaDB case"))?;
        *n += 1;
        *sql = full.clone();
    }
    Ok(())
}

/// A PostgreSQL `Backend` as the driver's database.
pub struct Pg<B>(pub B);

impl<B: Backend> Db for Pg<B> {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        self.0.execute(session, statement, out)
    }
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        self.0.time_passed(now_ms, out)
    }
    /// A waiter checks for a deadlock once, when its deadlock_timeout runs
    /// out: the wait that began first checks first (the reference sets no
    /// lock_timeout, so no wait ends otherwise).
    fn act_on_a_wait(
        &mut self,
        waits: &mut [Option<Wait>],
        now_ms: &mut u64,
        out: &mut Vec<Event>,
    ) -> bool {
        let settings = WaitSettings {
            deadlock_timeout_ms: DEADLOCK_TIMEOUT_MS,
            lock_timeout_ms: None,
        };
        let due = waits
            .iter_mut()
            .enumerate()
            .filter_map(|(s, wait)| {
                let wait = wait.as_mut().filter(|w| !w.checked)?;
                let session = SessionId(s as u32);
                let deadlines = self.0.wait_deadlines(session, wait.began_ms, settings);
                Some((deadlines.deadlock_check_ms?, wait.seq, session, wait))
            })
            .min_by_key(|(at, seq, _, _)| (*at, *seq));
        let Some((at, _, session, wait)) = due else {
            return false;
        };
        wait.checked = true;
        *now_ms = (*now_ms).max(at);
        self.0.time_passed(*now_ms, out);
        self.0.deadlock_check(session, out);
        true
    }
    fn in_transaction(&self, session: SessionId) -> bool {
        self.0.in_transaction(session)
    }
    /// A plain SELECT of id 1: it never waits, and where the reference
    /// sends a literal or a sleep (c's T2 after its FOR UPDATE, f's T1
    /// after its 40P01) reading the row changes nothing.
    fn stand_in(&self) -> Option<Statement> {
        Some(Statement::Select {
            level: LevelId(0),
            lock: Lock::None,
        })
    }
    fn committed_rows(&self) -> Vec<Row> {
        self.0.committed_rows()
    }
    fn committed_reservations(&self, level: LevelId) -> i64 {
        self.0.committed_reservations(level)
    }
    /// `Backend` does not count reservation rows.
    fn committed_reservation_count(&self, _level: LevelId) -> Option<usize> {
        None
    }
}

/// The rows a case starts from: the stock its header names.
pub fn rows(case: &Transcript) -> Vec<Row> {
    initial_rows(case, case.stock_in_name().unwrap_or(1))
}

/// Replays every case, each on a backend `open` makes for its rows and
/// sessions, one at a time; [`SKIPPED`] and `extra_skips` are skipped
/// (and reported if they pass).
pub fn replay_all<B: Backend>(
    cases: &[Transcript],
    extra_skips: &[(&str, &str)],
    open: impl Fn(&[Row], usize) -> B + Sync,
) -> Verdicts {
    replay::replay_all(cases, SKIPPED, extra_skips, 1, |case| {
        Pg(open(&rows(case), case.sessions()))
    })
}
