//! Drawing run `i` ([`draw`]): from the seed, `i`, and the coverage learned from the earlier
//! timelines of its lane, by the budget's search.

use super::budget::Budget;
use super::coverage::Coverage;
use super::drawn::Drawn;
use super::error::Error;
use super::guided::guided;
use super::search::Search;
use super::timeline::uniform;
use crate::scenario::Document;

/// Run `i` of `seed`: its timeline, and for the guided search the server settings and the
/// choices drawn. The same seed, `i` and coverage draw the same; the uniform search ignores
/// the coverage, and draws what it drew before issue 25.
///
/// # Errors
/// [`Error::Draw`] when no fault fits the scenario; [`Error::Scenario`] when the scenario does
/// not load.
pub(super) fn draw(
    base: &Document,
    budget: &Budget,
    coverage: &Coverage,
    seed: u64,
    i: usize,
) -> Result<Drawn, Error> {
    let mut rng = fastrand::Rng::with_seed(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    match budget.search {
        Search::Uniform => Ok(Drawn {
            timeline: uniform(base, budget, &mut rng, i)?,
            ..Drawn::default()
        }),
        Search::Guided => guided(base, budget, coverage, &mut rng, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_index_and_coverage_draw_the_same_run() {
        let base = Document::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/explore/generic-matrix.yaml"
        ))
        .unwrap()
        .without_faults()
        .for_any_faults();
        let scenario = base.scenario().unwrap();
        let mut budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
        budget.search = Search::Guided;
        let mut coverage = Coverage::default();
        let first = draw(&base, &budget, &coverage, 9, 4).unwrap();
        assert_eq!(first, draw(&base, &budget, &coverage, 9, 4).unwrap());
        assert_ne!(first, draw(&base, &budget, &coverage, 9, 5).unwrap());
        coverage.learn(&first, &[]);
        let again = coverage.clone();
        assert_eq!(
            draw(&base, &budget, &coverage, 9, 28).unwrap(),
            draw(&base, &budget, &again, 9, 28).unwrap()
        );
        let scenario = base
            .with_server(&first.server)
            .with_faults(&first.timeline)
            .scenario();
        assert!(scenario.is_ok(), "a drawn run loads: {scenario:?}");
    }
}
