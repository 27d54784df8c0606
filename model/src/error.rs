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
        }
    }

    /// Parses a five-character code (the inverse of [`SqlState::code`]).
    pub fn from_code(code: &str) -> Option<SqlState> {
        [
            SqlState::SerializationFailure,
            SqlState::DeadlockDetected,
            SqlState::LockNotAvailable,
            SqlState::InFailedTransaction,
            SqlState::CheckViolation,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
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
    pub const CHECK_VIOLATION: DbError = DbError {
        state: SqlState::CheckViolation,
        message: "new row for relation \"inventory_level\" violates check constraint",
    };
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.state, self.message)
    }
}

impl std::error::Error for DbError {}
