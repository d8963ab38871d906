//! Which search draws the timelines ([`Search`]): the old uniform draw, kept for comparison and
//! for the expectations written against it, or the guided one.

use schemars::JsonSchema;
use serde::Deserialize;

/// How timelines are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Every fault of every timeline drawn alike from the budget's kinds, the server as the
    /// scenario says: the search before issue 25, timeline for timeline.
    Uniform,
    /// Swarm testing (each timeline draws from a random subset of the kinds), pairs of a fault
    /// that changes what a client carries and a trigger that exposes it, the server's settings
    /// drawn too, and all of it weighted towards what produced something new.
    #[default]
    Guided,
}

impl Search {
    /// Every search by its name, as `--search` and the budget file's `search:` take it.
    pub const NAMES: [(&'static str, Self); 2] =
        [("uniform", Self::Uniform), ("guided", Self::Guided)];

    /// The search named `name`, if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}
