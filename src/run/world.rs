//! One set-up in one fresh world, judged where it ran: a thread to itself (`world_thread.rs`), its own tokio runtime, its own server, a
//! kube client to it, and the subject's stream consumed until the scenario ends.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tokio::sync::Notify;

use super::error::Error;
use super::judged::{Finished, judged};
use super::run_options::Mode;
use super::world_thread::run_on_a_world_thread;
use crate::apiserver::{self, ApiServer};
use crate::live::{LiveOptions, LiveServer};
use crate::outcome::Outcome;
use crate::scenario::{Scenario, SetUp};
use crate::subject::{self, Subject};
use crate::trace::{ConsumerStop, Recorder, Trace, TraceKind};
use crate::transport;

/// Builds, inside the run's runtime, what a world's consumer drives from the kube client to
/// that world's server.
pub(super) type MakeSubject = Box<dyn FnOnce(kube::Client, &Recorder) -> Subject + Send>;

/// What the waiting side holds of a running world: where its outcome comes, a watchdog to see
/// its last activity and ask it to stop, and what it needs to judge a run it gives up on.
pub(super) struct Running {
    receiver: mpsc::Receiver<Result<Outcome, Error>>,
    watchdog: Arc<Watchdog>,
    scenario: Arc<Scenario>,
    setup: SetUp,
    lag: Duration,
}

/// Shared between a world and whoever waits for it.
#[derive(Default)]
struct Watchdog {
    /// The world's recorder, once it exists: its trace shows the last activity.
    recorder: Mutex<Option<Recorder>>,
    /// Asks the world to stop; a world that still yields to its runtime does.
    cancel: Notify,
}

impl Watchdog {
    /// The last thing the world recorded, in words.
    fn last_activity(&self) -> String {
        let trace = self
            .recorder
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(Recorder::snapshot))
            .unwrap_or_default();
        match trace.last() {
            None => "nothing was recorded".to_owned(),
            Some(event) => {
                let what = match &event.kind {
                    TraceKind::Request(r) => {
                        format!("{} {}?{} answered {}", r.method, r.path, r.query, r.status)
                    }
                    other => format!("{other:?}"),
                };
                format!(
                    "the last activity, at {} of virtual time, was {what}",
                    crate::scenario::format_duration(event.at)
                )
            }
        }
    }
}

/// Starts one set-up on its own thread, which also judges the run (`lag`: the delivery lag
/// its verdict forgives). The scenario is shared, not copied: a long timeline (a step every
/// 500 ms for 20 minutes) is thousands of steps with bodies, and every set-up and its timeline
/// player read the same one.
///
/// Judging where the run happened keeps a run's memory, trace and verdict alike, in one
/// thread's malloc arena: with glibc each thread allocates from an arena of its own, and a
/// run's trace judged on another thread made both arenas grow, so an exploration's peak
/// resident memory crept up with the number of runs.
pub(super) fn spawn(
    scenario: &Arc<Scenario>,
    setup: &SetUp,
    mode: Mode,
    make: MakeSubject,
    lag: Duration,
) -> Result<Running, Error> {
    let (tx, rx) = mpsc::channel();
    let (world_scenario, world_setup) = (Arc::clone(scenario), setup.clone());
    let watchdog = Arc::new(Watchdog::default());
    let world_watchdog = Arc::clone(&watchdog);
    run_on_a_world_thread(Box::new(move || {
        let (scenario, setup) = (world_scenario, world_setup);
        let result = run_one(&scenario, &setup, mode, make, &world_watchdog)
            .map(|trace| judged(&scenario, &setup, Finished::Trace(trace), lag));
        // NB: the receiver may be gone when the run was given up as hung; nothing to tell then.
        Box::new(move || drop(tx.send(result)))
    }))
    .map_err(|source| Error::Runtime {
        setup: setup.name.clone(),
        source,
    })?;
    Ok(Running {
        receiver: rx,
        watchdog,
        scenario: Arc::clone(scenario),
        setup: setup.clone(),
        lag,
    })
}

