//! Why exploring could not go on ([`Error`]).

use crate::run;

/// Why exploring could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A drawn timeline made a scenario the loader refused, and no redraw helped: a bug in the
    /// budget's drawing, reported rather than skipped.
    #[error("timeline {run} could not be made valid: {source}")]
    Draw {
        /// The run.
        run: usize,
        /// The last refusal.
        #[source]
        source: crate::scenario::Error,
    },
    /// A run could not start.
    #[error(transparent)]
    Run(#[from] run::Error),
    /// `--shard` names no share of an exploration.
    #[error("shard `{given}`: {reason}")]
    Shard {
        /// As given.
        given: String,
        /// Why it is refused.
        reason: String,
    },
    /// Shards' findings that are not shares of one exploration.
    #[error("cannot merge {path}: {reason}")]
    Merge {
        /// The findings file.
        path: String,
        /// What does not fit.
        reason: String,
    },
    /// A scenario could not be built.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::Error),
}
