//! The invariants every run is checked against, watched as the run goes so a
//! verdict can name the step where an invariant first broke.
//!
//! - no-oversell: units sold of a level never exceed its initial stock, and
//!   its committed `stocked_quantity` never goes below 0 (unless the level
//!   allows backorders).
//! - conservation: whenever no transaction is open and every order that
//!   committed has reported its result, each level's committed stock equals
//!   initial stock minus units sold. Catches lost updates that do not oversell.
//! - termination: every order ends within the run's budgets.

use crate::execution::Outcome;
use crate::scenario::{Order, Scenario};
use serde::{Deserialize, Serialize};
use std::fmt;
use stockrace_model::{Event, Progress, Reply, Statement, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    NoOversell,
    Conservation,
    Termination,
}

impl Invariant {
    pub const ALL: [Invariant; 3] = [
        Invariant::NoOversell,
        Invariant::Conservation,
        Invariant::Termination,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::NoOversell => "no-oversell",
            Invariant::Conservation => "conservation",
            Invariant::Termination => "termination",
        }
    }

    pub fn from_name(name: &str) -> Option<Invariant> {
        Invariant::ALL.into_iter().find(|i| i.name() == name)
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
    initial: Vec<i64>,
    backorder: Vec<bool>,
    /// (level index, quantity) per order.
    lines: Vec<Vec<(usize, i64)>>,
}

impl Expectations {
    pub fn new(scenario: &Scenario, orders: &[Order]) -> Expectations {
        Expectations {
            initial: scenario.levels.iter().map(|l| l.stocked).collect(),
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
        }
    }
}

/// Watches one run.
pub(crate) struct Monitor<'a> {
    expect: &'a Expectations,
    sold: Vec<i64>,
    /// Orders that committed something and have not reported their result yet.
    unreported: Vec<bool>,
    unreported_count: usize,
    first: Option<Violation>,
}

impl<'a> Monitor<'a> {
    pub fn new(expect: &'a Expectations) -> Monitor<'a> {
        Monitor {
            expect,
            sold: vec![0; expect.initial.len()],
            unreported: vec![false; expect.lines.len()],
            unreported_count: 0,
            first: None,
        }
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

    pub fn on_statement(&mut self, step: usize, event: &Event, store: &Store) {
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
        let order = event.session.index();
        if committed_something
            && !self.unreported[order]
            && !matches!(event.statement, Statement::Begin(_))
        {
            self.unreported[order] = true;
            self.unreported_count += 1;
        }
    }

    pub fn on_finished(&mut self, step: usize, order: usize, outcome: &Outcome, store: &Store) {
        if std::mem::take(&mut self.unreported[order]) {
            self.unreported_count -= 1;
        }
        if *outcome == Outcome::Sold {
            for i in 0..self.expect.lines[order].len() {
                let (level, quantity) = self.expect.lines[order][i];
                self.sold[level] += quantity;
                if !self.expect.backorder[level] && self.sold[level] > self.expect.initial[level] {
                    let (sold, initial) = (self.sold[level], self.expect.initial[level]);
                    self.violate(Invariant::NoOversell, step, || {
                        format!(
                            "{sold} units of id={} sold, but it started with {initial}",
                            level + 1
                        )
                    });
                }
            }
        }
        if store.open_transactions() == 0 && self.unreported_count == 0 {
            self.check_conservation(step, store);
        }
    }

    fn check_conservation(&mut self, step: usize, store: &Store) {
        for level in store.levels() {
            let i = level.index();
            let stocked = store.row(level).committed.stocked;
            let expected = self.expect.initial[i] - self.sold[i];
            if stocked != expected {
                let (initial, sold) = (self.expect.initial[i], self.sold[i]);
                self.violate(Invariant::Conservation, step, || {
                    format!(
                        "stocked_quantity of id={} is {stocked}, but {initial} at start - {sold} sold = {expected}: {}",
                        level.sql_id(),
                        if stocked > expected { "an update was lost" } else { "stock vanished" }
                    )
                });
                return;
            }
        }
    }

    /// The verdict; `stopped` says why the run ended before every order did.
    pub fn finish(mut self, steps: usize, stopped: Option<String>) -> Verdict {
        if let Some(reason) = stopped {
            self.violate(Invariant::Termination, steps, || reason);
        }
        match self.first {
            None => Verdict::Holds,
            Some(v) => Verdict::Violated(v),
        }
    }
}
