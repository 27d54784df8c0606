//! The statement vocabulary strategies speak, and what the store answers.
//!
//! Statements are small `Copy` values so a trace can keep every one of them
//! without allocating; `Display` renders them as the SQL they stand for.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An inventory level (one item at one location): the row `inventory_level`
/// with `id = index + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LevelId(pub u32);

impl LevelId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// The SQL primary key of the row.
    pub fn sql_id(self) -> u32 {
        self.0 + 1
    }
}

/// Transaction isolation level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    pub const ALL: [Isolation; 3] = [
        Isolation::ReadCommitted,
        Isolation::RepeatableRead,
        Isolation::Serializable,
    ];

    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }

    /// The kebab-case name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read-committed",
            Isolation::RepeatableRead => "repeatable-read",
            Isolation::Serializable => "serializable",
        }
    }

    pub fn from_name(name: &str) -> Option<Isolation> {
        Isolation::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// The columns of one `inventory_level` row that the model tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Row {
    pub stocked: i64,
    pub reserved: i64,
    pub version: i64,
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stocked={} reserved={} version={}",
            self.stocked, self.reserved, self.version
        )
    }
}

/// Row lock requested by a SELECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lock {
    None,
    ForUpdate,
    /// `FOR UPDATE NOWAIT`: 55P03 at once instead of waiting.
    ForUpdateNowait,
}

/// New value of a column in an UPDATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assign {
    /// Column unchanged.
    Keep,
    /// `col = value` (an absolute value computed by the application).
    Set(i64),
    /// `col = col + delta` (relative, evaluated on the row version updated).
    Add(i64),
}

impl Assign {
    fn apply(self, old: i64) -> i64 {
        match self {
            Assign::Keep => old,
            Assign::Set(v) => v,
            Assign::Add(d) => old + d,
        }
    }
}

/// Extra condition of an UPDATE's WHERE clause, besides `id = ?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Guard {
    None,
    /// `AND version = v` (optimistic lock on a version column).
    Version(i64),
    /// `AND stocked_quantity = v` (compare-and-set on the value read).
    Stocked(i64),
    /// `AND stocked_quantity >= q` (guarded decrement).
    StockedAtLeast(i64),
    /// `AND stocked_quantity - reserved_quantity >= q` (guarded reservation
    /// on the reserved column).
    AvailableAtLeast(i64),
    /// `AND version < t`: a fencing token's claim (the version column holds
    /// the token of the last lease holder that claimed the row).
    VersionBelow(i64),
}

impl Guard {
    pub fn matches(self, row: &Row) -> bool {
        match self {
            Guard::None => true,
            Guard::Version(v) => row.version == v,
            Guard::Stocked(v) => row.stocked == v,
            Guard::StockedAtLeast(q) => row.stocked >= q,
            Guard::AvailableAtLeast(q) => row.stocked - row.reserved >= q,
            Guard::VersionBelow(t) => row.version < t,
        }
    }
}

/// `UPDATE inventory_level SET ... WHERE id = level [AND guard]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Update {
    pub level: LevelId,
    pub stocked: Assign,
    pub reserved: Assign,
    /// `version = version + 1` (optimistic locking), or `version = t` (a
    /// fencing token).
    pub version: Assign,
    pub guard: Guard,
}

impl Update {
    /// An update of `level` that changes nothing yet; set the fields you need.
    pub fn new(level: LevelId) -> Update {
        Update {
            level,
            stocked: Assign::Keep,
            reserved: Assign::Keep,
            version: Assign::Keep,
            guard: Guard::None,
        }
    }

    /// The row this update would produce from `old`.
    pub fn apply(&self, old: &Row) -> Row {
        Row {
            stocked: self.stocked.apply(old.stocked),
            reserved: self.reserved.apply(old.reserved),
            version: self.version.apply(old.version),
        }
    }
}

/// One statement a session sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Statement {
    Begin(Isolation),
    Commit,
    Rollback,
    /// `SELECT stocked_quantity, reserved_quantity, version FROM inventory_level WHERE id = ? [FOR UPDATE [NOWAIT]]`
    Select {
        level: LevelId,
        lock: Lock,
    },
    Update(Update),
    /// `SELECT stocked_quantity - SUM(reservation.quantity)`: stock not yet
    /// reserved, counted from the reservation rows (a predicate read).
    Available {
        level: LevelId,
    },
    /// `INSERT INTO reservation (inventory_level_id, quantity)`.
    InsertReservation {
        level: LevelId,
        quantity: i64,
    },
    /// `SELECT pg_advisory_xact_lock(key)`: waits like a row lock, released
    /// when the transaction ends.
    AdvisoryLock {
        key: u32,
    },
    /// `INSERT INTO sale (order_id)`: the order's sale, under a primary key
    /// (order ids from 0; `order_id` is the SQL id, from 1).
    InsertSale {
        order: u32,
    },
}

