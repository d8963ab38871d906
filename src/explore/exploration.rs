//! Exploring a scenario ([`explore`]) and what it found ([`Exploration`]): every timeline drawn
//! and run, failures grouped by how they failed, each group shrunk to a finding.
//!
//! Deterministic for a seed: timeline `i` is drawn from a generator seeded by the seed and `i`,
//! with the coverage of its lane (`lanes.rs`), findings are taken in run order, and each is
//! shrunk by itself, so `--jobs` changes how long it takes, never what it finds.

use super::drawn::Drawn;
use super::error::Error;
use super::explore_options::ExploreOptions;
use super::failure::Failure;
use super::finding::{Finding, finding};
use super::lanes::{in_lanes, run_one};
use super::parallel::in_parallel;
use super::progress::Progress;
use crate::outcome::Outcome;
use crate::scenario::Document;

/// What exploring found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exploration {
    /// The scenario explored.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Timelines run.
    pub runs: usize,
    /// Set-up runs in all (timelines × set-ups).
    pub setup_runs: usize,
    /// Set-up runs that did not recover.
    pub failures: usize,
    /// One per way a set-up failed, in the order first seen.
    pub findings: Vec<Finding>,
}

/// Explores `document`: its workload and set-ups under `options.runs` drawn fault timelines.
/// The document's own faults are taken out first.
///
/// # Errors
/// [`Error`] when a run cannot start or a drawn timeline cannot be made valid.
pub fn explore(document: &Document, options: &ExploreOptions) -> Result<Exploration, Error> {
    let base = document.without_faults().for_any_faults();
    let scenario = base.scenario()?;
    let progress = Progress::new(options.progress, options.runs);
    let drawn = in_lanes(options.runs, options.jobs, |coverage, i| {
        let result = run_one(&base, options, coverage, i);
        progress.ran();
        result
    });
    progress.done();
    let mut groups: Vec<(Failure, usize, usize, Drawn, Outcome)> = Vec::new();
    let (mut setup_runs, mut failures) = (0, 0);
    for (i, result) in drawn.into_iter().enumerate() {
        let (drawn, outcomes) = result?;
        setup_runs += outcomes.len();
        for outcome in outcomes {
            let Some(failure) = Failure::of(&outcome) else {
                continue;
            };
            failures += 1;
            match groups.iter_mut().find(|g| g.0 == failure) {
                Some(group) => group.2 += 1,
                None => groups.push((failure, i, 1, drawn.clone(), outcome)),
            }
        }
    }
    let shrinking = Progress::shrinking(options.progress, groups.len());
    let findings = in_parallel(groups.len(), options.jobs, |g| {
        let (failure, first_run, runs, drawn, outcome) = &groups[g];
        let finding = finding(
            &base,
            &scenario,
            options,
            failure,
            (*first_run, *runs),
            drawn,
            outcome.clone(),
        );
        shrinking.ran();
        finding
    });
    shrinking.done();
    Ok(Exploration {
        scenario: scenario.name.clone(),
        seed: options.seed,
        runs: options.runs,
        setup_runs,
        failures,
        findings: findings.into_iter().collect::<Result<_, _>>()?,
    })
}
