//! One set-up in one fresh world: its own thread, its own tokio runtime, its own server, a
//! kube client to it, and the subject's stream consumed until the scenario ends.

use std::sync::mpsc;
use std::time::Duration;

use kube::api::DynamicObject;
use kube::runtime::reflector::Store;

use super::{Error, Mode};
use crate::apiserver::{self, ApiServer};
use crate::live::{LiveOptions, LiveServer};
use crate::scenario::{Scenario, SetUp};
use crate::subject::{self, SubjectStream};
use crate::trace::{Recorder, Trace, TraceKind};
use crate::transport;

/// Builds, inside the run's runtime, the stream a world's consumer reads (and a reflector's
/// store) from the kube client to that world's server.
pub(super) type MakeSubject = Box<
    dyn FnOnce(kube::Client, &Recorder) -> (SubjectStream, Option<Store<DynamicObject>>) + Send,
>;

pub(super) enum Finished {
    Trace(Trace),
    Not(String),
}

pub(super) type Receiver = mpsc::Receiver<Result<Trace, Error>>;

/// Starts one set-up on its own thread.
pub(super) fn spawn(
    scenario: &Scenario,
    setup: &SetUp,
    mode: Mode,
    make: MakeSubject,
) -> Result<Receiver, Error> {
    let (tx, rx) = mpsc::channel();
    let (scenario, setup) = (scenario.clone(), setup.clone());
    let name = setup.name.clone();
    std::thread::Builder::new()
        .name(format!("run-{name}"))
        .spawn(move || {
            // NB: the receiver may be gone when the run was given up as hung; nothing to tell then.
            let _ = tx.send(run_one(&scenario, &setup, mode, make));
        })
        .map_err(|source| Error::Runtime {
            setup: name,
            source,
        })?;
    Ok(rx)
}

/// Waits at most `left` for a set-up started with [`spawn`].
pub(super) fn wait(
    receiver: &Receiver,
    left: Duration,
    wall_timeout: Duration,
) -> Result<Finished, Error> {
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
fn run_one(
    scenario: &Scenario,
    setup: &SetUp,
    mode: Mode,
    make: MakeSubject,
) -> Result<Trace, Error> {
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
                let trace = exercise(scenario, setup, &server, client, make).await;
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
                Ok(exercise(scenario, setup, live.server(), client, make).await)
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
    make: MakeSubject,
) -> Trace {
    let recorder = server.recorder().clone();
    let (stream, store) = make(client, &recorder);
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
