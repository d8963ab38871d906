//! Whom a request or stream fault hits ([`Target`]): the verbs ([`TargetVerb`]), a time window,
//! a count, and substrings of the path and query.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::Verb;

/// Whom a request or stream fault hits. Every field narrows; none set means every request of
/// the fault's kind from its start on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The verbs it hits; empty means every verb the fault applies to.
    pub verbs: Vec<TargetVerb>,
    /// How long after its start it hits (`for:`); `None` means until the end of the run.
    pub window: Option<Duration>,
    /// How many matching requests (or, for instant stream faults, open watches) it hits.
    pub count: Option<u64>,
    /// A substring the request path must contain.
    pub path: Option<String>,
    /// A substring the raw query string must contain.
    pub query: Option<String>,
}

/// A verb a fault can target, as scenarios write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetVerb {
    /// LIST, every page.
    List,
    /// WATCH.
    Watch,
    /// GET of one object.
    Get,
}

impl TargetVerb {
    /// How a scenario writes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Watch => "watch",
            Self::Get => "get",
        }
    }

    /// Whether a request the server took for `verb` is one this targets.
    pub(super) fn covers(self, verb: Verb) -> bool {
        matches!(
            (self, verb),
            (Self::List, Verb::List | Verb::ListPage)
                | (Self::Watch, Verb::Watch)
                | (Self::Get, Verb::Get)
        )
    }
}
