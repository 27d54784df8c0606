//! Why an app session or run could not go on.

use std::fmt;

#[derive(Debug)]
pub enum AppError {
    /// The server, the app's commands or its checks could not be used: bad
    /// input or setup (exit status 2). The message says what and how to fix it.
    Setup(String),
    /// Ctrl-C: everything the run started is gone.
    Interrupted,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Setup(m) => f.write_str(m),
            AppError::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for AppError {}
