//! What the runs have shown so far ([`Tally`]), in constant memory: each run's outcomes are
//! folded in and dropped, and only one group per way a set-up failed is kept, with the first
//! timeline that showed it. Not its outcome: a trace is large, findings keep coming in a long
//! exploration, and the run is deterministic, so shrinking runs that timeline again instead.
//!
//! Order-free: a group keeps the smallest timeline number that showed it, whichever thread
//! reports first, so that `--jobs` and `--shard` change how long it takes, never what it finds.

use super::drawn::Drawn;
use super::failure::Failure;
use crate::outcome::Outcome;

/// One way a set-up failed, so far.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) failure: Failure,
    /// The first timeline that showed it, and the set-up's place in that run's matrix.
    pub(super) first: (usize, usize),
    /// How many timelines showed it.
    pub(super) runs: usize,
    /// What was drawn for the first timeline.
    pub(super) drawn: Drawn,
}

/// Every run folded in so far.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Set-up runs (timelines × set-ups).
    pub(super) setup_runs: usize,
    /// Set-up runs that did not recover.
    pub(super) failures: usize,
    groups: Vec<Group>,
}

impl Tally {
    /// Folds in timeline `i`'s run.
    pub(super) fn add(&mut self, i: usize, drawn: &Drawn, outcomes: &[Outcome]) {
        self.setup_runs += outcomes.len();
        for (place, outcome) in outcomes.iter().enumerate() {
            let Some(failure) = Failure::of(outcome) else {
                continue;
            };
            self.failures += 1;
            let first = (i, place);
            match self.groups.iter_mut().find(|g| g.failure == failure) {
                Some(group) => {
                    group.runs += 1;
                    if first < group.first {
                        (group.first, group.drawn) = (first, drawn.clone());
                    }
                }
                None => self.groups.push(Group {
                    failure,
                    first,
                    runs: 1,
                    drawn: drawn.clone(),
                }),
            }
        }
    }

    /// The groups, in the order a single thread running every timeline in turn first saw them.
    pub(super) fn into_groups(self) -> Vec<Group> {
        let mut groups = self.groups;
        groups.sort_by_key(|g| g.first);
        groups
    }
}
