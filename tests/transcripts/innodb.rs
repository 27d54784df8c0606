//! The MariaDB 10.11 side of the driver (replay.rs): what it replays the
//! reference (tests/conformance/reference/mariadb-10.11-transcripts.txt)
//! on, anything that answers as InnoDB does: the model (`InnoDbStore`,
//! tests/conformance_mariadb_model.rs) and a real server
//! (`MariaDbBackend`, tests/conformance_mariadb.rs); the cases it cannot
//! run; and what each case starts from.

use super::replay::{self, initial_rows, Db, Verdicts, Wait};
use super::Transcript;
use stockrace::model::innodb::{InnoDbConfig, InnoDbStore};
use stockrace::model::{Event, LevelId, Row, SessionId, Statement};

/// What the driver needs of an InnoDB database (as [`Driven`] hands it
/// over): the inherent operations `InnoDbStore` and `MariaDbBackend` share.
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

/// An [`InnoDb`] as the driver's database.
pub struct Driven<D>(pub D);

impl<D: InnoDb> Db for Driven<D> {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        self.0.execute(session, statement, out)
    }
    fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        self.0.time_passed(now_ms, out)
    }
    /// InnoDB finds a deadlock the moment a wait closes one (inside
    /// `execute`); by itself it only times a wait out, on its own clock.
    fn act_on_a_wait(
        &mut self,
        _waits: &mut [Option<Wait>],
        now_ms: &mut u64,
        out: &mut Vec<Event>,
    ) -> bool {
        let Some(deadline) = self.0.next_timeout_ms() else {
            return false;
        };
        *now_ms = (*now_ms).max(deadline);
        let before = out.len();
        self.0.time_passed(*now_ms, out);
        out.len() > before
    }
    fn in_transaction(&self, session: SessionId) -> bool {
        self.0.in_transaction(session)
    }
    fn lock_wait_timeout_ms(&self) -> Option<u64> {
        Some(self.0.lock_wait_timeout_ms())
    }
    fn committed_rows(&self) -> Vec<Row> {
        self.0.committed_rows()
    }
    fn committed_reservations(&self, level: LevelId) -> i64 {
        self.0.committed_reservations(level)
    }
    fn committed_reservation_count(&self, level: LevelId) -> Option<usize> {
        Some(self.0.committed_reservation_count(level))
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
            rows: initial_rows(case, stock),
            sessions: 3,
            config: InnoDbConfig {
                check_nonnegative: case.key() == "d-check",
                snapshot_isolation: case.snapshot_isolation == Some(true),
                ..InnoDbConfig::default()
            },
        }
    }
}

/// Replays every case, each on a database `open` makes for it, on
/// `threads` threads at once; [`SKIPPED`] and `extra_skips` are skipped
/// (and reported if they pass).
pub fn replay_all<D: InnoDb>(
    cases: &[Transcript],
    extra_skips: &[(&str, &str)],
    threads: usize,
    open: impl Fn(&Setup) -> D + Sync,
) -> Verdicts {
    replay::replay_all(cases, SKIPPED, extra_skips, threads, |case| {
        Driven(open(&Setup::of(case)))
    })
}
