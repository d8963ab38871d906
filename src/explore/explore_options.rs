//! How to explore ([`ExploreOptions`]): how many timelines from which seed, on how many threads,
//! within which budget, and whether to shrink what is found.

use std::io::IsTerminal;

use super::budget::Budget;
use crate::run::RunOptions;

/// How to explore.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExploreOptions {
    /// Timelines to draw and run.
    pub runs: usize,
    /// Seeds every draw.
    pub seed: u64,
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
    /// `runs` timelines from `seed` within `budget`, on every core, with progress on stderr when
    /// it is a terminal.
    #[must_use]
    pub fn new(runs: usize, seed: u64, budget: Budget) -> Self {
        Self {
            runs,
            seed,
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            budget,
            run: RunOptions::default(),
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
