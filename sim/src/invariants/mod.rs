//! The invariants every run is checked against, watched as the run goes so a
//! verdict can name the step where an invariant first broke.
//!
//! - no-oversell: units sold of a level never exceed its initial stock, and
//!   its committed `stocked_quantity` never goes below 0 (unless the level
//!   allows backorders).
//! - conservation: whenever no transaction is open and every order that
//!   committed has reported its result, each level's committed stock equals
//!   initial stock minus units sold. Catches lost updates that do not oversell.
//! - reservations: at those same quiet points, a level's reservation rows
//!   hold exactly what reserving orders sold; where `reserved_quantity` is
//!   maintained it equals its initial value plus those rows; and reserved
//!   never exceeds stocked.
//! - termination: every order ends within the run's budgets.
//! - exactly-once and stranded-stock, in runs with a fault budget: an
//!   order's decrements committed at most once, and only for an order that
//!   was told it sold (see `applied`).
//! - a test's own (`crate::CustomInvariant`), judged on each finished run whose
//!   built-in invariants held.
//!
//! A sale decrements stock or reserves it, as its strategy's [`Effect`] says;
//! either way a level never sells more than it had available at the start.

mod applied;

use crate::backend::Backend;
use crate::outcome::Outcome;
use applied::Applied;
use crate::scenario::{Order, Scenario};
use crate::strategies::{Effect, Strategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use stockrace_model::{Event, LevelId, Progress, Reply};

/// An invariant a run is judged by: the built-in four, or one a test adds
/// (`CustomInvariant`, named by the test).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    NoOversell,
    Conservation,
    Reservations,
    Termination,
    /// An order's decrement committed more than once.
    ExactlyOnce,
    /// An order never told it sold has a decrement that committed.
    StrandedStock,
    /// A test's own invariant, by name (see `crate::CustomInvariant`). In files
    /// and JSON it is its name, like the built-in ones.
    Custom(&'static str),
}

impl Invariant {
    /// The built-in invariants.
    pub const ALL: [Invariant; 6] = [
        Invariant::NoOversell,
        Invariant::Conservation,
        Invariant::Reservations,
        Invariant::Termination,
        Invariant::ExactlyOnce,
        Invariant::StrandedStock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::NoOversell => "no-oversell",
            Invariant::Conservation => "conservation",
            Invariant::Reservations => "reservations",
            Invariant::Termination => "termination",
            Invariant::ExactlyOnce => "exactly-once",
            Invariant::StrandedStock => "stranded-stock",
            Invariant::Custom(name) => name,
        }
    }

    /// A built-in invariant by name.
    pub fn from_name(name: &str) -> Option<Invariant> {
        Invariant::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The built-in invariant of that name, or a custom one.
    pub fn named(name: &str) -> Invariant {
        Invariant::from_name(name).unwrap_or_else(|| Invariant::Custom(intern(name)))
    }

    pub fn is_custom(self) -> bool {
        matches!(self, Invariant::Custom(_))
    }
}

/// Custom invariant names live as long as the process: a test names a few,
/// and kept files name the same ones, so each distinct name is kept once.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    match names.get(name) {
        Some(known) => known,
        None => {
            let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
            names.insert(leaked);
            leaked
        }
    }
}

impl Serialize for Invariant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Invariant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Invariant, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.trim().is_empty() {
            return Err(serde::de::Error::custom("an invariant needs a name"));
        }
        Ok(Invariant::named(&name))
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a custom invariant's check returns: `true` / `Ok(())` when it
/// holds, `false` / `Err(why)` when it is broken.
pub trait Judgement {
    fn judgement(self) -> Result<(), String>;
}

impl Judgement for bool {
    fn judgement(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("the check returned false".to_string())
        }
    }
}

impl<E: fmt::Display> Judgement for Result<(), E> {
    fn judgement(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// The first invariant that broke, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    /// 1-based index of the trace event at which it was first seen broken.
    pub step: usize,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Violated(Violation),
}

impl Verdict {
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Verdict::Holds => None,
            Verdict::Violated(v) => Some(v),
        }
    }

    pub fn holds(&self) -> bool {
        *self == Verdict::Holds
    }
}

/// What the checks need to know about a scenario; built once per simulation.
#[derive(Clone, Debug)]
pub(crate) struct Expectations {
    initial_stocked: Vec<i64>,
    initial_reserved: Vec<i64>,
    backorder: Vec<bool>,
    /// (level index, quantity) per order.
    lines: Vec<Vec<(usize, i64)>>,
    effects: Vec<Effect>,
    /// The scenario has a fault budget: keep the ledger of who committed what.
    faults: bool,
}

