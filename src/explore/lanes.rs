//! Feedback lanes ([`Lanes`]): timeline `i` belongs to lane `i % LANES` and is drawn with the
//! coverage its lane learned from the lane's earlier timelines, in number order. What is drawn
//! then depends on the seed and the number alone, never on how many threads run or which
//! finishes first, and every N-th timeline from K (N dividing [`LANES`]) is whole lanes, so a
//! shard draws what a single run draws.
//!
//! Threads take timelines in number order; one whose lane is still learning from the timeline
//! before it (24 numbers back) waits for it. That one was taken earlier and is running, so the
//! wait ends, and with two jobs and 24 lanes it is rare.

use std::sync::{Condvar, Mutex};

use super::coverage::Coverage;
use super::draw::draw;
use super::drawn::Drawn;
use super::error::Error;
use super::explore_options::ExploreOptions;
use super::shard::LANES;
use crate::outcome::Outcome;
use crate::run;
use crate::scenario::Document;

/// One lane: what it has learned, and the next timeline it waits to learn from.
#[derive(Default)]
struct Lane {
    coverage: Coverage,
    /// The number of the next timeline of this lane the coverage has not learned from.
    next: usize,
}

/// Every lane's coverage.
pub(super) struct Lanes {
    lanes: Vec<Mutex<Lane>>,
    learned: Condvar,
}

impl Lanes {
    /// Lanes that have learned nothing; the first timeline of lane `l` is `l`.
    pub(super) fn new() -> Self {
        Self {
            lanes: (0..LANES)
                .map(|l| {
                    Mutex::new(Lane {
                        next: l,
                        ..Lane::default()
                    })
                })
                .collect(),
            learned: Condvar::new(),
        }
    }

    /// The coverage timeline `i` is drawn with, once its lane has learned from every earlier
    /// timeline of the lane; `None` if a lock was poisoned (a panicking thread).
    pub(super) fn coverage_for(&self, i: usize) -> Option<Coverage> {
        let lane = self.lanes[i % LANES].lock().ok()?;
        let lane = self.learned.wait_while(lane, |lane| lane.next < i).ok()?;
        Some(lane.coverage.clone())
    }

    /// Timeline `i` ran (or could not: `None`), its lane learns from it, and the next of the
    /// lane may be drawn.
    pub(super) fn learn(&self, i: usize, ran: Option<(&Drawn, &[Outcome])>) {
        if let Ok(mut lane) = self.lanes[i % LANES].lock() {
            if let Some((drawn, outcomes)) = ran {
                lane.coverage.learn(drawn, outcomes);
            }
            lane.next = i + LANES;
        }
        self.learned.notify_all();
    }
}

/// Draws timeline `i` with `coverage` and runs the whole matrix under it.
///
/// # Errors
/// [`Error`] when the draw fits nothing or the run cannot start.
pub(super) fn run_one(
    base: &Document,
    options: &ExploreOptions,
    coverage: &Coverage,
    i: usize,
) -> Result<(Drawn, Vec<Outcome>), Error> {
    let drawn = draw(base, &options.budget, coverage, options.seed, i)?;
    let scenario = base
        .with_server(&drawn.server)
        .with_faults(&drawn.timeline)
        .scenario()?;
    let report = run::run(&scenario, &options.run)?;
    Ok((drawn, report.outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_waits_for_its_lane_to_learn_from_the_one_before_it() {
        let lanes = Lanes::new();
        assert!(
            lanes.coverage_for(3).is_some(),
            "the first of a lane waits for nothing"
        );
        let later = LANES + 3;
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| lanes.coverage_for(later));
            lanes.learn(3, None);
            assert!(waiting.join().unwrap().is_some());
        });
        // Another lane is not held up by this one.
        assert!(lanes.coverage_for(4).is_some());
    }
}
