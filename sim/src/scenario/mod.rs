//! What a run is made of: inventory rows, the orders that buy from them, and
//! the budgets that bound a run. Validated before anything runs.

mod limits;
mod lines;
mod overrides;
mod validate;

use serde::{Deserialize, Serialize};
use crate::file_error::FileError;
pub use limits::{ARRIVAL_WINDOW_LATENCIES, DEFAULT_MAX_STEPS, DEFAULT_MAX_VIRTUAL_MS, MAX_MS};
pub use lines::Lines;
pub(crate) use validate::locate;
pub use overrides::{Overrides, Setting};
use std::fmt;
use std::path::Path;
use stockrace_model::{Database, Isolation, LevelId, Row};

/// A complete description of one concurrent situation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Whose rules the statements follow (default PostgreSQL 15).
    #[serde(default, skip_serializing_if = "Database::is_default")]
    pub database: Database,
    /// MariaDB's `innodb_snapshot_isolation` (off, as in 10.11): a
    /// REPEATABLE READ write to a row changed since the transaction's read
    /// view fails with 1020 instead of overwriting it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub innodb_snapshot_isolation: bool,
    /// Inventory levels; the first is `inventory_level` id 1.
    pub levels: Vec<Level>,
    /// Orders written out one by one (`count = n` repeats one).
    #[serde(default)]
    pub orders: Vec<OrderSpec>,
    /// Orders made by rule, after `orders`: many buyers, a mix of code paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generate: Vec<Generator>,
    /// Virtual time spent around each statement, so that cost figures
    /// (latency, throughput, lock-wait time) mean something.
    #[serde(default, skip_serializing_if = "Latency::is_zero")]
    pub latency: Latency,
    /// Bounds on a run; unset, they scale with the scenario (see
    /// [`Scenario::max_steps`]).
    #[serde(default, skip_serializing_if = "Budget::is_unset")]
    pub budget: Budget,
    /// When orders arrive: each at a chosen offset within a window.
    #[serde(default, skip_serializing_if = "Arrivals::is_unset")]
    pub arrivals: Arrivals,
    /// Schema option `CHECK (stocked_quantity >= 0)`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_nonnegative: bool,
    /// How many faults (app crashes, lost replies) the scheduler may inject
    /// in a run, each a choice like any other (see `runtime::faults`).
    #[serde(default, skip_serializing_if = "Faults::is_none")]
    pub faults: Faults,
    /// App processes (madsim nodes) the orders run on. An in-process lock
    /// only serialises orders on the same node.
    #[serde(default = "one")]
    pub nodes: u32,
    /// PostgreSQL's deadlock_timeout: how long a waiter waits before it
    /// checks for a deadlock (virtual milliseconds).
    #[serde(default = "default_deadlock_timeout_ms")]
    pub deadlock_timeout_ms: u64,
    /// The time-to-live of a lease from the lease-lock service (virtual
    /// ms), for strategies that take one (`lease-lock`, `lease-lock-fenced`).
    #[serde(
        default = "default_lease_ttl_ms",
        skip_serializing_if = "is_default_lease_ttl_ms"
    )]
    pub lease_ttl_ms: u64,
}

fn one() -> u32 {
    1
}

fn default_deadlock_timeout_ms() -> u64 {
    1000
}

/// A lease's TTL unless `lease_ttl_ms` says.
pub const DEFAULT_LEASE_TTL_MS: u64 = 100;

fn default_lease_ttl_ms() -> u64 {
    DEFAULT_LEASE_TTL_MS
}

fn is_default_lease_ttl_ms(ms: &u64) -> bool {
    *ms == DEFAULT_LEASE_TTL_MS
}

/// The order in which a multi-line order takes its row locks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockOrder {
    /// As the lines are listed (what most code does; opposite lists deadlock).
    #[default]
    Listed,
    /// By inventory level id (no lock cycles between such orders).
    Sorted,
}

