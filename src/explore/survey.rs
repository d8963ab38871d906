//! Surveying a search ([`survey`]): the distinct ways set-ups failed in a seed's first runs, and
//! the first run that showed each, in constant memory (each run's traces are dropped once its
//! lane has learned from them). What the guided search is measured by against the uniform one:
//! the first `n` runs of a seed are the same whatever the number asked for, so one survey gives
//! the figures for every shorter one.

use super::coverage::Coverage;
use super::error::Error;
use super::explore_options::ExploreOptions;
use super::failure::Failure;
use super::lanes::{LANES, run_one};
use super::parallel::in_parallel;
use crate::scenario::Document;

/// Each distinct failure of `options.runs` timelines of `document` (as [`super::explore`]
/// groups them) with the first run that showed it, in that order. Nothing is shrunk.
///
/// # Errors
/// As [`super::explore`].
pub fn survey(
    document: &Document,
    options: &ExploreOptions,
) -> Result<Vec<(Failure, usize)>, Error> {
    let base = document.without_faults().for_any_faults();
    let lanes = in_parallel(LANES.min(options.runs), options.jobs, |lane| {
        let mut coverage = Coverage::default();
        let mut seen: Vec<(Failure, usize)> = Vec::new();
        for i in (lane..options.runs).step_by(LANES) {
            let (drawn, outcomes) = run_one(&base, options, &coverage, i)?;
            for failure in outcomes.iter().filter_map(Failure::of) {
                if !seen.iter().any(|(f, _)| *f == failure) {
                    seen.push((failure, i));
                }
            }
            coverage.learn(&drawn, &outcomes);
        }
        Ok::<_, Error>(seen)
    });
    let mut first: Vec<(Failure, usize)> = Vec::new();
    for lane in lanes {
        for (failure, i) in lane? {
            match first.iter_mut().find(|(f, _)| *f == failure) {
                Some(known) => known.1 = known.1.min(i),
                None => first.push((failure, i)),
            }
        }
    }
    first.sort_by_key(|(_, i)| *i);
    Ok(first)
}