impl Statement {
    /// The row the statement reads or writes, if any.
    pub fn level(&self) -> Option<LevelId> {
        match self {
            Statement::Select { level, .. }
            | Statement::Available { level }
            | Statement::InsertReservation { level, .. } => Some(*level),
            Statement::Update(u) => Some(u.level),
            _ => None,
        }
    }
}

const COLUMNS: &str = "stocked_quantity, reserved_quantity, version";

fn write_assign(f: &mut fmt::Formatter<'_>, column: &str, assign: Assign) -> fmt::Result {
    match assign {
        Assign::Keep => Ok(()),
        Assign::Set(v) => write!(f, "{column}={v}"),
        Assign::Add(d) if d < 0 => write!(f, "{column}={column}-{}", -d),
        Assign::Add(d) => write!(f, "{column}={column}+{d}"),
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Begin(iso) => write!(f, "BEGIN ISOLATION LEVEL {}", iso.sql()),
            Statement::Commit => f.write_str("COMMIT"),
            Statement::Rollback => f.write_str("ROLLBACK"),
            Statement::Select { level, lock } => {
                write!(
                    f,
                    "SELECT {COLUMNS} FROM inventory_level WHERE id={}",
                    level.sql_id()
                )?;
                match lock {
                    Lock::None => Ok(()),
                    Lock::ForUpdate => f.write_str(" FOR UPDATE"),
                    Lock::ForUpdateNowait => f.write_str(" FOR UPDATE NOWAIT"),
                }
            }
            Statement::Available { level } => write!(
                f,
                "SELECT i.stocked_quantity - coalesce((SELECT sum(quantity) FROM reservation \
                 WHERE inventory_level_id={0}), 0) FROM inventory_level i WHERE id={0}",
                level.sql_id()
            ),
            Statement::InsertReservation { level, quantity } => write!(
                f,
                "INSERT INTO reservation(inventory_level_id, quantity) VALUES ({}, {quantity})",
                level.sql_id()
            ),
            Statement::AdvisoryLock { key } => write!(f, "SELECT pg_advisory_xact_lock({key})"),
            Statement::InsertSale { order } => {
                write!(f, "INSERT INTO sale(order_id) VALUES ({})", order + 1)
            }
            Statement::Update(u) => {
                f.write_str("UPDATE inventory_level SET ")?;
                let mut first = true;
                for (column, assign) in [
                    ("stocked_quantity", u.stocked),
                    ("reserved_quantity", u.reserved),
                    ("version", u.version),
                ] {
                    if assign != Assign::Keep {
                        if !first {
                            f.write_str(", ")?;
                        }
                        write_assign(f, column, assign)?;
                        first = false;
                    }
                }
                if first {
                    // An UPDATE must set something; `version=version` is a no-op write.
                    f.write_str("version=version")?;
                }
                write!(f, " WHERE id={}", u.level.sql_id())?;
                match u.guard {
                    Guard::None => Ok(()),
                    Guard::Version(v) => write!(f, " AND version={v}"),
                    Guard::Stocked(v) => write!(f, " AND stocked_quantity={v}"),
                    Guard::StockedAtLeast(q) => write!(f, " AND stocked_quantity>={q}"),
                    Guard::AvailableAtLeast(q) => {
                        write!(f, " AND stocked_quantity-reserved_quantity>={q}")
                    }
                    Guard::VersionBelow(t) => write!(f, " AND version<{t}"),
                }
            }
        }
    }
}

/// What a statement that completed returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    Begin,
    Commit,
    /// ROLLBACK, or the answer to COMMIT of a transaction that had failed.
    Rollback,
    /// SELECT: the row, or `None` when no row matched.
    Select(Option<Row>),
    /// UPDATE: rows affected (0 or 1) and the row as updated.
    Update {
        count: u32,
        row: Option<Row>,
    },
    /// A single computed value (the available quantity).
    Value(i64),
    /// INSERT of one row.
    Insert,
    /// `pg_advisory_xact_lock` returned (a row holding void).
    Locked,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Begin => f.write_str("BEGIN"),
            Reply::Commit => f.write_str("COMMIT"),
            Reply::Rollback => f.write_str("ROLLBACK"),
            Reply::Select(None) => f.write_str("SELECT 0"),
            Reply::Select(Some(r)) => {
                write!(f, "SELECT 1 ({},{},{})", r.stocked, r.reserved, r.version)
            }
            Reply::Update { count, .. } => write!(f, "UPDATE {count}"),
            Reply::Value(v) => write!(f, "SELECT 1 ({v})"),
            Reply::Insert => f.write_str("INSERT 0 1"),
            Reply::Locked => f.write_str("SELECT 1"),
        }
    }
}
