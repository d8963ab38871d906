//! Faults: the typed spec a scenario names ([`Fault`]) and the rules the server consults
//! while it serves ([`FaultRules`]).
//!
//! Instant faults (`compact`, `expire_watches`) act on the server once, at their time.
//! Window faults (`idle`, `drop_bookmarks`) become [`FaultRule`]s with a start and an end; the
//! server asks [`FaultRules::bookmark`] before every bookmark it would send. Rules are checked in
//! declaration order and the first one that is not [`Action::Pass`] wins (as in turmoil's
//! `rule.rs`). This module owns no I/O and never reads a clock: callers pass the virtual time.

mod rule;

pub use rule::{Action, FaultRule, FaultRules};

use std::time::Duration;

use serde::Serialize;

/// One fault on a scenario's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// The watched resource goes quiet for `duration`: no writes to it (the scenario is checked
    /// for that) and no bookmarks, so open watch streams carry no bytes at all. Background churn
    /// goes on, so the global resourceVersion moves while the watcher's stays put.
    Idle {
        /// How long the quiet lasts.
        duration: Duration,
    },
    /// History compaction, as etcd does every 5 minutes: every revision older than
    /// `now - retain` (all of them when `retain` is absent) stops being servable, and a watch or
    /// exact list from such a revision gets `410 Expired`.
    Compact {
        /// How much recent history survives.
        retain: Option<Duration>,
    },
    /// Bookmarks are left out for `duration`: legal server behaviour
    /// (<https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks>), so the
    /// watcher's resume point goes stale.
    DropBookmarks {
        /// How long bookmarks are dropped.
        duration: Duration,
    },
    /// Every open watch gets one `ERROR` event carrying a 410 `Expired` Status and then ends,
    /// the way a watcher that fell behind a compaction is cancelled.
    ExpireWatches,
}

impl Fault {
    /// The `kind:` this fault is written with.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Idle { .. } => "idle",
            Self::Compact { .. } => "compact",
            Self::DropBookmarks { .. } => "drop_bookmarks",
            Self::ExpireWatches => "expire_watches",
        }
    }

    /// How long the fault lasts (zero for instant faults).
    #[must_use]
    pub fn duration(&self) -> Duration {
        match self {
            Self::Idle { duration } | Self::DropBookmarks { duration } => *duration,
            Self::Compact { .. } | Self::ExpireWatches => Duration::ZERO,
        }
    }

    /// The window rule this fault installs when it starts at `at`, if it is a window fault.
    #[must_use]
    pub fn rule(&self, at: Duration) -> Option<FaultRule> {
        match self {
            Self::Idle { duration } => Some(FaultRule::silence(at, *duration, "idle")),
            Self::DropBookmarks { duration } => {
                Some(FaultRule::silence(at, *duration, "drop_bookmarks"))
            }
            Self::Compact { .. } | Self::ExpireWatches => None,
        }
    }
}