/// Waits at most `left` for a set-up started with [`spawn`]. A run that passes it is asked to
/// stop and reported as hung, with its last activity; one whose thread died, as such.
pub(super) fn wait(
    running: &Running,
    left: Duration,
    wall_timeout: Duration,
) -> Result<Outcome, Error> {
    let unfinished = match running.receiver.recv_timeout(left) {
        Ok(result) => return result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            running.watchdog.cancel.notify_one();
            Finished::Hung(format!(
                "hung: the run did not finish within {} of wall time (a loop that never lets virtual time advance?); {}",
                crate::scenario::format_duration(wall_timeout),
                running.watchdog.last_activity()
            ))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Finished::Died(format!(
            "the harness thread running this set-up panicked; {}",
            running.watchdog.last_activity()
        )),
    };
    Ok(judged(
        &running.scenario,
        &running.setup,
        unfinished,
        running.lag,
    ))
}

/// One set-up in a fresh world with its own runtime.
fn run_one(
    scenario: &Arc<Scenario>,
    setup: &SetUp,
    mode: Mode,
    make: MakeSubject,
    watchdog: &Watchdog,
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
                let player = tokio::spawn(apiserver::play(server.clone(), Arc::clone(scenario)));
                let trace = exercise(scenario, setup, &server, client, make, watchdog).await;
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
                Ok(exercise(scenario, setup, live.server(), client, make, watchdog).await)
            })
        }
    }
}

/// The set-up's kube client settings over kube's own, its read timeout in the run's tokio time;
/// what the client then is goes into the trace.
fn apply_client_settings(config: &mut kube::Config, setup: &SetUp, recorder: &Recorder) {
    setup.client.apply(config, |t| recorder.real(t));
    recorder.record(TraceKind::Client {
        read_timeout: config.read_timeout.map(|t| t * recorder.speed()),
        retry: config.default_retry,
    });
}

/// Runs the set-up's watcher against `server` (whose timeline is playing) until the scenario
/// ends or the request cap is passed, and returns the trace.
async fn exercise(
    scenario: &Scenario,
    setup: &SetUp,
    server: &ApiServer,
    client: kube::Client,
    make: MakeSubject,
    watchdog: &Watchdog,
) -> Trace {
    let recorder = server.recorder().clone();
    if let Ok(mut slot) = watchdog.recorder.lock() {
        *slot = Some(recorder.clone());
    }
    let subject = make(client, &recorder);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn({
        let (recorder, consumer) = (recorder.clone(), setup.consumer);
        let work = setup.work_per_item;
        async move {
            subject::drive(consumer, work, subject, recorder, async {
                let _ = stopped.await;
            })
            .await;
        }
    });
    tokio::select! {
        biased;
        (requests, burst) = server.storm() => {
            recorder.record(TraceKind::Storm { requests, burst });
        }
        () = recorder.sleep_until(scenario.duration) => {}
        () = watchdog.cancel.notified() => {}
    }
    let _ = stop.send(());
    let abort = consumer.abort_handle();
    match tokio::time::timeout(recorder.real(CONSUMER_STOP), consumer).await {
        Ok(Err(error)) if error.is_panic() => recorder.record(TraceKind::StreamEnded {
            cause: ConsumerStop::Panicked,
        }),
        Ok(_) => {}
        Err(_) => {
            // The consumer ignored the stop (it never yields to its runtime's timer): the run
            // is over all the same.
            abort.abort();
            recorder.record(TraceKind::StreamEnded {
                cause: ConsumerStop::Hung {
                    within: CONSUMER_STOP,
                },
            });
        }
    }
    // NB: taken, not copied: the run is over, and nothing reads this recorder's trace again.
    recorder.take()
}

/// How long (virtual time) a consumer has to stop after the run ends.
const CONSUMER_STOP: Duration = Duration::from_secs(10);