impl Expectations {
    pub fn new(scenario: &Scenario, orders: &[Order], strategies: &[Strategy]) -> Expectations {
        Expectations {
            initial_stocked: scenario.levels.iter().map(|l| l.stocked).collect(),
            initial_reserved: scenario.levels.iter().map(|l| l.reserved).collect(),
            backorder: scenario.levels.iter().map(|l| l.backorder).collect(),
            lines: orders
                .iter()
                .map(|o| {
                    o.lines
                        .iter()
                        .map(|l| (l.level.index(), l.quantity))
                        .collect()
                })
                .collect(),
            effects: strategies.iter().map(Strategy::effect).collect(),
            faults: !scenario.faults.is_none(),
        }
    }
}

/// Watches one run.
pub(crate) struct Monitor<'a> {
    expect: &'a Expectations,
    /// Units sold by decrementing, per level.
    decremented: Vec<i64>,
    /// Units sold by reserving, per level.
    reserved: Vec<i64>,
    /// Orders that committed something and have not reported their result yet.
    unreported: Vec<bool>,
    unreported_count: usize,
    first: Option<Violation>,
    /// Who committed which decrements (kept only with faults).
    applied: Applied,
}

impl<'a> Monitor<'a> {
    pub fn new(expect: &'a Expectations) -> Monitor<'a> {
        Monitor {
            expect,
            decremented: vec![0; expect.initial_stocked.len()],
            reserved: vec![0; expect.initial_stocked.len()],
            unreported: vec![false; expect.lines.len()],
            unreported_count: 0,
            first: None,
            applied: Applied::new(expect.lines.len(), &expect.initial_stocked),
        }
    }

    /// Back to the start of a run, keeping the memory (the runs of a sweep
    /// share one monitor).
    pub fn reset(&mut self) {
        self.decremented.fill(0);
        self.reserved.fill(0);
        self.unreported.fill(false);
        self.unreported_count = 0;
        self.first = None;
        self.applied.reset(&self.expect.initial_stocked);
    }

    fn violate(&mut self, invariant: Invariant, step: usize, detail: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(Violation {
                invariant,
                step,
                detail: detail(),
            });
        }
    }

    #[inline]
    pub fn on_statement(&mut self, step: usize, event: &Event, store: &dyn Backend) {
        if let Some(row) = event.row {
            let level = row.level.index();
            if !self.expect.backorder[level] && row.committed.stocked < 0 {
                self.violate(Invariant::NoOversell, step, || {
                    format!(
                        "committed stocked_quantity of id={} is {}, below zero",
                        row.level.sql_id(),
                        row.committed.stocked
                    )
                });
            }
        }
        let committed_something = match event.progress {
            Progress::Done(Ok(Reply::Commit)) => true,
            // An UPDATE outside BEGIN commits on its own.
            Progress::Done(Ok(Reply::Update { count: 1, .. })) => {
                !store.in_transaction(event.session)
            }
            _ => false,
        };
        if self.expect.faults {
            self.applied.on_statement(event, store);
        }
        let order = event.session.index();
        if committed_something && !self.unreported[order] {
            self.unreported[order] = true;
            self.unreported_count += 1;
        }
    }

    pub fn on_finished(
        &mut self,
        step: usize,
        order: usize,
        outcome: &Outcome,
        store: &dyn Backend,
    ) {
        if std::mem::take(&mut self.unreported[order]) {
            self.unreported_count -= 1;
        }
        if *outcome == Outcome::Sold {
            let effect = self.expect.effects[order];
            for i in 0..self.expect.lines[order].len() {
                let (level, quantity) = self.expect.lines[order][i];
                match effect {
                    Effect::Decrements => self.decremented[level] += quantity,
                    Effect::Reserves => self.reserved[level] += quantity,
                }
                let sold = self.decremented[level] + self.reserved[level];
                let available =
                    self.expect.initial_stocked[level] - self.expect.initial_reserved[level];
                if !self.expect.backorder[level] && sold > available {
                    self.violate(Invariant::NoOversell, step, || {
                        oversold(sold, level + 1, available)
                    });
                }
            }
        }
        if self.expect.faults && self.expect.effects[order] == Effect::Decrements {
            self.check_applied(step, order, outcome);
        }
        if store.open_transactions() == 0 && self.unreported_count == 0 {
            self.check_quiet_point(step, store);
        }
    }