impl LockOrder {
    pub fn name(self) -> &'static str {
        match self {
            LockOrder::Listed => "listed",
            LockOrder::Sorted => "sorted",
        }
    }

    pub fn from_name(name: &str) -> Option<LockOrder> {
        [LockOrder::Listed, LockOrder::Sorted].into_iter().find(|o| o.name() == name)
    }
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
    /// App node (from 0); default: orders spread round-robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    #[serde(default)]
    pub lock_order: LockOrder,
    /// PostgreSQL's lock_timeout for this order's connection (virtual ms):
    /// a statement waiting longer for a lock fails with 55P03.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout_ms: Option<u64>,
    /// This many identical orders (a scenario file's shorthand; a running
    /// scenario has every order spelled out, see [`Scenario::expanded`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u32,
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// `count` orders made by rule: order i (from 0) runs `strategies[i % n]`
/// and buys `quantities[i % m]` units of each of `levels`, so a list is a
/// mix and repeating a name weights it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    pub count: u32,
    pub strategies: Vec<String>,
    #[serde(default = "one_unit")]
    pub quantities: Vec<i64>,
    /// Inventory level ids every generated order buys, in this order.
    #[serde(default = "first_level")]
    pub levels: Vec<u32>,
    #[serde(default)]
    pub isolation: Isolation,
    #[serde(default)]
    pub lock_order: LockOrder,
}

fn one_unit() -> Vec<i64> {
    vec![1]
}

fn first_level() -> Vec<u32> {
    vec![1]
}

impl Generator {
    fn order(&self, i: usize) -> OrderSpec {
        let quantity = self.quantities[i % self.quantities.len()];
        OrderSpec {
            strategy: self.strategies[i % self.strategies.len()].clone(),
            isolation: self.isolation,
            lines: self.levels.iter().map(|&level| LineSpec { level, quantity }).collect(),
            node: None,
            lock_order: self.lock_order,
            lock_timeout_ms: None,
            count: 1,
        }
    }
}

/// A run's fault budget: each fault is offered to the chooser at every quiet
/// point while some of its budget is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// App node crashes: the node's orders stop where they are and their
    /// connections close (the server rolls back what they had open).
    pub crashes: u32,
    /// Lost replies: a statement runs on the server, but its reply never
    /// reaches the order, which sees a broken connection (08006).
    pub lost_replies: u32,
    /// Pauses of an app node (a GC pause, a VM stall): its orders stop for
    /// `pause_ms` of virtual time while the rest of the system, leases'
    /// TTLs included, runs on.
    pub pauses: u32,
    /// How long a pause lasts (virtual ms).
    pub pause_ms: u64,
    /// A crashed app node restarts at once, and each order it was running
    /// whose strategy has a recovery runs it (see
    /// [`crate::Strategy::with_recovery`]); the others stay crashed.
    pub restart: bool,
}

/// A pause's length unless `pause_ms` says: longer than the default lease
/// TTL, so that a paused lease holder loses its lease.
pub const DEFAULT_PAUSE_MS: u64 = 250;

impl Default for Faults {
    fn default() -> Faults {
        Faults::NONE
    }
}

impl Faults {
    /// No faults (pauses, if some are added, last [`DEFAULT_PAUSE_MS`]).
    pub const NONE: Faults = Faults {
        crashes: 0,
        lost_replies: 0,
        pauses: 0,
        pause_ms: DEFAULT_PAUSE_MS,
        restart: false,
    };

    /// No fault budget left (`pause_ms` and `restart` say what a fault
    /// does, not how many).
    pub fn is_none(&self) -> bool {
        self.crashes == 0 && self.lost_replies == 0 && self.pauses == 0
    }
}

/// Virtual milliseconds the application spends around each statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Latency {
    /// Round trip of every statement: the order gets its reply this long
    /// after the database answered (locks it holds stay held meanwhile).
    pub statement_ms: u64,
    /// Application work before each of an order's statements but its first.
    pub think_ms: u64,
}

impl Latency {
    pub fn is_zero(&self) -> bool {
        *self == Latency::default()
    }
}

/// `quantity` units of inventory level `level` (its SQL id, from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    pub level: u32,
    pub quantity: i64,
}

/// Bounds on one run; exceeding one is a termination violation, not a hang.
/// `None`: scaled with the scenario ([`Scenario::max_steps`],
/// [`Scenario::max_virtual_ms`]); a [`crate::Simulation`] fills both in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Scheduling steps (statements run plus clock advances).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Virtual milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_virtual_ms: Option<u64>,
}

impl Budget {
    pub fn is_unset(&self) -> bool {
        *self == Budget::default()
    }
}

/// When orders arrive. Each order starts at an offset within
/// `[0, window_ms]` that the chooser picks (a choice in the schedule like any
/// other), then sleeps until then; without a window all start at 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Arrivals {
    /// `None`: [`ARRIVAL_WINDOW_LATENCIES`] statement latencies (0 without a
    /// latency), see [`Scenario::arrival_window_ms`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
}

impl Arrivals {
    pub fn is_unset(&self) -> bool {
        *self == Arrivals::default()
    }
}

