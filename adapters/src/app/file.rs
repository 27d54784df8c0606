//! The app file: which processes to start per order, how to prepare the
//! database, and the checks that judge a run. It lives in the application's
//! own folder; its paths are relative to it.
//!
//! ```toml
//! orders = 2
//! command = ["node", "order.js", "update-levels"]
//! prepare = ["node", "migrate.js"]   # optional, once per sweep, on the template
//! setup = "setup.sql"                # optional, once per sweep, after prepare
//! settle_ms = 5000                   # optional
//! reuse = true                       # optional: a process serves many runs
//! [[check]]
//! name = "no-oversell"
//! sql = "SELECT 1 WHERE :sold > 1"
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use stockrace_sim::FileError;

/// Most orders one app file may start per run: each is a process.
pub const MAX_ORDERS: usize = 64;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    orders: toml::Spanned<i64>,
    command: toml::Spanned<Vec<String>>,
    #[serde(default)]
    prepare: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    setup: Option<toml::Spanned<String>>,
    #[serde(default)]
    settle_ms: Option<toml::Spanned<i64>>,
    #[serde(default)]
    ready_timeout_ms: Option<toml::Spanned<i64>>,
    #[serde(default)]
    run_timeout_ms: Option<toml::Spanned<i64>>,
    #[serde(default)]
    reuse: bool,
    #[serde(default, rename = "check")]
    checks: Vec<RawCheck>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: toml::Spanned<String>,
    sql: toml::Spanned<String>,
}

/// A check run on the run's database after every run: any row it returns
/// means the run violated it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub sql: String,
}

impl Check {
    /// The SQL with `:sold` (units the orders reported sold) and
    /// `:sold_orders` (orders that sold) filled in.
    pub fn sql_for(&self, sold: u64, sold_orders: u64) -> String {
        // Longest name first, so `:sold` does not eat `:sold_orders`.
        self.sql
            .replace(":sold_orders", &sold_orders.to_string())
            .replace(":sold", &sold.to_string())
    }
}

/// A validated app file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppFile {
    /// The file itself, as given.
    pub path: PathBuf,
    /// Its folder: the working directory of every command, and the base of
    /// relative paths.
    pub dir: PathBuf,
    pub orders: usize,
    pub command: Vec<String>,
    pub prepare: Option<Vec<String>>,
    /// The setup SQL file (resolved against `dir`).
    pub setup: Option<PathBuf>,
    /// How long an order may run application code (neither sending a
    /// statement nor exiting) before the scheduler goes on without it.
    pub settle_ms: u64,
    /// How long an order process may take to print `stockrace: ready`.
    pub ready_timeout_ms: u64,
    /// How long one run may take in all before it counts as hung.
    pub run_timeout_ms: u64,
    /// Each order process serves many runs (see the fleet module).
    pub reuse: bool,
    pub checks: Vec<Check>,
}

