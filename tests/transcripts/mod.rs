//! The reference transcripts (tests/conformance/reference/*-transcripts.txt)
//! as data: each case's header, its steps in the order the server ran them,
//! what each step returned, and the final rows.
//!
//! The format, shared by the PostgreSQL and the MariaDB harness:
//!
//! ```text
//! --- a) read-then-absolute-write stock=1 q=1 [REPEATABLE READ, innodb_snapshot_isolation=OFF]
//! T1: UPDATE inventory_level SET stocked_quantity=0 WHERE id=1     -> ('ok', 'UPDATE 1 (matched 1, changed 1)', None)
//! T2: UPDATE ...                                                   -> ('BLOCKED', 'waits for T1: ...')
//!    T2 unblocked -> ('ERR', 1213, '40001', 'Deadlock found ...', 0.0, 'in_trx=0')
//! FINAL: [(1, 0, 0, 0), (2, 1, 0, 0)]
//! ```
//!
//! Results are Python literals (the harness printed its tuples); [`Py`]
//! reads them. Notes (`innodb status:`, deferrals) and comments are skipped:
//! the steps are listed in the order they ran.
//!
//! [`sql`] turns the transcripts' SQL into the model's statements, and
//! [`replay`] is the one driver that replays them on a database. What
//! differs between the databases is in [`innodb`] (the InnoDB model,
//! tests/conformance_mariadb_model.rs; a real MariaDB,
//! tests/conformance_mariadb.rs) and [`postgres`] (the PostgreSQL model and
//! a real PostgreSQL, tests/conformance_postgres_transcripts.rs).

#![allow(dead_code)]

pub mod check;
pub mod innodb;
pub mod postgres;
pub mod replay;
pub mod sql;

use stockrace::model::Isolation;

/// A Python literal as the harness printed it.
#[derive(Clone, Debug, PartialEq)]
pub enum Py {
    None,
    Int(i64),
    Float(f64),
    Str(String),
    /// A list or a tuple.
    Seq(Vec<Py>),
}

