//! A fault timeline ([`Timeline`]), fitting drawn faults into one ([`fit`]), and the uniform
//! search's drawing of one: a count of faults from the budget, each redrawn until the loader
//! takes the scenario with it.

use std::time::Duration;

use super::budget::Budget;
use super::error::Error;
use crate::fault::Fault;
use crate::scenario::{self, Document};

/// Faults at their times, in time order.
pub type Timeline = Vec<(Duration, Fault)>;

/// Redraws of one fault before giving up on it.
pub(super) const REDRAWS: usize = 16;

/// `timeline` with the faults `next` draws, redrawn until the scenario with them is one the
/// loader takes (an `idle` window must not hold a write, for one); the last refusal when no
/// redraw fits.
pub(super) fn fit(
    base: &Document,
    timeline: &Timeline,
    mut next: impl FnMut() -> Vec<(Duration, Fault)>,
) -> Result<Timeline, scenario::Error> {
    let mut attempt = 1;
    loop {
        let mut candidate = timeline.clone();
        candidate.extend(next());
        candidate.sort_by_key(|(at, _)| *at);
        match base.with_faults(&candidate).scenario() {
            Ok(_) => return Ok(candidate),
            Err(error) if attempt >= REDRAWS => return Err(error),
            Err(_) => attempt += 1,
        }
    }
}

/// The uniform search's timeline `i`: a count of faults, each of any of the budget's kinds.
pub(super) fn uniform(
    base: &Document,
    budget: &Budget,
    rng: &mut fastrand::Rng,
    i: usize,
) -> Result<Timeline, Error> {
    let mut timeline = Timeline::new();
    for _ in 0..budget.count(rng) {
        match fit(base, &timeline, || vec![budget.draw(rng)]) {
            Ok(fitted) => timeline = fitted,
            // A fault that no redraw could fit is left out; a timeline with none at all is a bug.
            Err(source) if timeline.is_empty() => return Err(Error::Draw { run: i, source }),
            Err(_) => {}
        }
    }
    Ok(timeline)
}
