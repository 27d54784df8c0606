//! The SQL of the transcripts (MariaDB's, and PostgreSQL's completed from
//! them: see `postgres::cases`) as the model's statements.
//!
//! Each line maps to one `Statement`, except a multi-row statement (`WHERE
//! id IN (...)`, `ORDER BY id`), which the driver sends one row at a time,
//! and the lines that do not reach the store (think time, literals,
//! `@@in_transaction`). A statement the vocabulary lacks is an `Err` naming it.

use stockrace::model::{Assign, Guard, LevelId, Lock, Statement, Update};

/// What a transcript line asks of the store.
pub enum Action {
    /// One statement, or several the driver sends for one multi-row
    /// statement (`WHERE id IN (...)`, `ORDER BY id`), whose results add up;
    /// `columns` picks what a SELECT returned, `returning` marks the
    /// MariaDB harness's stand-in for UPDATE ... RETURNING.
    Run {
        statements: Vec<Statement>,
        columns: Columns,
        returning: bool,
    },
    /// `SELECT SLEEP(s)`, `SELECT pg_sleep(s)`: think time; virtual time passes.
    Sleep(u64),
    /// `SELECT 'text'`, `SELECT 1`: no table, nothing for the store.
    Literal,
    /// `SELECT @@in_transaction[, @@innodb_lock_wait_timeout]`.
    InTransaction,
    /// `SET SESSION TRANSACTION ISOLATION LEVEL ...`: the model runs every
    /// autocommit statement at REPEATABLE READ, and InnoDB's autocommit
    /// SELECT is a non-locking consistent read at every level, which is
    /// all the one case that sets it (ser-autocommit) sends afterwards.
    Nothing,
}

#[derive(Clone, Copy)]
pub enum Columns {
    None,
    Stocked,
    StockedVersion,
    Available,
    IdStocked,
}

fn int(text: &str) -> Result<i64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("not a number: {text}"))
}

/// `(a,b,c)` as numbers.
fn values(list: &str) -> Result<Vec<i64>, String> {
    let inner = list.trim().trim_start_matches('(').trim_end_matches(')');
    inner.split(',').map(int).collect()
}

/// `(1,2)` as levels (id 1 is `LevelId(0)`).
fn ids(list: &str) -> Result<Vec<LevelId>, String> {
    Ok(values(list)?
        .into_iter()
        .map(|id| LevelId(id as u32 - 1))
        .collect())
}