impl AppFile {
    pub fn load(path: &Path) -> Result<AppFile, FileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FileError::new(path, None, format!("cannot read the app file: {e}")))?;
        AppFile::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<AppFile, FileError> {
        let raw: Raw = FileError::parse_toml(path, text)?;
        let line = |span: std::ops::Range<usize>| {
            1 + text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        };
        let bad =
            |span: std::ops::Range<usize>, why: String| FileError::new(path, Some(line(span)), why);
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };

        let orders = *raw.orders.get_ref();
        if !(1..=MAX_ORDERS as i64).contains(&orders) {
            return Err(bad(
                raw.orders.span(),
                format!("orders: {orders}; must be from 1 to {MAX_ORDERS}"),
            ));
        }
        let command = raw.command.get_ref().clone();
        if command.is_empty() || command[0].trim().is_empty() {
            return Err(bad(
                raw.command.span(),
                "command: must name a program, such as [\"node\", \"order.js\"]".into(),
            ));
        }
        let prepare = match raw.prepare {
            Some(p) if p.get_ref().is_empty() || p.get_ref()[0].trim().is_empty() => {
                return Err(bad(
                    p.span(),
                    "prepare: must name a program, or be left out".into(),
                ))
            }
            Some(p) => Some(p.into_inner()),
            None => None,
        };
        let setup = match raw.setup {
            Some(s) => {
                let file = dir.join(s.get_ref());
                if !file.is_file() {
                    return Err(bad(
                        s.span(),
                        format!("setup: {} is not a file", file.display()),
                    ));
                }
                Some(file)
            }
            None => None,
        };
        let millis = |value: Option<toml::Spanned<i64>>, name: &str, default: u64| match value {
            None => Ok(default),
            Some(v) if (1..=3_600_000).contains(v.get_ref()) => Ok(*v.get_ref() as u64),
            Some(v) => Err(bad(
                v.span(),
                format!(
                    "{name}: {}; must be from 1 to 3600000 (milliseconds)",
                    v.get_ref()
                ),
            )),
        };
        let settle_ms = millis(raw.settle_ms, "settle_ms", 5_000)?;
        let ready_timeout_ms = millis(raw.ready_timeout_ms, "ready_timeout_ms", 60_000)?;
        let run_timeout_ms = millis(raw.run_timeout_ms, "run_timeout_ms", 120_000)?;

        let mut checks: Vec<Check> = Vec::new();
        for check in raw.checks {
            let name = check.name.get_ref().trim().to_string();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(bad(
                    check.name.span(),
                    format!("check name {name:?}: must be one word, such as \"no-oversell\""),
                ));
            }
            if checks.iter().any(|c| c.name == name) {
                return Err(bad(
                    check.name.span(),
                    format!("check name {name:?} is used twice"),
                ));
            }
            if check.sql.get_ref().trim().is_empty() {
                return Err(bad(
                    check.sql.span(),
                    format!("check {name:?}: sql is empty"),
                ));
            }
            checks.push(Check {
                name,
                sql: check.sql.into_inner(),
            });
        }
        if checks.is_empty() {
            return Err(FileError::new(
                path,
                None,
                "no [[check]]: give at least one, e.g. [[check]] name = \"no-oversell\" sql = \"SELECT id FROM inventory_level WHERE stocked_quantity < 0\"".into(),
            ));
        }
        Ok(AppFile {
            path: path.to_path_buf(),
            dir,
            orders: orders as usize,
            command,
            prepare,
            setup,
            settle_ms,
            ready_timeout_ms,
            run_timeout_ms,
            reuse: raw.reuse,
            checks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AppFile, FileError> {
        AppFile::parse(Path::new("dir/app.toml"), text)
    }

    const GOOD: &str = "orders = 2\ncommand = [\"sh\", \"order.sh\"]\n[[check]]\nname = \"no-oversell\"\nsql = \"SELECT 1 WHERE :sold > 1\"\n";

    #[test]
    fn a_good_file_parses_with_defaults() {
        let app = parse(GOOD).unwrap();
        assert_eq!(app.orders, 2);
        assert_eq!(app.dir, PathBuf::from("dir"));
        assert_eq!(app.settle_ms, 5000);
        assert_eq!(app.checks[0].sql_for(2, 2), "SELECT 1 WHERE 2 > 1");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = parse(&GOOD.replace("orders = 2", "orders = 0")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.reason.contains("orders: 0"), "{e}");
        let e = parse(&format!("settle_ms = -1\n{GOOD}")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.reason.contains("settle_ms: -1"), "{e}");
        let e = parse(&format!("colour = 1\n{GOOD}")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.reason.contains("colour"), "{e}");
        let e =
            parse(&GOOD.replace("name = \"no-oversell\"", "name = \"no oversell\"")).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.reason.contains("one word"), "{e}");
        let e = parse(&GOOD.replace("[\"sh\", \"order.sh\"]", "[]")).unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse("orders = 1\ncommand = [\"x\"]\n").unwrap_err();
        assert!(e.reason.contains("[[check]]"), "{e}");
    }

    #[test]
    fn sold_orders_is_not_read_as_sold() {
        let check = Check {
            name: "c".into(),
            sql: "SELECT :sold_orders, :sold".into(),
        };
        assert_eq!(check.sql_for(3, 2), "SELECT 2, 3");
    }
}
