//! The SQL each statement sends, and how PostgreSQL's answer becomes a reply.

use stockrace_model::{DbError, Reply, Row, SqlState, Statement};
use tokio_postgres::SimpleQueryMessage;

const COLUMNS: &str = "stocked_quantity, reserved_quantity, version";

/// The statement's SQL: its `Display` text, with RETURNING on UPDATE so the
/// updated row comes back as it does from the model.
pub(crate) fn sql(statement: &Statement) -> String {
    match statement {
        Statement::Update(_) => format!("{statement} RETURNING {COLUMNS}"),
        _ => statement.to_string(),
    }
}

/// PostgreSQL's answer as the model's reply. `in_failed_transaction` says the
/// session's transaction had failed: COMMIT then answers ROLLBACK (the
/// protocol's command tag, which tokio-postgres does not expose).
pub(crate) fn reply(
    statement: &Statement,
    messages: &[SimpleQueryMessage],
    in_failed_transaction: bool,
) -> Reply {
    // The rows of the last statement sent (a held-back UPDATE is sent after
    // a locking SELECT in the same query).
    let last = messages[..messages.len().saturating_sub(1)]
        .iter()
        .rposition(|m| matches!(m, SimpleQueryMessage::CommandComplete(_)))
        .map_or(0, |i| i + 1);
    let rows: Vec<Vec<Option<&str>>> = messages[last..]
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some((0..row.len()).map(|i| row.get(i)).collect()),
            _ => None,
        })
        .collect();
    let int = |v: Option<&str>| -> i64 {
        v.and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("PostgreSQL answered {v:?} where a number was expected"))
    };
    let row = |r: &Vec<Option<&str>>| Row {
        stocked: int(r[0]),
        reserved: int(r[1]),
        version: int(r[2]),
    };
    match statement {
        Statement::Begin(_) => Reply::Begin,
        Statement::Commit if in_failed_transaction => Reply::Rollback,
        Statement::Commit => Reply::Commit,
        Statement::Rollback => Reply::Rollback,
        Statement::Select { .. } => Reply::Select(rows.first().map(row)),
        Statement::Update(_) => Reply::Update {
            count: rows.len() as u32,
            row: rows.first().map(row),
        },
        Statement::Available { .. } => Reply::Value(int(rows.first().and_then(|r| r[0]))),
        Statement::InsertReservation { .. } | Statement::InsertSale { .. } => Reply::Insert,
        Statement::AdvisoryLock { .. } => Reply::Locked,
    }
}

/// A PostgreSQL error as the model's error. Errors the model does not know
/// (a missing table, a broken connection) are failures of the harness.
pub(crate) fn error(error: &tokio_postgres::Error) -> DbError {
    let Some(db) = error.as_db_error() else {
        panic!("PostgreSQL connection failed: {error}");
    };
    let state = SqlState::from_code(db.code().code()).unwrap_or_else(|| {
        panic!(
            "PostgreSQL answered {} {}: not an error the model knows",
            db.code().code(),
            db.message()
        )
    });
    // Keep the model's message constants so traces compare equal; pick the
    // one PostgreSQL's text matches.
    let known = [
        DbError::CONCURRENT_UPDATE,
        DbError::READ_WRITE_DEPENDENCIES,
        DbError::DEADLOCK,
        DbError::NOWAIT,
        DbError::LOCK_TIMEOUT,
        DbError::IN_FAILED_TRANSACTION,
        DbError::CHECK_VIOLATION,
        DbError::UNIQUE_VIOLATION,
    ];
    known
        .iter()
        .copied()
        .filter(|k| k.state == state)
        .find(|k| {
            db.message()
                .starts_with(k.message.split(" \"").next().unwrap_or(k.message))
        })
        .or_else(|| known.iter().copied().find(|k| k.state == state))
        .expect("every SqlState has a message")
}