impl Py {
    pub fn parse(text: &str) -> Result<Py, String> {
        let mut chars = text.trim().chars().peekable();
        let value = parse_value(&mut chars)?;
        match chars.find(|c| !c.is_whitespace()) {
            None => Ok(value),
            Some(c) => Err(format!("unexpected {c:?} after a value in {text}")),
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Py::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Py::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn seq(&self) -> Option<&[Py]> {
        match self {
            Py::Seq(items) => Some(items),
            _ => None,
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn parse_value(chars: &mut Chars) -> Result<Py, String> {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    match chars.peek().copied() {
        Some(open @ ('(' | '[')) => {
            chars.next();
            let close = if open == '(' { ')' } else { ']' };
            let mut items = Vec::new();
            loop {
                while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    chars.next();
                    return Ok(Py::Seq(items));
                }
                items.push(parse_value(chars)?);
            }
        }
        Some(quote @ ('\'' | '"')) => {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\\') => s.extend(chars.next()),
                    Some(c) if c == quote => return Ok(Py::Str(s)),
                    Some(c) => s.push(c),
                    None => return Err("unterminated string".into()),
                }
            }
        }
        Some(_) => {
            let mut word = String::new();
            while let Some(c) = chars.peek().copied() {
                if c == ',' || c == ')' || c == ']' || c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            match word.as_str() {
                "None" => Ok(Py::None),
                _ => word
                    .parse::<i64>()
                    .map(Py::Int)
                    .or_else(|_| word.parse::<f64>().map(Py::Float))
                    .map_err(|_| format!("not a literal: {word}")),
            }
        }
        None => Err("missing value".into()),
    }
}

/// What one statement returned.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The command tag (`UPDATE 1 (matched 1, changed 0)`) and the rows, if any were fetched.
    Ok {
        tag: String,
        rows: Option<Vec<Vec<Py>>>,
    },
    /// `code`: MariaDB's error number (`None` in the PostgreSQL transcripts);
    /// `in_trx`: `@@in_transaction` right after, where recorded; `message`:
    /// the server's text (PostgreSQL's without its `ERROR:  ` prefix).
    Err {
        code: Option<u16>,
        sqlstate: String,
        message: String,
        in_trx: Option<bool>,
    },
    /// Still running when the harness looked: whom it waits for (T numbers), where recorded.
    Blocked { waits_for: Vec<u32> },
}

impl Outcome {
    fn parse(text: &str) -> Result<Outcome, String> {
        let value = Py::parse(text)?;
        let items = value.seq().ok_or("a result is a tuple")?;
        let field = |i: usize| items.get(i).ok_or(format!("short result {text}"));
        match field(0)?.str() {
            Some("ok") => Ok(Outcome::Ok {
                tag: field(1)?.str().ok_or("tag")?.to_string(),
                rows: field(1).and_then(|_| field(2))?.seq().map(|rows| {
                    rows.iter()
                        .map(|r| r.seq().map(<[Py]>::to_vec).unwrap_or_default())
                        .collect()
                }),
            }),
            // MariaDB: ('ERR', errno, sqlstate, message, seconds, 'in_trx=N').
            Some("ERR") if field(1)?.int().is_some() => Ok(Outcome::Err {
                code: field(1)?.int().map(|c| c as u16),
                sqlstate: field(2)?.str().ok_or("sqlstate")?.to_string(),
                message: field(3)?.str().ok_or("message")?.to_string(),
                in_trx: items
                    .iter()
                    .filter_map(Py::str)
                    .find_map(|s| s.strip_prefix("in_trx="))
                    .map(|n| n == "1"),
            }),
            // PostgreSQL: ('ERR', sqlstate, message, seconds).
            Some("ERR") => Ok(Outcome::Err {
                code: None,
                sqlstate: field(1)?.str().ok_or("sqlstate")?.to_string(),
                message: field(2)?
                    .str()
                    .ok_or("message")?
                    .trim_start_matches("ERROR:")
                    .trim_start()
                    .to_string(),
                in_trx: None,
            }),
            Some("BLOCKED") => {
                let detail = items.get(1).and_then(Py::str).unwrap_or("");
                let waits_for = detail
                    .split("waits for T")
                    .skip(1)
                    .filter_map(|rest| rest.split(':').next()?.parse().ok())
                    .collect();
                Ok(Outcome::Blocked { waits_for })
            }
            _ => Err(format!("unknown result {text}")),
        }
    }
}

/// One line of a case: a statement a session sent, or a waiting statement
/// that returned in the meantime.
#[derive(Clone, Debug)]
pub enum Step {
    Sent {
        session: u32,
        sql: String,
        outcome: Outcome,
    },
    Unblocked {
        session: u32,
        outcome: Outcome,
    },
}

#[derive(Clone, Debug)]
pub struct Transcript {
    /// The header's text before the `[...]` settings.
    pub name: String,
    pub section: String,
    pub isolation: Isolation,
    /// `innodb_snapshot_isolation`, for the MariaDB transcripts.
    pub snapshot_isolation: Option<bool>,
    pub steps: Vec<Step>,
    /// `FINAL:`: one tuple per row.
    pub final_rows: Vec<Vec<i64>>,
    /// Line number of the header, for messages.
    pub line: usize,
}

impl Transcript {
    /// The case's short name: `a`, `g-lock1`, `f-weight2`.
    pub fn key(&self) -> &str {
        self.name.split(')').next().unwrap_or(&self.name)
    }

    /// `key [settings]`, unique within a file (the same case runs at several settings).
    pub fn label(&self) -> String {
        let si = match self.snapshot_isolation {
            Some(true) => ", SI",
            _ => "",
        };
        let stock = self
            .stock_in_name()
            .map(|s| format!(" stock={s}"))
            .unwrap_or_default();
        format!("{}{stock} [{}{si}]", self.key(), self.isolation.sql())
    }

    /// How many sessions the case uses (T1..Tn).
    pub fn sessions(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Sent { session, .. } | Step::Unblocked { session, .. } => *session as usize,
            })
            .max()
            .unwrap_or(0)
    }

