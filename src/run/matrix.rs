//! Running the scenario's own watcher matrix: every set-up it lists, each in a world of its
//! own ([`world`]), judged against what the scenario expects. Entry points: [`run`] and
//! [`Scenario::run`].

use std::sync::Arc;

use super::custom::CustomRun;
use super::error::Error;
use super::judged::limits;
use super::run_options::RunOptions;
use super::world;
use crate::outcome::{Outcome, RunReport};
use crate::scenario::{Scenario, SetUp};
use crate::subject;

impl Scenario {
    /// Runs the scenario's own watcher matrix in virtual time, with [`RunOptions::default`].
    ///
    /// # Errors
    /// [`Error`] when a run cannot even start.
    pub fn run(&self) -> Result<RunReport, Error> {
        run(self, &RunOptions::default())
    }

    /// Your own code against this scenario with `options` (live mode, a wall timeout); the
    /// same `run_with*` methods as on [`Scenario`].
    #[must_use]
    pub fn with_options<'a>(&'a self, options: &'a RunOptions) -> CustomRun<'a> {
        CustomRun::new(self, options)
    }
}

/// Runs every set-up of `scenario` and judges each.
///
/// # Errors
/// [`Error::Runtime`] or [`Error::Client`] when a run cannot even start.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, Error> {
    let (wall_timeout, lag) = limits(scenario, options);
    // Every set-up starts at once on its own thread (unless asked one at a time); they share
    // nothing, so this only changes how long the whole matrix takes, never a trace.
    let mut outcomes = Vec::new();
    let shared = Arc::new(scenario.clone());
    let mut pending = Vec::new();
    let mut started = std::time::Instant::now();
    for setup in &scenario.watchers {
        let make = matrix_subject(scenario, setup);
        pending.push(world::spawn(&shared, setup, options.mode, make, lag)?);
        if options.one_at_a_time {
            outcomes.extend(finish(pending.drain(..), started, wall_timeout)?);
            started = std::time::Instant::now();
        }
    }
    outcomes.extend(finish(pending, started, wall_timeout)?);
    Ok(RunReport {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        duration: scenario.duration,
        outcomes,
    })
}

/// The outcome of each running set-up in turn, all within `wall_timeout` of `started`.
fn finish(
    pending: impl IntoIterator<Item = world::Running>,
    started: std::time::Instant,
    wall_timeout: std::time::Duration,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    for running in pending {
        let left = wall_timeout.saturating_sub(started.elapsed());
        outcomes.push(world::wait(&running, left, wall_timeout)?);
    }
    Ok(outcomes)
}

/// The scenario's own set-up: kube-runtime's watcher as the set-up describes it.
pub(super) fn matrix_subject(scenario: &Scenario, setup: &SetUp) -> world::MakeSubject {
    let (resource, setup, seed) = (scenario.resource.clone(), setup.clone(), scenario.seed);
    Box::new(move |client, recorder| {
        subject::subject_stream(client, &resource, &setup, seed, recorder)
    })
}
