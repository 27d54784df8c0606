//! Why a database server could not be used, for the PostgreSQL and the
//! MariaDB drivers alike: none there (the message says how to start one,
//! and the commands exit 2 with it), or one that refused the run's setup.

use std::fmt;

#[derive(Debug)]
pub enum ServerError {
    /// No server to talk to: the message says how to get one.
    Unreachable(String),
    /// The server answered but the run could not be set up.
    Setup(String),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Unreachable(m) | ServerError::Setup(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ServerError {}
