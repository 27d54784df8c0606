//! The SQL each statement sends to MariaDB, and how its answer becomes the
//! model's reply or error.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, ServerError};
use stockrace_model::{Assign, DbError, Reply, Row, Statement, Update};

/// What a statement got back: a reply, or a server error (number, SQLSTATE, message).
pub(crate) type Answer = Result<Reply, ServerError>;

/// The UPDATE with every column captured into user variables as the row
/// is written, so the updated row comes back without a second read
/// (MariaDB 10.11 has no UPDATE ... RETURNING, and a plain SELECT after
/// it would open the transaction's read view). Columns the statement
/// keeps are assigned their own value, which changes nothing.
pub(crate) fn update_sql(u: &Update) -> String {
    let column = |name: &str, var: &str, assign: Assign| match assign {
        Assign::Keep => format!("{name}=(@{var}:={name})"),
        Assign::Set(v) => format!("{name}=(@{var}:={v})"),
        Assign::Add(d) if d < 0 => format!("{name}=(@{var}:={name}-{})", -d),
        Assign::Add(d) => format!("{name}=(@{var}:={name}+{d})"),
    };
    let plain = Statement::Update(*u).to_string();
    let condition = plain
        .split_once(" WHERE ")
        .map_or(String::new(), |(_, c)| c.to_string());
    format!(
        "UPDATE inventory_level SET {}, {}, {} WHERE {condition}",
        column("stocked_quantity", "stockrace_s", u.stocked),
        column("reserved_quantity", "stockrace_r", u.reserved),
        column("version", "stockrace_v", u.version),
    )
}

/// Runs `statement` on `conn` and waits for its answer. Errors other than
/// the server's (a lost connection) are failures of the harness.
pub(crate) async fn run(conn: &mut Conn, statement: Statement) -> Answer {
    let server = |e: mysql_async::Error| match e {
        mysql_async::Error::Server(e) => e,
        e => panic!("MariaDB: `{statement}` failed without a server error: {e}"),
    };
    match statement {
        Statement::Begin(isolation) => {
            conn.query_drop(format!(
                "SET TRANSACTION ISOLATION LEVEL {}",
                isolation.sql()
            ))
            .await
            .map_err(server)?;
            conn.query_drop("BEGIN").await.map_err(server)?;
            Ok(Reply::Begin)
        }
        Statement::Commit => {
            conn.query_drop("COMMIT").await.map_err(server)?;
            Ok(Reply::Commit)
        }
        Statement::Rollback => {
            conn.query_drop("ROLLBACK").await.map_err(server)?;
            Ok(Reply::Rollback)
        }
        Statement::Select { .. } => {
            let rows: Vec<(i64, i64, i64)> =
                conn.query(statement.to_string()).await.map_err(server)?;
            Ok(Reply::Select(rows.first().map(|&(s, r, v)| Row {
                stocked: s,
                reserved: r,
                version: v,
            })))
        }
        Statement::Available { .. } => {
            // stocked minus a SUM: a DECIMAL, sent as text.
            let value: Option<Option<String>> = conn
                .query_first(statement.to_string())
                .await
                .map_err(server)?;
            let value = value.flatten().unwrap_or_else(|| {
                panic!("MariaDB: `{statement}` returned no row (the level is missing)")
            });
            Ok(Reply::Value(value.parse().unwrap_or_else(|_| {
                panic!("MariaDB: `{statement}` returned {value:?}, not a whole number")
            })))
        }
        Statement::InsertReservation { .. } | Statement::InsertSale { .. } => {
            conn.query_drop(statement.to_string())
                .await
                .map_err(server)?;
            Ok(Reply::Insert)
        }
        Statement::Update(u) => {
            conn.query_drop(update_sql(&u)).await.map_err(server)?;
            // Rows matched (CLIENT_FOUND_ROWS), as the model counts them.
            let count = conn.affected_rows() as u32;
            let row = if count > 0 {
                let row: Option<(i64, i64, i64)> = conn
                    .query_first("SELECT @stockrace_s, @stockrace_r, @stockrace_v")
                    .await
                    .map_err(server)?;
                row.map(|(s, r, v)| Row {
                    stocked: s,
                    reserved: r,
                    version: v,
                })
            } else {
                None
            };
            Ok(Reply::Update { count, row })
        }
        Statement::AdvisoryLock { key } => panic!(
            "MariaDB has no pg_advisory_xact_lock({key}): a strategy that takes advisory \
             locks cannot run on the MariaDB backend"
        ),
    }
}

/// A server error as the model's error: MariaDB's number decides, and the
/// SQLSTATE must be the one the model gives that number. `None` for an
/// error the model does not know.
pub(crate) fn error(e: &ServerError) -> Option<DbError> {
    let known = match e.code {
        1213 => DbError::MARIADB_DEADLOCK,
        1020 => DbError::MARIADB_RECORD_CHANGED,
        1205 => DbError::MARIADB_LOCK_WAIT_TIMEOUT,
        4025 => DbError::MARIADB_CHECK_CONSTRAINT,
        1062 => DbError::MARIADB_DUPLICATE_KEY,
        _ => return None,
    };
    (known.state.code() == e.state).then_some(known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockrace_model::{Guard, LevelId};

    #[test]
    fn an_update_captures_the_row_it_writes() {
        let mut u = Update::new(LevelId(0));
        u.stocked = Assign::Add(-1);
        u.guard = Guard::StockedAtLeast(1);
        assert_eq!(
            update_sql(&u),
            "UPDATE inventory_level SET stocked_quantity=(@stockrace_s:=stocked_quantity-1), \
             reserved_quantity=(@stockrace_r:=reserved_quantity), \
             version=(@stockrace_v:=version) WHERE id=1 AND stocked_quantity>=1"
        );
        u.version = Assign::Add(1);
        u.stocked = Assign::Set(0);
        u.guard = Guard::Version(3);
        assert_eq!(
            update_sql(&u),
            "UPDATE inventory_level SET stocked_quantity=(@stockrace_s:=0), \
             reserved_quantity=(@stockrace_r:=reserved_quantity), \
             version=(@stockrace_v:=version+1) WHERE id=1 AND version=3"
        );
    }

    #[test]
    fn server_errors_map_by_number_and_sqlstate() {
        let e = |code, state: &str| ServerError {
            code,
            state: state.into(),
            message: String::new(),
        };
        assert_eq!(error(&e(1213, "40001")), Some(DbError::MARIADB_DEADLOCK));
        assert_eq!(
            error(&e(1020, "HY000")),
            Some(DbError::MARIADB_RECORD_CHANGED)
        );
        assert_eq!(
            error(&e(1205, "HY000")),
            Some(DbError::MARIADB_LOCK_WAIT_TIMEOUT)
        );
        assert_eq!(
            error(&e(4025, "23000")),
            Some(DbError::MARIADB_CHECK_CONSTRAINT)
        );
        assert_eq!(error(&e(1213, "HY000")), None);
        assert_eq!(error(&e(1146, "42S02")), None);
    }
}
