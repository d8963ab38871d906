//! Why an object is not one kube-apiserver could have stored ([`Violation`]): where, and what
//! is wrong there ([`Problem`]), in words a scenario author reads.

use std::fmt;

/// Why an object is not one kube-apiserver could have stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: `involvedObject`, `spec.containers[0].name`.
    pub path: String,
    /// What.
    pub problem: Problem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is absent (or null).
    Missing {
        /// The schema that requires it.
        of: String,
    },
    /// A field the kind does not have: the apiserver would drop it.
    Unknown {
        /// The schema it is not a field of.
        of: String,
        /// The closest field that exists, when one is close.
        suggestion: Option<String>,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// What the schema says.
        expected: String,
        /// What was found.
        found: &'static str,
    },
    /// A string not in its field's format (`date-time`, `byte`).
    BadFormat {
        /// The format.
        format: String,
    },
    /// A number out of its field's range (`int32`).
    OutOfRange {
        /// The format.
        format: String,
    },
    /// A field the server sets itself.
    ServerSet,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.path;
        match &self.problem {
            Problem::Missing { of } => write!(f, "`{field}` is required by {of}"),
            Problem::Unknown { of, suggestion } => {
                write!(f, "`{field}` is not a field of {of}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            Problem::WrongType { expected, found } => {
                write!(f, "`{field}` must be {expected}, found {found}")
            }
            Problem::BadFormat { format } => write!(f, "`{field}` is not a valid {format}"),
            Problem::OutOfRange { format } => write!(f, "`{field}` does not fit in {format}"),
            Problem::ServerSet => write!(f, "`{field}` is set by the server"),
        }
    }
}
