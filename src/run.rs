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
use crate::live::{LiveOptions, LiveServer};
use crate::scenario::{Expected, Scenario, SetUp};
use crate::subject;
use crate::trace::{Recorder, Trace, TraceKind};
use crate::transport;
use crate::verdict::{self, Verdict};

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
    /// A [`LiveServer`] on loopback TCP with the wall clock sped up `speed`×; the kube client's
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
    let mut wall_timeout = options.wall_timeout;
    let mut lag = verdict::DELIVERY_LAG;
    if let Mode::Live { speed } = options.mode {
        wall_timeout += scenario.duration / speed.max(1);
        lag = lag.max(LIVE_DELIVERY_LAG * speed);
    }
    // Every set-up starts at once on its own thread; they share nothing, so this only changes
    // how long the whole matrix takes, never a trace.
    let started = std::time::Instant::now();
    let mut pending = Vec::new();
    for setup in &scenario.watchers {
        pending.push((setup, spawn_isolated(scenario, setup, options.mode)?));
    }
    let mut outcomes = Vec::new();
    for (setup, receiver) in pending {
        let left = wall_timeout.saturating_sub(started.elapsed());
        let (trace, verdict) = match wait(&receiver, left, wall_timeout)? {
            Finished::Trace(trace) => {
                let verdict = verdict::judge_with_lag(scenario, setup, &trace, lag);
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

type Receiver = mpsc::Receiver<Result<Trace, Error>>;

/// Starts one set-up on its own thread.
fn spawn_isolated(scenario: &Scenario, setup: &SetUp, mode: Mode) -> Result<Receiver, Error> {
    let (tx, rx) = mpsc::channel();
    let (scenario, setup) = (scenario.clone(), setup.clone());
    let name = setup.name.clone();
    std::thread::Builder::new()
        .name(format!("run-{name}"))
        .spawn(move || {
            // NB: the receiver may be gone when the run was given up as hung; nothing to tell then.
            let _ = tx.send(run_one(&scenario, &setup, mode));
        })
        .map_err(|source| Error::Runtime {
            setup: name,
            source,
        })?;
    Ok(rx)
}

/// Waits at most `left` for a set-up started with [`spawn_isolated`].
fn wait(receiver: &Receiver, left: Duration, wall_timeout: Duration) -> Result<Finished, Error> {
    match receiver.recv_timeout(left) {
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

/// One set-up in a fresh world with its own runtime.
fn run_one(scenario: &Scenario, setup: &SetUp, mode: Mode) -> Result<Trace, Error> {
    let runtime_error = |source| Error::Runtime {
        setup: setup.name.clone(),
        source,
    };
    let client_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Client {
        setup: setup.name.clone(),
        source,
    };
    match mode {
        Mode::Simulated => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .map_err(runtime_error)?;
            runtime.block_on(async {
                let server = ApiServer::new(scenario, Recorder::start());
                let mut config = transport::config();
                apply_client_settings(&mut config, setup, server.recorder());
                let client = transport::client(server.clone(), &config, scenario.seed)
                    .map_err(|e| client_error(e.into()))?;
                let player = tokio::spawn(apiserver::play(server.clone(), scenario.clone()));
                let trace = exercise(scenario, setup, &server, client).await;
                player.abort();
                Ok(trace)
            })
        }
        Mode::Live { speed } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(runtime_error)?;
            runtime.block_on(async {
                let options = LiveOptions::default().speed(speed);
                let live = LiveServer::start(scenario, &options)
                    .await
                    .map_err(|source| Error::Live {
                        setup: setup.name.clone(),
                        source,
                    })?;
                let mut config = live.kube_config().await.map_err(|source| Error::Live {
                    setup: setup.name.clone(),
                    source,
                })?;
                apply_client_settings(&mut config, setup, live.server().recorder());
                let client = transport::tcp_client(&config, scenario.seed, speed)
                    .map_err(|e| client_error(e.into()))?;
                Ok(exercise(scenario, setup, live.server(), client).await)
            })
        }
    }
}

/// The set-up's kube client settings, its read timeout in the run's tokio time.
fn apply_client_settings(config: &mut kube::Config, setup: &SetUp, recorder: &Recorder) {
    config.default_retry = setup.client.retry;
    config.read_timeout = setup.client.read_timeout.map(|t| recorder.real(t));
}

/// Runs the set-up's watcher against `server` (whose timeline is playing) until the scenario
/// ends or the request cap is passed, and returns the trace.
async fn exercise(
    scenario: &Scenario,
    setup: &SetUp,
    server: &ApiServer,
    client: kube::Client,
) -> Trace {
    let recorder = server.recorder().clone();
    let (stream, store) =
        subject::subject_stream(client, &scenario.resource, setup, scenario.seed, &recorder);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn({
        let (recorder, consumer) = (recorder.clone(), setup.consumer);
        async move {
            subject::drive(consumer, stream, store, recorder, async {
                let _ = stopped.await;
            })
            .await;
        }
    });
    tokio::select! {
        biased;
        () = server.storm() => {
            recorder.record(TraceKind::Storm { requests: scenario.server.max_requests + 1 });
        }
        () = recorder.sleep_until(scenario.duration) => {}
    }
    let _ = stop.send(());
    if let Err(error) = consumer.await
        && error.is_panic()
    {
        recorder.record(TraceKind::StreamEnded {
            cause: "the consumer panicked".into(),
        });
    }
    recorder.snapshot()
}
