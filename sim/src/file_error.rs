//! A file that cannot be used: its path, the line when known, and why.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

impl FileError {
    pub fn new(path: &Path, line: Option<usize>, reason: String) -> FileError {
        FileError {
            path: path.to_path_buf(),
            line,
            reason,
        }
    }

    /// Parses TOML, turning a parse error into the file, its line and the reason.
    pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
        toml::from_str::<T>(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| 1 + text.as_bytes()[..s.start.min(text.len())].iter().filter(|&&b| b == b'\n').count());
            FileError::new(path, line, e.message().trim().to_string())
        })
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

impl std::error::Error for FileError {}
