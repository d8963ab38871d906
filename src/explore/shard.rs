//! A share of an exploration ([`Shard`]): `--shard K/N` runs every N-th timeline from K, so
//! that N machines (a GitHub Actions matrix, nextest's `--partition`) share one exploration and
//! `harness explore merge` puts their findings back together as one run would have found them.

use std::fmt;
use std::str::FromStr;

use super::error::Error;

/// Lanes the guided search learns along: timeline `i` learns only from the earlier timelines
/// of lane `i % LANES`. A shard must hold whole lanes for its draws to be the ones a single
/// run makes, so its count divides this (1, 2, 3, 4, 6, 8, 12 or 24 machines).
pub const LANES: usize = 24;

/// Shard `index` of `count`: timelines `index`, `index + count`, `index + 2 count`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 0.
    pub index: usize,
    /// Of how many.
    pub count: usize,
}

impl Shard {
    /// The whole exploration, on one machine.
    pub const WHOLE: Self = Self { index: 0, count: 1 };

    /// Whether this is the whole exploration.
    #[must_use]
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The number of this shard's `j`-th timeline in the whole exploration.
    #[must_use]
    pub fn timeline(self, j: usize) -> usize {
        self.index + j * self.count
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    fn from_str(given: &str) -> Result<Self, Error> {
        let refuse = |reason: String| Error::Shard {
            given: given.to_owned(),
            reason,
        };
        let (index, count) = given
            .split_once('/')
            .ok_or_else(|| refuse("expected K/N, e.g. 0/4 for the first of four".into()))?;
        let number = |text: &str| {
            text.trim()
                .parse::<usize>()
                .map_err(|_| refuse(format!("`{text}` is not a whole number")))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || index >= count {
            return Err(refuse(format!(
                "needs 0 ≤ K < N; shards of {count} are numbered 0 to {}",
                count.saturating_sub(1)
            )));
        }
        if !LANES.is_multiple_of(count) {
            return Err(refuse(format!(
                "N must divide {LANES} (1, 2, 3, 4, 6, 8, 12 or 24), so that every shard holds whole search lanes"
            )));
        }
        Ok(Self { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_runs_every_nth_timeline_from_its_index() {
        let shard: Shard = "1/4".parse().unwrap();
        let timelines: Vec<usize> = (0..3).map(|j| shard.timeline(j)).collect();
        assert_eq!(timelines, [1, 5, 9]);
        assert_eq!(shard.to_string(), "1/4");
    }

    #[test]
    fn a_shard_past_its_count_or_of_a_count_that_splits_lanes_is_refused() {
        for (given, says) in [
            ("4/4", "0 ≤ K < N"),
            ("0/0", "0 ≤ K < N"),
            ("1/5", "must divide 24"),
            ("one/2", "not a whole number"),
            ("3", "expected K/N"),
        ] {
            let error = given.parse::<Shard>().unwrap_err().to_string();
            assert!(error.contains(says), "{given}: {error}");
        }
    }
}