/// The order as its strategy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// Index of the order in the scenario (shown as T1, T2, ...).
    pub index: u32,
    pub isolation: Isolation,
    pub lines: Lines,
    pub lock_order: LockOrder,
    /// The app node the order runs on.
    pub node: u32,
    /// The TTL of the leases it takes (the scenario's `lease_ttl_ms`).
    pub lease_ttl_ms: u64,
}

impl Order {
    /// The lines in the order their rows should be locked.
    pub fn lines_to_lock(&self) -> Vec<Line> {
        let mut lines = self.lines.to_vec();
        if self.lock_order == LockOrder::Sorted {
            lines.sort_by_key(|l| l.level);
        }
        lines
    }
}

/// The common scenario shape the command line describes: `orders` orders,
/// each buying `quantity` of every one of `items` items (one location each,
/// `stock` units). With more than one item, every second order lists them in
/// reverse, so that listed-order locking can deadlock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub strategy: String,
    pub orders: usize,
    pub items: usize,
    pub stock: i64,
    pub quantity: i64,
    pub isolation: Isolation,
    pub nodes: u32,
    pub lock_order: LockOrder,
}

impl Shape {
    /// 2 orders of 1 unit against stock 1, one item, one node, READ COMMITTED.
    pub fn new(strategy: &str) -> Shape {
        Shape {
            strategy: strategy.to_string(),
            orders: 2,
            items: 1,
            stock: 1,
            quantity: 1,
            isolation: Isolation::ReadCommitted,
            nodes: 1,
            lock_order: LockOrder::Listed,
        }
    }

    pub fn scenario(&self) -> Scenario {
        let items = self.items as u32;
        Scenario {
            database: Database::default(),
            innodb_snapshot_isolation: false,
            levels: (1..=items)
                .map(|i| Level {
                    item: format!("item-{i}"),
                    location: "location-1".into(),
                    stocked: self.stock,
                    reserved: 0,
                    backorder: false,
                })
                .collect(),
            orders: (0..self.orders)
                .map(|o| {
                    let mut lines: Vec<LineSpec> =
                        (1..=items).map(|level| LineSpec { level, quantity: self.quantity }).collect();
                    if o % 2 == 1 {
                        lines.reverse();
                    }
                    OrderSpec {
                        strategy: self.strategy.clone(),
                        isolation: self.isolation,
                        lines,
                        node: None,
                        lock_order: self.lock_order,
                        lock_timeout_ms: None,
                        count: 1,
                    }
                })
                .collect(),
            generate: Vec::new(),
            latency: Latency::default(),
            budget: Budget::default(),
            arrivals: Arrivals::default(),
            check_nonnegative: false,
            faults: Faults::default(),
            nodes: self.nodes,
            deadlock_timeout_ms: default_deadlock_timeout_ms(),
            lease_ttl_ms: DEFAULT_LEASE_TTL_MS,
        }
    }
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
        Shape {
            orders,
            stock,
            quantity,
            isolation,
            ..Shape::new(strategy)
        }
        .scenario()
    }

    /// The scenario with every `count = n` order spelled out n times and
    /// every generator's orders appended.
    pub fn expanded(&self) -> Scenario {
        let mut scenario = self.clone();
        scenario.orders = self
            .orders
            .iter()
            .flat_map(|o| std::iter::repeat_n(OrderSpec { count: 1, ..o.clone() }, o.count as usize))
            .chain(self.generate.iter().flat_map(|g| (0..g.count as usize).map(|i| g.order(i))))
            .collect();
        scenario.generate.clear();
        scenario
    }

    /// `count` orders taken in turn from this scenario's (expanded) orders:
    /// the same mix of code paths at another concurrency.
    pub fn with_order_count(&self, count: usize) -> Scenario {
        let mut scenario = self.expanded();
        let orders = std::mem::take(&mut scenario.orders);
        scenario.orders = orders.iter().cycle().take(count).cloned().collect();
        scenario
    }

    /// Reads a scenario file (TOML) and validates it; errors name the file,
    /// the line and the field.
    pub fn load(path: &Path, known_strategy: impl Fn(&str) -> bool) -> Result<Scenario, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::new(path, None, format!("cannot read: {e}")))?;
        let scenario: Scenario = FileError::parse_toml(path, &text)?;
        scenario.validate(known_strategy).map_err(|e| {
            let line = locate(&text, &e.field);
            FileError::new(path, line, e.to_string())
        })?;
        Ok(scenario)
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
                lock_order: spec.lock_order,
                node: spec.node.unwrap_or(i as u32 % self.nodes.max(1)),
                lease_ttl_ms: self.lease_ttl_ms,
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
