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
