//! Errors as PostgreSQL reports them: a SQLSTATE and its message.

use std::fmt;

/// The SQLSTATEs the model can raise. Each maps to PostgreSQL's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SqlState {
    /// 40001
    SerializationFailure,
    /// 40P01
    DeadlockDetected,
    /// 55P03
    LockNotAvailable,
    /// 25P02
    InFailedTransaction,
    /// 23514
    CheckViolation,
    /// 23505: a primary key taken (the `sale` row of an order that sold).
    UniqueViolation,
    /// MariaDB 1062 ER_DUP_ENTRY, SQLSTATE 23000: a key taken; only the
    /// statement is rolled back.
    MariaDbDuplicateKey,
    /// 08006 (connection_failure): the client lost its connection; it
    /// cannot know whether its last statement ran. Not a database's own
    /// answer: a fault the harness injects (a lost reply).
    ConnectionFailure,
    /// MariaDB 1213 ER_LOCK_DEADLOCK, SQLSTATE 40001: InnoDB chose this
    /// transaction as a deadlock victim and rolled all of it back.
    MariaDbDeadlock,
    /// MariaDB 1020 ER_CHECKREAD, SQLSTATE HY000: with
    /// innodb_snapshot_isolation, a locking read or write met a row version
    /// the read view does not see; the whole transaction is rolled back.
    MariaDbRecordChanged,
    /// MariaDB 1205 ER_LOCK_WAIT_TIMEOUT, SQLSTATE HY000 (also NOWAIT and
    /// `WAIT n`): only the statement is rolled back.
    MariaDbLockWaitTimeout,
    /// MariaDB 4025 ER_CONSTRAINT_FAILED, SQLSTATE 23000: a CHECK
    /// constraint failed; only the statement is rolled back.
    MariaDbCheckConstraint,
}

impl SqlState {
    /// The five-character code, exactly as PostgreSQL sends it.
    pub fn code(self) -> &'static str {
        match self {
            SqlState::SerializationFailure => "40001",
            SqlState::DeadlockDetected => "40P01",
            SqlState::LockNotAvailable => "55P03",
            SqlState::InFailedTransaction => "25P02",
            SqlState::CheckViolation => "23514",
            SqlState::ConnectionFailure => "08006",
            SqlState::UniqueViolation => "23505",
            SqlState::MariaDbDuplicateKey => "23000",
            SqlState::MariaDbDeadlock => "40001",
            SqlState::MariaDbRecordChanged | SqlState::MariaDbLockWaitTimeout => "HY000",
            SqlState::MariaDbCheckConstraint => "23000",
        }
    }

    /// A deadlock victim's error: PostgreSQL's 40P01, MariaDB's 1213.
    pub fn is_deadlock(self) -> bool {
        matches!(self, SqlState::DeadlockDetected | SqlState::MariaDbDeadlock)
    }

    /// A transaction the database would not let commit as it ran:
    /// PostgreSQL's 40001, MariaDB's 1020 (with `innodb_snapshot_isolation`).
    /// MariaDB's 1213 shares SQLSTATE 40001 but is a deadlock.
    pub fn is_serialization_failure(self) -> bool {
        matches!(
            self,
            SqlState::SerializationFailure | SqlState::MariaDbRecordChanged
        )
    }

    /// A key already taken: PostgreSQL's 23505, MariaDB's 1062.
    pub fn is_unique_violation(self) -> bool {
        matches!(
            self,
            SqlState::UniqueViolation | SqlState::MariaDbDuplicateKey
        )
    }

    /// MariaDB's error number for a MariaDB error; `None` for PostgreSQL's.
    /// Several MariaDB errors share a SQLSTATE (1020 and 1205 are both
    /// HY000), so the number is what tells them apart.
    pub fn mariadb_code(self) -> Option<u16> {
        match self {
            SqlState::MariaDbDeadlock => Some(1213),
            SqlState::MariaDbRecordChanged => Some(1020),
            SqlState::MariaDbLockWaitTimeout => Some(1205),
            SqlState::MariaDbCheckConstraint => Some(4025),
            SqlState::MariaDbDuplicateKey => Some(1062),
            _ => None,
        }
    }

    /// Parses a five-character PostgreSQL code (the inverse of
    /// [`SqlState::code`] for PostgreSQL's states; MariaDB's are not
    /// looked up by SQLSTATE, which they share).
    pub fn from_code(code: &str) -> Option<SqlState> {
        [
            SqlState::SerializationFailure,
            SqlState::DeadlockDetected,
            SqlState::LockNotAvailable,
            SqlState::InFailedTransaction,
            SqlState::CheckViolation,
            SqlState::ConnectionFailure,
            SqlState::UniqueViolation,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

impl fmt::Display for SqlState {
    /// PostgreSQL's code alone (`40001`); MariaDB's number and SQLSTATE
    /// (`1213 (40001)`), as its clients print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mariadb_code() {
            None => f.write_str(self.code()),
            Some(number) => write!(f, "{number} ({})", self.code()),
        }
    }
}