pub fn translate(sql: &str, rows: usize) -> Result<Action, String> {
    let unsupported = || Err(format!("no statement in the model for `{sql}`"));
    let run = |statements, columns| Action::Run {
        statements,
        columns,
        returning: false,
    };
    if let Some(level) = sql.strip_prefix("BEGIN ISOLATION LEVEL ") {
        let iso = stockrace::model::Isolation::ALL
            .into_iter()
            .find(|i| i.sql() == level);
        return Ok(run(
            vec![Statement::Begin(iso.ok_or("level")?)],
            Columns::None,
        ));
    }
    match sql {
        "COMMIT" => return Ok(run(vec![Statement::Commit], Columns::None)),
        "ROLLBACK" => return Ok(run(vec![Statement::Rollback], Columns::None)),
        "SELECT 1" => return Ok(Action::Literal),
        "SELECT @@in_transaction" | "SELECT @@in_transaction, @@innodb_lock_wait_timeout" => {
            return Ok(Action::InTransaction)
        }
        "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE" => return Ok(Action::Nothing),
        _ => {}
    }
    if let Some(seconds) = sql
        .strip_prefix("SELECT SLEEP(")
        .or_else(|| sql.strip_prefix("SELECT pg_sleep("))
    {
        let seconds: f64 = seconds.trim_end_matches(')').parse().map_err(|_| "sleep")?;
        return Ok(Action::Sleep((seconds * 1000.0) as u64));
    }
    if sql.starts_with("SELECT '") {
        return Ok(Action::Literal);
    }
    if sql.starts_with("SELECT i.stocked_quantity - coalesce(") {
        let Some((_, id)) = sql.rsplit_once(" WHERE i.id=") else {
            return unsupported();
        };
        let level = LevelId(int(id).map_err(|_| format!("no model statement: {sql}"))? as u32 - 1);
        return Ok(run(
            vec![Statement::Available { level }],
            Columns::Available,
        ));
    }
    if let Some(list) =
        sql.strip_prefix("INSERT INTO reservation(inventory_level_id,quantity) VALUES ")
    {
        let values = values(list)?;
        let statement = Statement::InsertReservation {
            level: LevelId(values[0] as u32 - 1),
            quantity: values[1],
        };
        return Ok(run(vec![statement], Columns::None));
    }
    if let Some(rest) = sql.strip_prefix("UPDATE inventory_level SET ") {
        return update(rest).map_err(|e| format!("{e}: `{sql}`"));
    }
    if let Some(rest) = sql.strip_prefix("SELECT ") {
        let Some((columns, rest)) = rest.split_once(" FROM inventory_level ") else {
            return unsupported();
        };
        let columns = match columns {
            "stocked_quantity" => Columns::Stocked,
            "stocked_quantity, version" => Columns::StockedVersion,
            "stocked_quantity - reserved_quantity" => Columns::Available,
            "id, stocked_quantity" => Columns::IdStocked,
            _ => return unsupported(),
        };
        let (rest, lock) = match rest {
            r if r.ends_with(" FOR UPDATE NOWAIT") => (&r[..r.len() - 18], Lock::ForUpdateNowait),
            r if r.ends_with(" FOR UPDATE") => (&r[..r.len() - 11], Lock::ForUpdate),
            r => (r, Lock::None),
        };
        let levels = match rest {
            "ORDER BY id" => (0..rows as u32).map(LevelId).collect(),
            r => match r.strip_prefix("WHERE id=") {
                Some(id) => vec![LevelId(
                    int(id).map_err(|_| format!("unsupported: {sql}"))? as u32 - 1,
                )],
                None => return unsupported(),
            },
        };
        let statements = levels
            .into_iter()
            .map(|level| Statement::Select { level, lock })
            .collect();
        return Ok(run(statements, columns));
    }
    unsupported()
}

/// `UPDATE inventory_level SET ...` after the SET.
fn update(rest: &str) -> Result<Action, String> {
    let (rest, returning) = match rest.strip_suffix(" RETURNING stocked_quantity") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (sets, condition) = rest.split_once(" WHERE ").ok_or("no WHERE")?;
    let mut template = Update::new(LevelId(0));
    for set in sets.split(", ") {
        let (column, value) = set.split_once('=').ok_or("assignment")?;
        let assign = match value.strip_prefix(column) {
            Some(delta) if delta.starts_with('-') || delta.starts_with('+') => {
                Assign::Add(int(delta.trim_start_matches('+'))?)
            }
            Some(_) => return Err("assignment".into()),
            None => Assign::Set(int(value)?),
        };
        match (column, assign) {
            ("stocked_quantity", a) => template.stocked = a,
            ("reserved_quantity", a) => template.reserved = a,
            ("version", a) => template.version = a,
            _ => return Err("assignment".into()),
        }
    }
    let mut conditions = condition.split(" AND ");
    let key = conditions.next().ok_or("no key")?;
    let levels = if let Some(list) = key.strip_prefix("id IN ") {
        ids(list)?
    } else if let Some(id) = key.strip_prefix("id=") {
        vec![LevelId(int(id)? as u32 - 1)]
    } else {
        return Err("no statement in the model for an UPDATE that scans".into());
    };
    for guard in conditions {
        template.guard = if let Some(v) = guard.strip_prefix("version=") {
            Guard::Version(int(v)?)
        } else if let Some(q) = guard.strip_prefix("stocked_quantity-reserved_quantity>=") {
            Guard::AvailableAtLeast(int(q)?)
        } else if let Some(q) = guard.strip_prefix("stocked_quantity>=") {
            Guard::StockedAtLeast(int(q)?)
        } else if let Some(v) = guard.strip_prefix("stocked_quantity=") {
            Guard::Stocked(int(v)?)
        } else {
            return Err(format!("no Guard for `{guard}`"));
        };
    }
    let statements = levels
        .into_iter()
        .map(|level| Statement::Update(Update { level, ..template }))
        .collect();
    Ok(Action::Run {
        statements,
        columns: Columns::None,
        returning,
    })
}
