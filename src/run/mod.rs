//! Orchestration: each set-up of a scenario runs in a fresh, isolated world — its own thread,
//! its own current-thread tokio runtime with the clock paused, its own [`ApiServer`](crate::apiserver::ApiServer) and kube
//! `Client` over in-memory connections — and is judged from its trace.
//!
//! Entry point: [`run`]. A run that passes the scenario's request cap is stopped and judged as
//! a storm; one that passes the wall-clock deadline (a hot loop that never lets virtual time
//! move) or panics is reported as that set-up's failure, and the other set-ups still run.

use std::time::Duration;

mod custom;
mod world;

pub use crate::outcome::{Outcome, RunReport};
use crate::scenario::{Expected, Scenario, SetUp};
use crate::subject;
use crate::trace::Trace;
use crate::verdict::{self, Verdict};
pub use custom::CustomRun;

/// Wall time a live delivery (write → server → loopback TCP → kube → consumer) may take on a
/// busy machine before the gap counts as a disruption; multiplied by the speed in virtual time.
const LIVE_DELIVERY_LAG: Duration = Duration::from_millis(50);

/// How to run scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Wall-clock time one set-up may take before it is reported as hung. Default 60 s; in
    /// live mode the scenario's own wall duration is added.
    pub wall_timeout: Duration,
    /// Where set-ups run. Default [`Mode::Simulated`].
    pub mode: Mode,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            wall_timeout: Duration::from_secs(60),
            mode: Mode::Simulated,
        }
    }
}

impl RunOptions {
    /// Sets [`RunOptions::wall_timeout`].
    #[must_use]
    pub fn wall_timeout(mut self, timeout: Duration) -> Self {
        self.wall_timeout = timeout;
        self
    }

    /// Sets [`RunOptions::mode`].
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

/// Where a set-up's watcher meets its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// A paused clock and an in-memory transport: deterministic, and a 30-minute scenario takes
    /// milliseconds.
    #[default]
    Simulated,
    /// A [`LiveServer`](crate::live::LiveServer) on loopback TCP with the wall clock sped up `speed`×; the kube client's
    /// timeouts and the set-up's backoff are scaled to match. For checking that the simulation
    /// agrees with real I/O.
    Live {
        /// Virtual seconds per wall second.
        speed: u32,
    },
}

/// Why the harness itself could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::Error),
    /// The runtime for a run could not be built.
    #[error("failed to build the runtime for set-up {setup}")]
    Runtime {
        /// The set-up.
        setup: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The kube client could not be built.
    #[error("failed to build the kube client for set-up {setup}")]
    Client {
        /// The set-up.
        setup: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The live server could not start.
    #[error("failed to start the live server for set-up {setup}")]
    Live {
        /// The set-up.
        setup: String,
        /// The cause.
        #[source]
        source: crate::live::Error,
    },
}

/// Runs every set-up of `scenario` and judges each.
///
/// # Errors
/// [`Error::Runtime`] or [`Error::Client`] when a run cannot even start.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, Error> {
    let (wall_timeout, lag) = limits(scenario, options);
    // Every set-up starts at once on its own thread; they share nothing, so this only changes
    // how long the whole matrix takes, never a trace.
    let started = std::time::Instant::now();
    let mut pending = Vec::new();
    for setup in &scenario.watchers {
        let make = matrix_subject(scenario, setup);
        pending.push((setup, world::spawn(scenario, setup, options.mode, make)?));
    }
    let mut outcomes = Vec::new();
    for (setup, receiver) in pending {
        let left = wall_timeout.saturating_sub(started.elapsed());
        outcomes.push(judged(
            scenario,
            setup,
            world::wait(&receiver, left, wall_timeout)?,
            lag,
        ));
    }
    Ok(RunReport {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        duration: scenario.duration,
        outcomes,
    })
}

/// The wall-clock deadline of a run and the delivery lag its verdict forgives.
fn limits(scenario: &Scenario, options: &RunOptions) -> (Duration, Duration) {
    let mut wall_timeout = options.wall_timeout;
    let mut lag = verdict::DELIVERY_LAG;
    if let Mode::Live { speed } = options.mode {
        wall_timeout += scenario.duration / speed.max(1);
        lag = lag.max(LIVE_DELIVERY_LAG * speed);
    }
    (wall_timeout, lag)
}

/// The outcome of a finished (or given up) run of `setup`.
fn judged(scenario: &Scenario, setup: &SetUp, finished: world::Finished, lag: Duration) -> Outcome {
    let (trace, verdict) = match finished {
        world::Finished::Trace(trace) => {
            let verdict = verdict::judge_with_lag(scenario, setup, &trace, lag);
            (trace, verdict)
        }
        world::Finished::Not(why) => (Trace::new(), Verdict::not_finished(why)),
    };
    // An expected failure is a specific one: the mechanism must be the one the scenario names.
    let as_expected = match setup.expected {
        Expected::Recover => verdict.recovered,
        Expected::Fail => !verdict.recovered && verdict.mechanism == setup.expected_mechanism,
    };
    Outcome {
        setup: setup.name.clone(),
        expected: setup.expected,
        expected_mechanism: setup.expected_mechanism,
        verdict,
        as_expected,
        trace,
    }
}

/// The scenario's own set-up: kube-runtime's watcher as the set-up describes it.
fn matrix_subject(scenario: &Scenario, setup: &SetUp) -> world::MakeSubject {
    let (resource, setup, seed) = (scenario.resource.clone(), setup.clone(), scenario.seed);
    Box::new(move |client, recorder| {
        subject::subject_stream(client, &resource, &setup, seed, recorder)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::Mechanism;

    fn scenario(fail: &str) -> Scenario {
        Scenario::from_yaml(&format!(
            "duration: 1m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps }}
watchers: [{{ name: w }}]
expect: {{ deadline: 1m, fail: {{ w: {fail} }} }}
"
        ))
        .expect("the test scenario is valid")
    }

    #[test]
    fn a_hung_run_is_the_expected_failure_only_when_the_scenario_expects_a_hang() {
        let hung = || world::Finished::Not("hung: the run did not finish".into());
        let expects_other = scenario("stopped_on_recoverable_error");
        let outcome = judged(
            &expects_other,
            &expects_other.watchers[0],
            hung(),
            Duration::ZERO,
        );
        assert_eq!(outcome.verdict.mechanism, Some(Mechanism::Hung));
        assert!(!outcome.as_expected, "a hang is not the failure it expects");
        let expects_hang = scenario("hung");
        let outcome = judged(
            &expects_hang,
            &expects_hang.watchers[0],
            hung(),
            Duration::ZERO,
        );
        assert!(outcome.as_expected);
    }
}
