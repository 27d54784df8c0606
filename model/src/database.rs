//! Which database's rules a store follows. Each has its own folder
//! (`postgres/`, `innodb/`); this names them for files, flags and output.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A database whose semantics stockrace models.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Database {
    /// PostgreSQL 15 (`crate::Store`).
    #[default]
    #[serde(rename = "postgres-15")]
    Postgres15,
    /// MariaDB 10.11 with InnoDB (`crate::innodb::InnoDbStore`).
    #[serde(rename = "mariadb-10.11")]
    MariaDb1011,
}

impl Database {
    pub const ALL: [Database; 2] = [Database::Postgres15, Database::MariaDb1011];

    /// The name used on the command line, in files and in output.
    pub fn name(self) -> &'static str {
        match self {
            Database::Postgres15 => "postgres-15",
            Database::MariaDb1011 => "mariadb-10.11",
        }
    }

    pub fn from_name(name: &str) -> Option<Database> {
        Database::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The names of every database, for a message: `postgres-15, mariadb-10.11`.
    pub fn names() -> String {
        Database::ALL.map(Database::name).join(", ")
    }

    /// Whether a deadlock is found inside the statement whose wait closes
    /// it (InnoDB), rather than by a waiter's check `deadlock_timeout`
    /// later (PostgreSQL).
    pub fn finds_deadlocks_at_once(self) -> bool {
        self == Database::MariaDb1011
    }

    /// How reports name this database's serialization failures and
    /// deadlocks (see [`crate::SqlState::is_serialization_failure`] and
    /// [`crate::SqlState::is_deadlock`]).
    pub fn failure_names(self) -> (&'static str, &'static str) {
        match self {
            Database::Postgres15 => ("40001 serialization failures", "40P01 deadlocks"),
            Database::MariaDb1011 => ("1020 snapshot-isolation failures", "1213 deadlocks"),
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Database::default()
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn names_round_trip_through_files_and_flags() {
        for database in Database::ALL {
            assert_eq!(Database::from_name(database.name()), Some(database));
            let toml = serde_json::to_string(&database);
            assert_eq!(toml.ok(), Some(format!("\"{}\"", database.name())));
        }
        assert_eq!(Database::from_name("mysql"), None);
    }
}
