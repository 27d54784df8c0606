//! What a run is made of: inventory rows, the orders that buy from them, and
//! the budgets that bound a run. Validated before anything runs.

use serde::{Deserialize, Serialize};
use std::fmt;
use stockrace_model::{Isolation, LevelId, Row};

/// A complete description of one concurrent situation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Inventory levels; the first is `inventory_level` id 1.
    pub levels: Vec<Level>,
    pub orders: Vec<OrderSpec>,
    #[serde(default)]
    pub budget: Budget,
    /// Schema option `CHECK (stocked_quantity >= 0)`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_nonnegative: bool,
}

/// One item at one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub item: String,
    pub location: String,
    pub stocked: i64,
    #[serde(default)]
    pub reserved: i64,
    /// Selling below zero is allowed (no-oversell does not apply).
    #[serde(default)]
    pub backorder: bool,
}

/// One customer order: which strategy runs it, at which isolation level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    pub strategy: String,
    #[serde(default)]
    pub isolation: Isolation,
    pub lines: Vec<LineSpec>,
}

/// `quantity` units of inventory level `level` (its SQL id, from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    pub level: u32,
    pub quantity: i64,
}

/// Bounds on one run; exceeding one is a termination violation, not a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Scheduling steps (statements executed plus time advances).
    pub max_steps: u32,
    /// Virtual milliseconds.
    pub max_virtual_ms: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            max_steps: 10_000,
            max_virtual_ms: 60_000,
        }
    }
}

/// The order as its strategy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// Index of the order in the scenario (shown as T1, T2, ...).
    pub index: u32,
    pub isolation: Isolation,
    pub lines: Vec<Line>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub level: LevelId,
    pub quantity: i64,
}

/// A scenario that cannot run, with the field at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ScenarioError {}

/// More orders than this is a typo, not a scenario.
pub const MAX_ORDERS: usize = 10_000;

impl Scenario {
    /// One item at one location with `stock` units, and `orders` orders of
    /// `quantity` units each, all run by `strategy` at `isolation`.
    pub fn single(
        strategy: &str,
        orders: usize,
        stock: i64,
        quantity: i64,
        isolation: Isolation,
    ) -> Scenario {
        Scenario {
            levels: vec![Level {
                item: "item-1".into(),
                location: "location-1".into(),
                stocked: stock,
                reserved: 0,
                backorder: false,
            }],
            orders: (0..orders)
                .map(|_| OrderSpec {
                    strategy: strategy.to_string(),
                    isolation,
                    lines: vec![LineSpec { level: 1, quantity }],
                })
                .collect(),
            budget: Budget::default(),
            check_nonnegative: false,
        }
    }

    /// Checks every number and reference; `known_strategy` says whether a
    /// strategy name can be run.
    pub fn validate(&self, known_strategy: impl Fn(&str) -> bool) -> Result<(), ScenarioError> {
        let error = |field: String, reason: String| Err(ScenarioError { field, reason });
        if self.levels.is_empty() {
            return error(
                "levels".into(),
                "a scenario needs at least one inventory level".into(),
            );
        }
        for (i, level) in self.levels.iter().enumerate() {
            if level.stocked < 0 {
                return error(
                    format!("levels[{i}].stocked"),
                    format!("{} is negative; stock starts at 0 or more", level.stocked),
                );
            }
            if level.reserved < 0 {
                return error(
                    format!("levels[{i}].reserved"),
                    format!("{} is negative", level.reserved),
                );
            }
        }
        if self.orders.is_empty() {
            return error(
                "orders".into(),
                "a scenario needs at least one order".into(),
            );
        }
        if self.orders.len() > MAX_ORDERS {
            return error(
                "orders".into(),
                format!(
                    "{} orders; at most {MAX_ORDERS} are supported",
                    self.orders.len()
                ),
            );
        }
        for (o, order) in self.orders.iter().enumerate() {
            if !known_strategy(&order.strategy) {
                return error(
                    format!("orders[{o}].strategy"),
                    format!("unknown strategy {:?}", order.strategy),
                );
            }
            if order.lines.is_empty() {
                return error(
                    format!("orders[{o}].lines"),
                    "an order needs at least one line".into(),
                );
            }
            for (l, line) in order.lines.iter().enumerate() {
                if line.level == 0 || line.level as usize > self.levels.len() {
                    return error(
                        format!("orders[{o}].lines[{l}].level"),
                        format!(
                            "no inventory level with id {} (ids run from 1 to {})",
                            line.level,
                            self.levels.len()
                        ),
                    );
                }
                if line.quantity < 1 {
                    return error(
                        format!("orders[{o}].lines[{l}].quantity"),
                        format!("{} is not a positive quantity", line.quantity),
                    );
                }
            }
        }
        if self.budget.max_steps == 0 {
            return error("budget.max_steps".into(), "must be at least 1".into());
        }
        Ok(())
    }

    /// The strategy every order uses, or "mixed".
    pub fn strategy_label(&self) -> &str {
        match self.orders.first() {
            Some(first) if self.orders.iter().all(|o| o.strategy == first.strategy) => {
                &first.strategy
            }
            _ => "mixed",
        }
    }

    pub fn initial_rows(&self) -> Vec<Row> {
        self.levels
            .iter()
            .map(|l| Row {
                stocked: l.stocked,
                reserved: l.reserved,
                version: 0,
            })
            .collect()
    }

    /// The orders as strategies receive them (assumes a validated scenario).
    pub fn orders(&self) -> Vec<Order> {
        self.orders
            .iter()
            .enumerate()
            .map(|(i, spec)| Order {
                index: i as u32,
                isolation: spec.isolation,
                lines: spec
                    .lines
                    .iter()
                    .map(|l| Line {
                        level: LevelId(l.level - 1),
                        quantity: l.quantity,
                    })
                    .collect(),
            })
            .collect()
    }
}
