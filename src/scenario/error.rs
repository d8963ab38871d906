//! Errors from reading, parsing and validating a scenario.

use std::fmt;
use std::path::PathBuf;

/// Where in a scenario file something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name (or `<string>` for YAML given as a string).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// The key path, e.g. `timeline[2].at`.
    pub key: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.key.is_empty() {
            write!(f, ": at `{}`", self.key)?;
        }
        Ok(())
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("failed to read scenario {path}")]
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8; no YAML parser can give a line for that, so the byte offset is named.
    #[error("{file}: not valid UTF-8 at byte {offset}")]
    NotUtf8 {
        /// The file name.
        file: String,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The YAML does not have the shape of a scenario.
    #[error("{location}: {message}")]
    Parse {
        /// Where.
        location: Location,
        /// What was expected.
        message: String,
    },
    /// The YAML parses but says something impossible.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
}

/// Result with [`enum@Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
