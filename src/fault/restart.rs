//! What a restart does to the resourceVersion clock: [`Restart`] as the server plays it, and
//! [`Revision`] as a file's `revision:` names it (with `by:` for a regress).

use serde::{Deserialize, Serialize};

/// What a restart does to the resourceVersion clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "revision", rename_all = "snake_case")]
pub enum Restart {
    /// The clock goes on; only the watch cache's history is lost (an apiserver restart).
    Keep,
    /// etcd starts afresh: every object is written again from revision 1.
    Reset,
    /// etcd is restored from a backup taken `by` revisions ago: the state of then comes back
    /// and the clock counts on from there, reusing revisions clients have already seen.
    Regress {
        /// How many revisions back.
        by: u64,
    },
}

/// What a restart does to the resourceVersion clock, as `revision:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Revision {
    /// See [`Restart::Keep`].
    Keep,
    /// See [`Restart::Reset`].
    Reset,
    /// See [`Restart::Regress`]; `by:` says how far.
    Regress,
}

impl Restart {
    /// `revision:` and `by:`, as a file writes them.
    #[must_use]
    pub fn parts(self) -> (Revision, Option<u64>) {
        match self {
            Self::Keep => (Revision::Keep, None),
            Self::Reset => (Revision::Reset, None),
            Self::Regress { by } => (Revision::Regress, Some(by)),
        }
    }

    /// The restart that `revision:` and `by:` describe.
    ///
    /// # Errors
    /// The key at fault and why: `regress` without `by` (or `by: 0`), or `by` without it.
    pub fn from_parts(
        revision: Revision,
        by: Option<u64>,
    ) -> Result<Self, (&'static str, &'static str)> {
        match (revision, by) {
            (Revision::Regress, Some(by)) if by > 0 => Ok(Self::Regress { by }),
            (Revision::Regress, _) => Err((
                "by",
                "`revision: regress` needs `by`: how many revisions back (at least 1)",
            )),
            (_, Some(_)) => Err(("by", "`by` only applies to `revision: regress`")),
            (Revision::Keep, None) => Ok(Self::Keep),
            (Revision::Reset, None) => Ok(Self::Reset),
        }
    }
}