    /// `order` ended: its committed decrements match what it was told.
    fn check_applied(&mut self, step: usize, order: usize, outcome: &Outcome) {
        for i in 0..self.expect.lines[order].len() {
            let level = self.expect.lines[order][i].0;
            let bought: i64 = self.expect.lines[order]
                .iter()
                .filter(|(l, _)| *l == level)
                .map(|(_, q)| q)
                .sum();
            let taken = self.applied.taken(order, level);
            let (id, t) = (level + 1, order + 1);
            if taken > bought {
                self.violate(Invariant::ExactlyOnce, step, || {
                    format!("T{t}'s decrements of id={id} committed {taken} units for an order of {bought}: applied more than once")
                });
            } else if *outcome != Outcome::Sold && taken > 0 {
                self.violate(Invariant::StrandedStock, step, || {
                    format!("T{t} was never told it sold ({outcome}), but {taken} unit(s) of id={id} it decremented committed: stock gone, nobody bought it")
                });
            }
        }
    }

    /// No transaction is open and every commit has been reported: the store
    /// must show exactly the sales.
    fn check_quiet_point(&mut self, step: usize, store: &dyn Backend) {
        for level in (0..self.expect.initial_stocked.len() as u32).map(LevelId) {
            let i = level.index();
            let id = level.sql_id();
            let row = store.row(level).committed;
            let expected = self.expect.initial_stocked[i] - self.decremented[i];
            if row.stocked != expected {
                let (initial, sold) = (self.expect.initial_stocked[i], self.decremented[i]);
                let why = if row.stocked > expected {
                    "an update was lost"
                } else {
                    "stock vanished"
                };
                self.violate(Invariant::Conservation, step, || {
                    format!("stocked_quantity of id={id} is {}, but {initial} at start - {sold} sold = {expected}: {why}", row.stocked)
                });
                return;
            }
            let rows = store.committed_reservations(level);
            let initial_reserved = self.expect.initial_reserved[i];
            let detail = if rows != self.reserved[i] {
                Some(format!(
                    "reservation rows of id={id} hold {rows} units, but orders reserved {}",
                    self.reserved[i]
                ))
            } else if row.reserved != initial_reserved && row.reserved != initial_reserved + rows {
                Some(format!(
                    "reserved_quantity of id={id} is {}, but {initial_reserved} at start + {rows} in reservation rows = {}: an update was lost",
                    row.reserved,
                    initial_reserved + rows
                ))
            } else if initial_reserved + rows > row.stocked {
                Some(format!(
                    "id={id} has {} units reserved but only {} stocked",
                    initial_reserved + rows,
                    row.stocked
                ))
            } else {
                None
            };
            if let Some(detail) = detail {
                self.violate(Invariant::Reservations, step, || detail);
                return;
            }
        }
    }

    /// Feeds a state key what the checks still to come depend on: units
    /// sold per level and which orders committed without reporting yet.
    /// Not the first violation: a run that already broke an invariant
    /// stays broken whatever follows, and that run is itself finished (the
    /// cache cuts runs short, it does not drop them).
    pub fn hash_state(&self, state: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.decremented.hash(state);
        self.reserved.hash(state);
        self.unreported.hash(state);
        if self.expect.faults {
            self.applied.hash_state(state);
        }
    }

    /// The verdict; `stopped` says why the run ended before every order did.
    pub fn finish(&mut self, steps: usize, stopped: Option<String>) -> Verdict {
        if let Some(reason) = stopped {
            self.violate(Invariant::Termination, steps, || reason);
        }
        match self.first.take() {
            None => Verdict::Holds,
            Some(v) => Verdict::Violated(v),
        }
    }
}

/// `{sold} units of id={id} sold, but it had {available} available at the
/// start`, written out without `format!`: nearly every run of a racing
/// sweep oversells, and formatting its detail was a seventieth of such a
/// run.
fn oversold(sold: i64, id: usize, available: i64) -> String {
    let mut detail = String::with_capacity(80);
    push_int(&mut detail, sold);
    detail.push_str(" units of id=");
    push_int(&mut detail, id as i64);
    detail.push_str(" sold, but it had ");
    push_int(&mut detail, available);
    detail.push_str(" available at the start");
    detail
}

/// Appends `value` in decimal, as `Display` writes it.
fn push_int(out: &mut String, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::oversold;

    #[test]
    fn oversold_reads_as_format_writes_it() {
        for (sold, id, available) in [(2, 1, 1), (10, 12, 0), (-3, 7, -120), (i64::MAX, 1, i64::MIN)] {
            assert_eq!(
                oversold(sold, id, available),
                format!("{sold} units of id={id} sold, but it had {available} available at the start")
            );
        }
    }
}
