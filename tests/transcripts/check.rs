//! How the driver (replay.rs) compares: a database's reply in the
//! transcript's terms, and an event, a multi-row statement's rows and the
//! final rows against what the transcript recorded.

use super::replay::Db;
use super::sql::Columns;
use super::{Outcome, Py, Step, Transcript};
use stockrace::model::{Event, LevelId, Progress, Reply, Statement};

/// What the database's reply looks like in the transcript's terms: tag and rows.
fn render(
    reply: Reply,
    columns: Columns,
    returning: bool,
    level: Option<LevelId>,
) -> (String, Option<Vec<Vec<i64>>>) {
    match reply {
        Reply::Begin => ("BEGIN".into(), None),
        Reply::Commit => ("COMMIT".into(), None),
        Reply::Rollback => ("ROLLBACK".into(), None),
        Reply::Insert => ("INSERT 1".into(), None),
        Reply::Locked => ("SELECT 1".into(), None),
        Reply::Value(v) => ("SELECT 1".into(), Some(vec![vec![v]])),
        Reply::Select(row) => {
            let row = row.unwrap_or_default();
            let values = match columns {
                Columns::StockedVersion => vec![row.stocked, row.version],
                Columns::Available => vec![row.stocked - row.reserved],
                Columns::IdStocked => vec![i64::from(level.map_or(0, |l| l.sql_id())), row.stocked],
                _ => vec![row.stocked],
            };
            ("SELECT 1".into(), Some(vec![values]))
        }
        Reply::Update { count, row } => {
            let rows = returning.then(|| row.map(|r| vec![r.stocked]).into_iter().collect());
            (format!("UPDATE {count}"), rows)
        }
    }
}

/// The transcript's tag (without MariaDB's `(matched m, changed c)`, and
/// PostgreSQL's `INSERT 0 1` without the OID) and rows.
fn expected(outcome: &Outcome) -> (String, Option<Vec<Vec<i64>>>) {
    let Outcome::Ok { tag, rows } = outcome else {
        unreachable!()
    };
    let tag = tag.split(" (").next().unwrap_or(tag);
    let tag = match tag.strip_prefix("INSERT 0 ") {
        Some(count) => format!("INSERT {count}"),
        None => tag.to_string(),
    };
    let rows = rows.as_ref().map(|rows| {
        rows.iter()
            .map(|r| r.iter().filter_map(Py::int).collect())
            .collect()
    });
    (tag, rows)
}

/// Checks one event against the transcript's outcome for it.
pub fn check_event(
    db: &impl Db,
    event: &Event,
    outcome: &Outcome,
    columns: Columns,
    returning: bool,
) -> Result<(), String> {
    let got = match (event.progress, outcome) {
        (Progress::Done(Ok(reply)), Outcome::Ok { .. }) => {
            let got = render(reply, columns, returning, event.statement.level());
            if got == expected(outcome) {
                return Ok(());
            }
            format!("{got:?}")
        }
        (
            Progress::Done(Err(e)),
            Outcome::Err {
                code,
                sqlstate,
                message,
                in_trx,
            },
        ) => {
            let in_trx_now = db.in_transaction(event.session);
            // The text up to the first quoted name: the server's names the
            // table with its schema, which differs from run to run.
            let text = e.message.split(['\'', '"', '`']).next().unwrap_or("");
            if e.mariadb_code() == *code
                && e.state.code() == sqlstate
                && message.starts_with(text)
                && in_trx.is_none_or(|t| t == in_trx_now)
            {
                return Ok(());
            }
            format!("{e} (in transaction: {in_trx_now})")
        }
        (Progress::Waiting { on }, Outcome::Blocked { waits_for }) => {
            if waits_for.is_empty() || waits_for.contains(&(on.0 + 1)) {
                return Ok(());
            }
            format!("waits for {on}")
        }
        (progress, _) => format!("{progress:?}"),
    };
    Err(format!(
        "{}: expected {outcome:?}, got {got}",
        event.session
    ))
}

/// A multi-row statement sent one row at a time: each must complete; the
/// counts (UPDATE) or rows (SELECT) add up.
pub fn check_rows(own: &[Event], columns: Columns, outcome: &Outcome) -> Result<(), String> {
    let mut count = 0;
    let mut got_rows = Vec::new();
    for event in own {
        match event.progress {
            Progress::Done(Ok(Reply::Update { count: c, .. })) => count += c,
            Progress::Done(Ok(reply)) => got_rows.extend(
                render(reply, columns, false, event.statement.level())
                    .1
                    .unwrap_or_default(),
            ),
            p => return Err(format!("a row of a multi-row statement gave {p:?}")),
        }
    }
    let got = match columns {
        Columns::None => (format!("UPDATE {count}"), None),
        _ => (format!("SELECT {}", got_rows.len()), Some(got_rows)),
    };
    if got != expected(outcome) {
        return Err(format!("expected {outcome:?}, got {got:?}"));
    }
    Ok(())
}

/// The columns a waiting statement selected, from its statement.
pub fn columns_for(statement: &Statement) -> Columns {
    match statement {
        Statement::Available { .. } => Columns::Available,
        _ => Columns::Stocked,
    }
}

/// Whether T`who`'s last sent statement before step `i` was an UPDATE ... RETURNING.
pub fn returning_for(case: &Transcript, i: usize, who: u32) -> bool {
    case.steps[..i].iter().rev().find_map(|s| match s {
        Step::Sent { session, sql, .. } if *session == who => {
            Some(sql.ends_with("RETURNING stocked_quantity"))
        }
        _ => None,
    }) == Some(true)
}

/// The committed rows against the transcript's FINAL line.
pub fn check_final(case: &Transcript, db: &impl Db) -> Result<(), String> {
    let rows = db.committed_rows();
    let got: Vec<Vec<i64>> = if case.final_rows.first().is_some_and(|r| r.len() == 4) {
        rows.iter()
            .enumerate()
            .map(|(i, r)| vec![i as i64 + 1, r.stocked, r.reserved, r.version])
            .collect()
    } else {
        // The reservation cases: (stock of id 1 minus its reservations, reservation rows).
        let count: Option<usize> = (0..rows.len() as u32)
            .map(|l| db.committed_reservation_count(LevelId(l)))
            .sum();
        // A database that does not count them: the sum in the first
        // column is what is compared (each case reserves the same
        // quantity every time, so the count follows from it).
        let count = count.map_or(case.final_rows[0][1], |c| c as i64);
        vec![vec![
            rows[0].stocked - db.committed_reservations(LevelId(0)),
            count,
        ]]
    };
    if got == case.final_rows {
        Ok(())
    } else {
        Err(format!(
            "final rows: expected {:?}, got {got:?}",
            case.final_rows
        ))
    }
}
