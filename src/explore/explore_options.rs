//! How to explore ([`ExploreOptions`]): how many timelines (or for how long) from which seed,
//! which share of them, on how many threads, within which budget, and whether to shrink what is
//! found.

use std::io::IsTerminal;
use std::time::Duration;

use super::budget::Budget;
use super::shard::Shard;
use crate::run::RunOptions;

/// How to explore.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExploreOptions {
    /// Timelines to draw and run, at most (this shard's share of them).
    pub runs: usize,
    /// Run timelines until this much wall time has passed (then shrink what was found); the
    /// timelines run are still numbered from 0, so `runs` set to the count that ran finds the
    /// same.
    pub time: Option<Duration>,
    /// Seeds every draw.
    pub seed: u64,
    /// Which share of the timelines this exploration runs.
    pub shard: Shard,
    /// Timelines run at once, each an isolated world per set-up.
    pub jobs: usize,
    /// What may be drawn.
    pub budget: Budget,
    /// How each set-up runs.
    pub run: RunOptions,
    /// Whether to shrink each finding (and check its file reproduces it); without, a finding
    /// is its first timeline as drawn.
    pub shrink: bool,
    /// Runs that may go into making one finding simpler.
    pub shrink_attempts: usize,
    /// Whether to show progress on stderr.
    pub progress: bool,
}

impl ExploreOptions {
    /// `runs` timelines from `seed` within `budget`, the whole of them, on every core, with
    /// progress on stderr when it is a terminal.
    #[must_use]
    pub fn new(runs: usize, seed: u64, budget: Budget) -> Self {
        Self {
            runs,
            time: None,
            seed,
            shard: Shard::WHOLE,
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            budget,
            // Timelines run in parallel already: a timeline's set-ups one after another keep
            // the threads (and their malloc arenas) to about one per job, so memory stays flat.
            run: RunOptions::default().one_at_a_time(),
            shrink: true,
            shrink_attempts: 150,
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// The same options with `jobs` timelines at once (at least 1).
    #[must_use]
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The same options running timelines for `time` of wall time at most.
    #[must_use]
    pub fn for_time(mut self, time: Duration) -> Self {
        self.time = Some(time);
        self
    }

    /// The same options running only `shard`'s share of the timelines.
    #[must_use]
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// The same options without shrinking: each finding is its first timeline as drawn.
    #[must_use]
    pub fn without_shrinking(mut self) -> Self {
        self.shrink = false;
        self
    }

    /// The same options without progress.
    #[must_use]
    pub fn quiet(mut self) -> Self {
        self.progress = false;
        self
    }
}