/// An error a statement returned: the SQLSTATE and PostgreSQL's message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DbError {
    pub state: SqlState,
    pub message: &'static str,
}

impl DbError {
    pub const CONCURRENT_UPDATE: DbError = DbError {
        state: SqlState::SerializationFailure,
        message: "could not serialize access due to concurrent update",
    };
    pub const READ_WRITE_DEPENDENCIES: DbError = DbError {
        state: SqlState::SerializationFailure,
        message: "could not serialize access due to read/write dependencies among transactions",
    };
    pub const DEADLOCK: DbError = DbError {
        state: SqlState::DeadlockDetected,
        message: "deadlock detected",
    };
    pub const NOWAIT: DbError = DbError {
        state: SqlState::LockNotAvailable,
        message: "could not obtain lock on row in relation \"inventory_level\"",
    };
    pub const LOCK_TIMEOUT: DbError = DbError {
        state: SqlState::LockNotAvailable,
        message: "canceling statement due to lock timeout",
    };
    pub const IN_FAILED_TRANSACTION: DbError = DbError {
        state: SqlState::InFailedTransaction,
        message: "current transaction is aborted, commands ignored until end of transaction block",
    };
    pub const UNIQUE_VIOLATION: DbError = DbError {
        state: SqlState::UniqueViolation,
        message: "duplicate key value violates unique constraint \"sale_pkey\"",
    };
    pub const MARIADB_DUPLICATE_KEY: DbError = DbError {
        state: SqlState::MariaDbDuplicateKey,
        message: "Duplicate entry for key 'PRIMARY'",
    };
    /// The client's view of a lost reply: the connection broke while the
    /// statement was on its way (libpq's wording).
    pub const CONNECTION_LOST: DbError = DbError {
        state: SqlState::ConnectionFailure,
        message: "server closed the connection unexpectedly",
    };
    pub const CHECK_VIOLATION: DbError = DbError {
        state: SqlState::CheckViolation,
        message: "new row for relation \"inventory_level\" violates check constraint",
    };
    /// MariaDB's errors, with the server's message texts.
    pub const MARIADB_DEADLOCK: DbError = DbError {
        state: SqlState::MariaDbDeadlock,
        message: "Deadlock found when trying to get lock; try restarting transaction",
    };
    pub const MARIADB_RECORD_CHANGED: DbError = DbError {
        state: SqlState::MariaDbRecordChanged,
        message: "Record has changed since last read in table 'inventory_level'; try restarting transaction",
    };
    pub const MARIADB_LOCK_WAIT_TIMEOUT: DbError = DbError {
        state: SqlState::MariaDbLockWaitTimeout,
        message: "Lock wait timeout exceeded; try restarting transaction",
    };
    pub const MARIADB_CHECK_CONSTRAINT: DbError = DbError {
        state: SqlState::MariaDbCheckConstraint,
        message: "CONSTRAINT `stock_nonneg` failed for `inventory_level`",
    };

    /// MariaDB's number for this error, if it is a MariaDB error.
    pub fn mariadb_code(&self) -> Option<u16> {
        self.state.mariadb_code()
    }

    /// Whether the database rolled the whole transaction back and asks the
    /// client to run it again: a serialization failure or a deadlock
    /// (PostgreSQL 40001, 40P01; MariaDB 1213, and 1020 with
    /// `innodb_snapshot_isolation`). A lock timeout, a NOWAIT refusal or a
    /// CHECK failure is not: the same statement would meet the same answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.state,
            SqlState::SerializationFailure
                | SqlState::DeadlockDetected
                | SqlState::MariaDbDeadlock
                | SqlState::MariaDbRecordChanged
        )
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.state, self.message)
    }
}

impl std::error::Error for DbError {}
