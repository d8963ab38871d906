//! Running many scenarios as one pool of set-ups ([`run_all`]): what `harness run scenarios/`
//! does. Every set-up of every scenario is one job; `jobs` of them run at once, the longest
//! workloads first, so that a two-set-up scenario never leaves a core idle while a five-set-up
//! one waits its turn.

use std::sync::Arc;

use super::error::Error;
use super::judged::limits;
use super::matrix::matrix_subject;
use super::parallel::in_parallel;
use super::run_options::RunOptions;
use super::world;
use crate::outcome::{Outcome, RunReport};
use crate::scenario::Scenario;

/// Runs every set-up of every scenario in `scenarios`, `jobs` at a time, and judges each: the
/// same reports, in the same order, as [`run`](super::run) on each scenario in turn. Set-ups
/// share nothing and run in virtual time, so how many run at once changes how long the whole
/// takes, never a trace or a verdict. `finished` hears of each set-up (scenario, set-up) as
/// it is judged, for a progress line.
///
/// # Errors
/// The first [`Error`] (in scenario, then set-up, order) of a run that could not even start.
pub fn run_all(
    scenarios: &[Scenario],
    options: &RunOptions,
    jobs: usize,
    finished: impl Fn(&str, &str) + Sync,
) -> Result<Vec<RunReport>, Error> {
    let shared: Vec<Arc<Scenario>> = scenarios.iter().cloned().map(Arc::new).collect();
    let mut order: Vec<(usize, usize)> = shared
        .iter()
        .enumerate()
        .flat_map(|(s, scenario)| (0..scenario.watchers.len()).map(move |k| (s, k)))
        .collect();
    // Longest first (a scenario's cost grows with its timeline's steps), so that the tail of
    // the pool is short runs; stable, so equal ones keep their catalogue order.
    order.sort_by_key(|&(s, _)| std::cmp::Reverse(shared[s].timeline.len()));
    let outcomes = in_parallel(order.len(), jobs, |u| {
        let (s, k) = order[u];
        let outcome = one(&shared[s], k, options);
        finished(&shared[s].name, &shared[s].watchers[k].name);
        outcome
    });
    let mut by_scenario: Vec<Vec<Option<Result<Outcome, Error>>>> = shared
        .iter()
        .map(|s| s.watchers.iter().map(|_| None).collect())
        .collect();
    for ((s, k), outcome) in order.into_iter().zip(outcomes) {
        by_scenario[s][k] = Some(outcome);
    }
    shared
        .iter()
        .zip(by_scenario)
        .map(|(scenario, outcomes)| {
            Ok(RunReport {
                scenario: scenario.name.clone(),
                seed: scenario.seed,
                duration: scenario.duration,
                outcomes: outcomes.into_iter().flatten().collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Set-up `k` of `scenario` in a world of its own, waited for and judged.
fn one(scenario: &Arc<Scenario>, k: usize, options: &RunOptions) -> Result<Outcome, Error> {
    let (wall_timeout, lag) = limits(scenario, options);
    let setup = &scenario.watchers[k];
    let make = matrix_subject(scenario, setup);
    let running = world::spawn(scenario, setup, options.mode, make, lag)?;
    world::wait(&running, wall_timeout, wall_timeout)
}
