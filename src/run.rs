//! Orchestration: each set-up of a scenario runs in a fresh, isolated world — its own thread,
//! its own current-thread tokio runtime with the clock paused, its own [`ApiServer`] and kube
//! `Client` over in-memory connections — and is judged from its trace.
//!
//! Entry point: [`run`]. A run that passes the scenario's request cap is stopped and judged as
//! a storm; one that passes the wall-clock deadline (a hot loop that never lets virtual time
//! move) or panics is reported as that set-up's failure, and the other set-ups still run.

use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;

use crate::apiserver::{self, ApiServer};
use crate::scenario::{Expected, Scenario, SetUp};
use crate::subject;
use crate::trace::{Recorder, Trace, TraceKind};
use crate::transport;
use crate::verdict::{self, Verdict};

/// How to run scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Wall-clock time one set-up may take before it is reported as hung. Default 60 s.
    pub wall_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            wall_timeout: Duration::from_secs(60),
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
        source: transport::Error,
    },
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// Its seed.
    pub seed: u64,
    /// Its virtual duration.
    pub duration: Duration,
    /// One outcome per set-up, in the scenario's order.
    pub outcomes: Vec<Outcome>,
}

impl RunReport {
    /// Whether every set-up did what the scenario expects of it.
    #[must_use]
    pub fn as_expected(&self) -> bool {
        self.outcomes.iter().all(|o| o.as_expected)
    }
}

/// The outcome of one set-up.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The set-up's name.
    pub setup: String,
    /// What the scenario expects.
    pub expected: Expected,
    /// What the verdict found.
    pub verdict: Verdict,
    /// Whether the verdict is what the scenario expects.
    pub as_expected: bool,
    /// The run's trace.
    #[serde(skip)]
    pub trace: Trace,
}

/// Runs every set-up of `scenario` and judges each.
///
/// # Errors
/// [`Error::Runtime`] or [`Error::Client`] when a run cannot even start.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, Error> {
    let mut outcomes = Vec::new();
    for setup in &scenario.watchers {
        let (trace, verdict) = match run_isolated(scenario, setup, options.wall_timeout)? {
            Finished::Trace(trace) => {
                let verdict = verdict::judge(scenario, setup, &trace);
                (trace, verdict)
            }
            Finished::Not(why) => (Trace::new(), Verdict::not_finished(why)),
        };
        let as_expected = verdict.recovered == (setup.expected == Expected::Recover);
        outcomes.push(Outcome {
            setup: setup.name.clone(),
            expected: setup.expected,
            verdict,
            as_expected,
            trace,
        });
    }
    Ok(RunReport {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        duration: scenario.duration,
        outcomes,
    })
}

enum Finished {
    Trace(Trace),
    Not(String),
}

/// Runs one set-up on its own thread, waiting at most `wall_timeout` of wall time.
fn run_isolated(
    scenario: &Scenario,
    setup: &SetUp,
    wall_timeout: Duration,
) -> Result<Finished, Error> {
    let (tx, rx) = mpsc::channel();
    let (scenario, setup) = (scenario.clone(), setup.clone());
    let name = setup.name.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("run-{name}"))
        .spawn(move || {
            // NB: the receiver may be gone when the run was given up as hung; nothing to tell then.
            let _ = tx.send(run_one(&scenario, &setup));
        });
    if let Err(source) = spawned {
        return Err(Error::Runtime {
            setup: name,
            source,
        });
    }
    match rx.recv_timeout(wall_timeout) {
        Ok(result) => result.map(Finished::Trace),
        Err(mpsc::RecvTimeoutError::Timeout) => Ok(Finished::Not(format!(
            "hung: the run did not finish within {} of wall time (a hot loop that never lets virtual time advance?)",
            crate::scenario::format_duration(wall_timeout)
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Finished::Not(
            "the harness thread running this set-up panicked".into(),
        )),
    }
}

/// One set-up in a fresh world: paused clock, in-memory transport, timeline, consumer.
fn run_one(scenario: &Scenario, setup: &SetUp) -> Result<Trace, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|source| Error::Runtime {
            setup: setup.name.clone(),
            source,
        })?;
    runtime.block_on(async {
        let recorder = Recorder::start();
        let server = ApiServer::new(scenario, recorder.clone());
        let client = transport::client(server.clone(), &transport::config()).map_err(|source| {
            Error::Client {
                setup: setup.name.clone(),
                source,
            }
        })?;
        let stream = subject::watch_stream(
            client,
            &scenario.resource,
            &setup.config,
            setup.backoff,
            scenario.seed,
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let consumer = tokio::spawn({
            let (resource, recorder, consumer) =
                (scenario.resource.clone(), recorder.clone(), setup.consumer);
            async move {
                subject::drive(consumer, stream, &resource, recorder, async {
                    let _ = stopped.await;
                })
                .await;
            }
        });
        let player = tokio::spawn(apiserver::play(server.clone(), scenario.clone()));
        tokio::select! {
            biased;
            () = server.storm() => {
                recorder.record(TraceKind::Storm { requests: scenario.server.max_requests + 1 });
            }
            () = tokio::time::sleep(scenario.duration) => {}
        }
        let _ = stop.send(());
        if let Err(error) = consumer.await
            && error.is_panic()
        {
            recorder.record(TraceKind::StreamEnded {
                cause: "the consumer panicked".into(),
            });
        }
        player.abort();
        Ok(recorder.snapshot())
    })
}
