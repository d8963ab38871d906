//! Why the consumer stopped reading the watcher ([`ConsumerStop`]): recorded as what happened,
//! so that a rule matches the case rather than the words, and reports word it in one place.

use std::time::Duration;

use serde::Serialize;

use super::watcher_fault::WatcherFault;

/// Why the consumer stopped reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerStop {
    /// The watcher's stream ended (`None`): kube's watcher never ends by itself, so something
    /// in the set-up's stream did.
    WatcherReturned,
    /// The future driving a reflector's store returned.
    DriverReturned,
    /// The consumer stopped on an error the stream yielded (`try_next()?`).
    ReturnedError(WatcherFault),
    /// The consumer's task panicked.
    Panicked,
    /// The consumer did not stop within `within` (virtual) of the end of the run: it never
    /// yields to its runtime's timer.
    Hung {
        /// How long it was given.
        within: Duration,
    },
}

impl ConsumerStop {
    /// In words, for reports: `the consumer panicked`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::WatcherReturned => "the watcher stream returned None".to_owned(),
            Self::DriverReturned => "the future driving the store returned".to_owned(),
            Self::ReturnedError(error) => format!(
                "the consumer returned the watcher's error ({})",
                error.message
            ),
            Self::Panicked => "the consumer panicked".to_owned(),
            Self::Hung { within } => format!(
                "hung: the consumer did not stop within {} (virtual) of the end of the run",
                crate::span::format(*within)
            ),
        }
    }
}

/// In words, as [`ConsumerStop::describe`] gives them.
impl Serialize for ConsumerStop {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.describe())
    }
}

impl std::fmt::Display for ConsumerStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}
