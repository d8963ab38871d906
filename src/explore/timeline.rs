//! A fault timeline ([`Timeline`]) and drawing one for a run: a count of faults from the
//! budget, each redrawn until the loader takes the scenario with it.

use std::time::Duration;

use super::budget::Budget;
use super::error::Error;
use crate::fault::Fault;
use crate::scenario::Document;

/// Faults at their times, in time order.
pub type Timeline = Vec<(Duration, Fault)>;

/// Redraws of one fault before giving up on it.
const REDRAWS: usize = 16;

/// Timeline `i` of `seed`: a count of faults, each redrawn until the scenario with it is one
/// the loader takes (an `idle` window must not hold a write, for one).
pub(super) fn draw(
    base: &Document,
    budget: &Budget,
    seed: u64,
    i: usize,
) -> Result<Timeline, Error> {
    let mut rng = fastrand::Rng::with_seed(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut timeline = Timeline::new();
    for _ in 0..budget.count(&mut rng) {
        let mut refused = None;
        for _ in 0..REDRAWS {
            let mut candidate = timeline.clone();
            candidate.push(budget.draw(&mut rng));
            candidate.sort_by_key(|(at, _)| *at);
            match base.with_faults(&candidate).scenario() {
                Ok(_) => {
                    timeline = candidate;
                    refused = None;
                    break;
                }
                Err(error) => refused = Some(error),
            }
        }
        // A fault that no redraw could fit is left out; a timeline with none at all is a bug.
        if let Some(source) = refused
            && timeline.is_empty()
        {
            return Err(Error::Draw { run: i, source });
        }
    }
    Ok(timeline)
}
