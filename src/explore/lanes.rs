//! Feedback lanes ([`in_lanes`]): run `i` belongs to lane `i % LANES` and is drawn with the
//! coverage its lane learned from its earlier runs, in index order, so what is drawn depends on
//! the seed and the index alone, never on how many threads run the lanes, and every N-th run
//! from K (N dividing [`LANES`]) is whole lanes.
//!
//! NB: a simple wiring for measuring the guided search (each lane run in order on one of the
//! threads); `exploration.rs` is being rewritten around it.

use super::coverage::Coverage;
use super::draw::draw;
use super::drawn::Drawn;
use super::error::Error;
use super::explore_options::ExploreOptions;
use super::parallel::in_parallel;
use crate::outcome::Outcome;
use crate::run;
use crate::scenario::Document;

/// Lanes coverage feedback flows along.
pub(super) const LANES: usize = 24;

/// What one run gave: what was drawn, and each set-up's outcome.
pub(super) type Ran = Result<(Drawn, Vec<Outcome>), Error>;

/// `run(coverage, i)` for `i` in `0..runs`, each lane in index order on one of `jobs` threads,
/// each run given its lane's coverage learned from the lane's earlier runs; results in index
/// order.
pub(super) fn in_lanes(
    runs: usize,
    jobs: usize,
    run: impl Fn(&Coverage, usize) -> Ran + Sync,
) -> Vec<Ran> {
    let mut lanes = in_parallel(LANES.min(runs), jobs, |lane| {
        let mut coverage = Coverage::default();
        let mut ran = Vec::new();
        for i in (lane..runs).step_by(LANES) {
            let result = run(&coverage, i);
            if let Ok((drawn, outcomes)) = &result {
                coverage.learn(drawn, outcomes);
            }
            ran.push(result);
        }
        ran.into_iter()
    });
    (0..runs)
        .filter_map(|i| lanes.get_mut(i % LANES).and_then(Iterator::next))
        .collect()
}

/// Draws run `i` with its lane's coverage and runs the whole matrix under it.
pub(super) fn run_one(
    base: &Document,
    options: &ExploreOptions,
    coverage: &Coverage,
    i: usize,
) -> Ran {
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
    fn runs_come_back_in_index_order_whatever_the_threads() {
        let indices = |jobs| {
            in_lanes(50, jobs, |_, i| {
                Ok((
                    Drawn {
                        timeline: vec![(
                            std::time::Duration::from_secs(i as u64),
                            crate::fault::Fault::ExpireWatches,
                        )],
                        ..Drawn::default()
                    },
                    Vec::new(),
                ))
            })
            .into_iter()
            .map(|r| {
                r.map(|(d, _)| d.timeline[0].0.as_secs())
                    .unwrap_or(u64::MAX)
            })
            .collect::<Vec<_>>()
        };
        let expected: Vec<u64> = (0..50).collect();
        assert_eq!(indices(1), expected);
        assert_eq!(indices(3), expected);
    }
}