    /// `stock=N` or `stock N` in the header.
    pub fn stock_in_name(&self) -> Option<i64> {
        let at = self.name.find("stock")? + "stock".len();
        let digits: String = self.name[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

fn isolation(settings: &str) -> Result<Isolation, String> {
    Isolation::ALL
        .into_iter()
        .find(|i| settings.starts_with(i.sql()))
        .ok_or(format!("no isolation level in [{settings}]"))
}

/// Reads every case of a transcript file.
pub fn parse(text: &str) -> Result<Vec<Transcript>, String> {
    let mut cases: Vec<Transcript> = Vec::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}", n + 1);
        if let Some(rest) = line.strip_prefix("===== ") {
            section = rest.to_string();
        } else if let Some(header) = line.strip_prefix("--- ") {
            let (name, settings) = header.rsplit_once(" [").ok_or(at("no [settings]".into()))?;
            let settings = settings.trim_end_matches(']');
            cases.push(Transcript {
                name: name.to_string(),
                section: section.clone(),
                isolation: isolation(settings).map_err(at)?,
                snapshot_isolation: settings
                    .split("innodb_snapshot_isolation=")
                    .nth(1)
                    .map(|v| v.starts_with("ON")),
                steps: Vec::new(),
                final_rows: Vec::new(),
                line: n + 1,
            });
        } else if let Some(rows) = line.strip_prefix("FINAL: ") {
            let case = cases.last_mut().ok_or(at("FINAL outside a case".into()))?;
            let rows = Py::parse(rows).map_err(at)?;
            case.final_rows = rows
                .seq()
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    r.seq()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Py::int)
                        .collect()
                })
                .collect();
        } else if let Some((left, result)) = line.rsplit_once(" -> ") {
            let case = cases.last_mut().ok_or(at("a step outside a case".into()))?;
            let outcome = Outcome::parse(result).map_err(at)?;
            let trimmed = left.trim();
            // `T2 unblocked`; PostgreSQL's harness also wrote `T1 (unblocked earlier stmt)`.
            let unblocked = trimmed
                .strip_suffix(" unblocked")
                .or_else(|| trimmed.strip_suffix(" (unblocked earlier stmt)"));
            let step = if let Some(who) = unblocked {
                Step::Unblocked {
                    session: who
                        .trim_start_matches('T')
                        .parse()
                        .map_err(|_| at("session".into()))?,
                    outcome,
                }
            } else {
                let (who, sql) = trimmed.split_once(": ").ok_or(at("no session".into()))?;
                Step::Sent {
                    session: who
                        .trim_start_matches('T')
                        .parse()
                        .map_err(|_| at("session".into()))?,
                    sql: sql.trim().to_string(),
                    outcome,
                }
            };
            case.steps.push(step);
        }
        // Anything else is a comment or a note (`innodb status:`, deferrals).
    }
    Ok(cases)
}

#[test]
fn literals_parse() {
    let err =
        Py::parse(r#"('ERR', 1020, 'HY000', "Record has changed in table 'x'", 0.5, 'in_trx=0')"#);
    assert_eq!(err.unwrap().seq().unwrap().len(), 6);
    assert_eq!(
        Outcome::parse("('ok', 'SELECT 2', [(1, 5), (2, 5)])").unwrap(),
        Outcome::Ok {
            tag: "SELECT 2".into(),
            rows: Some(vec![
                vec![Py::Int(1), Py::Int(5)],
                vec![Py::Int(2), Py::Int(5)]
            ]),
        }
    );
    assert_eq!(
        Outcome::parse("('BLOCKED', 'waits for T2: x; waits for T1: y')").unwrap(),
        Outcome::Blocked {
            waits_for: vec![2, 1]
        }
    );
    assert_eq!(
        Outcome::parse("('BLOCKED',)").unwrap(),
        Outcome::Blocked { waits_for: vec![] }
    );
}

/// The same reader takes the PostgreSQL reference (replayed by
/// tests/conformance_postgres_transcripts.rs).
#[test]
fn the_postgres_transcripts_parse_too() {
    let text = include_str!("../conformance/reference/postgres-15-transcripts.txt");
    let cases = parse(text).expect("the PostgreSQL reference parses");
    assert_eq!(cases.len(), 66);
    assert!(cases
        .iter()
        .all(|c| !c.steps.is_empty() && !c.final_rows.is_empty()));
    let errors = cases.iter().flat_map(|c| &c.steps).filter(|s| {
        matches!(
            s,
            Step::Sent {
                outcome: Outcome::Err { code: None, .. },
                ..
            }
        )
    });
    assert!(
        errors.count() > 0,
        "PostgreSQL errors carry a SQLSTATE only"
    );
}
