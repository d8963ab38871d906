//! A running proxy: the listener, the timeline it plays on the real apiserver's traffic and
//! workload, and its clean-up.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Request;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use kube::config::Kubeconfig;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::error::Error;
use super::shared::Shared;
use super::truth::{self, Truth};
use super::upstream::Upstream;
use super::workload::{Namespaces, Workload};
use super::{forward, playable};
use crate::anchor::EtcdGateway;
use crate::fault::{Cut, Fault, OpenWatchHit};
use crate::scenario::{Action, Scenario, Step, Write};
use crate::trace::{Recorder, Trace, TraceKind};

/// Name of the cluster, user and context in the kubeconfig the proxy writes.
const KUBECONFIG_NAME: &str = "kube-watch-harness-proxy";

/// Connections served at once; further ones wait in the listen backlog.
const MAX_CONNECTIONS: usize = 4096;

/// How a proxy runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProxyOptions {
    /// The upstream's kubeconfig.
    pub upstream: PathBuf,
    /// Its context; default its current context.
    pub context: Option<String>,
    /// etcd's client URL, for `compact` faults done for real.
    pub etcd: Option<String>,
    /// Where to listen. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// Virtual seconds per wall second of the scenario's timeline. Default 1.
    pub speed: u32,
    /// Record which local process opened each connection (`harness exec`).
    pub attribute_processes: bool,
}

impl ProxyOptions {
    /// A proxy in front of the apiserver `kubeconfig` names.
    #[must_use]
    pub fn new(kubeconfig: impl Into<PathBuf>) -> Self {
        Self {
            upstream: kubeconfig.into(),
            context: None,
            etcd: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1,
            attribute_processes: false,
        }
    }

    /// Uses the kubeconfig's context `name`.
    #[must_use]
    pub fn context(mut self, name: Option<String>) -> Self {
        self.context = name;
        self
    }

    /// Compacts through the etcd at `url`.
    #[must_use]
    pub fn etcd(mut self, url: Option<String>) -> Self {
        self.etcd = url;
        self
    }

    /// Listens on `addr`.
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Plays the timeline `speed` times faster than real time (0 counts as 1).
    #[must_use]
    pub fn speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }

    /// Records which process opened each connection.
    #[must_use]
    pub fn attribute_processes(mut self, on: bool) -> Self {
        self.attribute_processes = on;
        self
    }
}

/// A scenario's faults in front of a real apiserver, and its workload in it. Call
/// [`Proxy::close`] at the end: it deletes what the run wrote upstream.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    truth: Arc<Truth>,
    workload: Arc<tokio::sync::Mutex<Workload>>,
    namespaces: Namespaces,
    duration: Duration,
    refused: Arc<Mutex<Vec<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Proxy {
    /// Checks that the scenario can be played through a proxy, connects to the upstream,
    /// creates the run's namespaces and objects there, and starts listening and playing.
    /// `path` names the scenario in errors.
    ///
    /// # Errors
    /// A fault the proxy cannot make, an unusable kubeconfig, an upstream that does not
    /// answer or refuses the workload, an address that cannot be had. Nothing is left running
    /// or written upstream.
    pub async fn start(
        scenario: &Scenario,
        path: &Path,
        options: &ProxyOptions,
    ) -> Result<Self, Error> {
        let speed = options.speed;
        Self::start_recording(scenario, path, options, || Recorder::start_live(speed)).await
    }

    /// As [`Proxy::start`], recording the run into the recorder `recorder` makes (with the
    /// options' speed) once the workload is written and the run's clock starts: one that
    /// folds its trace ([`Recorder::start_live_folding`]) must keep the writes, which
    /// `compact` with `retain` reads back.
    ///
    /// # Errors
    /// As [`Proxy::start`].
    pub async fn start_recording(
        scenario: &Scenario,
        path: &Path,
        options: &ProxyOptions,
        recorder: impl FnOnce() -> Recorder,
    ) -> Result<Self, Error> {
        let refusals = playable::refusals(scenario, options.etcd.is_some());
        if !refusals.is_empty() {
            return Err(Error::Unplayable {
                path: path.to_owned(),
                refusals,
            });
        }
        let upstream = Upstream::connect(&options.upstream, options.context.as_deref()).await?;
        let served = upstream.discover(&scenario.resource).await?;
        let etcd = match &options.etcd {
            Some(url) => {
                let gateway = EtcdGateway::new(url.trim_end_matches('/').to_owned());
                if let Err(error) = gateway.revision().await {
                    return Err(Error::Unreachable {
                        server: url.clone(),
                        reason: error.to_string(),
                    });
                }
                Some(gateway)
            }
            None => None,
        };
        let namespaces = Namespaces::for_scenario(scenario);
        let shared_for = |recorder| {
            Arc::new(Shared::new(
                recorder,
                scenario.resource.clone(),
                scenario.server.watch_cache,
                upstream.clone(),
                scenario.server.max_requests,
            ))
        };
        // The objects present at time zero are written first, on a clock of their own, and
        // then recorded at time zero of the run's.
        let setup = shared_for(Recorder::start_live(options.speed));
        let truth = Arc::new(Truth::default());
        let mut workload = Workload::new(
            Arc::clone(&setup),
            Arc::clone(&truth),
            namespaces.clone(),
            served,
        );
        workload.create_namespaces().await?;
        for object in &scenario.objects {
            if let Err(error) = workload.apply(&Write::Create(object.clone())).await {
                workload.delete_namespaces().await;
                return Err(error);
            }
        }
        let listener = match TcpListener::bind(options.addr).await {
            Ok(listener) => listener,
            Err(source) => {
                workload.delete_namespaces().await;
                return Err(Error::Bind {
                    addr: options.addr,
                    source,
                });
            }
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(source) => {
                workload.delete_namespaces().await;
                return Err(Error::Bind {
                    addr: options.addr,
                    source,
                });
            }
        };
        let shared = shared_for(recorder());
        shared.saw_revision(setup.revision());
        for event in setup.recorder.snapshot() {
            shared.recorder.record(event.kind);
        }
        // The same writer, its labels of the objects made at time zero included, on the run's clock.
        let workload = Arc::new(tokio::sync::Mutex::new(workload.on(Arc::clone(&shared))));
        let timeline: Vec<Step> = scenario
            .timeline
            .iter()
            .map(|step| rewrite_targets(step, &namespaces))
            .collect();
        let refused = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = vec![truth::watch(Arc::clone(&shared), Arc::clone(&truth))];
        tasks.push(tokio::spawn(play(
            Arc::clone(&shared),
            Arc::clone(&workload),
            timeline,
            etcd,
            Arc::clone(&refused),
        )));
        tasks.push(tokio::spawn(accept(
            listener,
            Arc::clone(&shared),
            options.attribute_processes,
        )));
        Ok(Self {
            addr,
            shared,
            truth,
            workload,
            namespaces,
            duration: scenario.duration,
            refused,
            tasks,
        })
    }

    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://ADDR`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The run's namespaces upstream.
    #[must_use]
    pub fn namespaces(&self) -> Vec<String> {
        self.namespaces.all()
    }

    /// The run's clock and trace.
    #[must_use]
    pub fn recorder(&self) -> &Recorder {
        &self.shared.recorder
    }

    /// Resolves when the scenario's timeline has played to its end.
    pub async fn timeline_end(&self) {
        self.shared.recorder.sleep_until(self.duration).await;
    }

    /// Resolves when the clients' requests make a storm: the requests by then, the burst's
    /// span.
    pub async fn storm(&self) -> (u64, Option<Duration>) {
        self.shared.storm().await
    }

    /// A kubeconfig for clients: plain HTTP to the proxy, no credentials, in the run's
    /// namespace.
    #[must_use]
    pub fn kubeconfig(&self) -> Kubeconfig {
        crate::kubeconfig::in_namespace(
            crate::kubeconfig::single(KUBECONFIG_NAME, self.url(), None, None),
            self.namespaces.first(),
        )
    }

    /// Writes [`Proxy::kubeconfig`] to `path`.
    ///
    /// # Errors
    /// [`Error::WriteKubeconfig`] when the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        let yaml = serde_saphyr::to_string(&self.kubeconfig())
            .expect("a kubeconfig of strings always serializes");
        std::fs::write(path, yaml).map_err(|source| Error::WriteKubeconfig {
            path: path.to_owned(),
            source,
        })
    }

    /// Stops serving and playing, ends the watches still open cleanly (the final chunk, as at
    /// a timeout, rather than a connection gone mid-stream), reads the truth once more (what it
    /// learns recorded at `end`, the time clients are judged at), and returns the run's trace.
    pub async fn settle(&mut self, end: Duration) -> Trace {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        for watch in self.shared.watches().values() {
            let _ = watch.hits.send(OpenWatchHit::Cut(Cut::Clean));
        }
        // NB: a stalled watch ends only when its client leaves: a little wait, not for ever.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.shared.all_closed()).await;
        truth::settle(&self.shared, &self.truth, end).await;
        self.shared.recorder.snapshot()
    }

    /// Deletes the run's namespaces upstream; returns what went wrong on the way: writes of the
    /// workload the upstream refused, and what could not be deleted.
    pub async fn close(mut self) -> Vec<String> {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        let mut problems =
            std::mem::take(&mut *self.refused.lock().expect("no lock holder panics"));
        problems.extend(self.workload.lock().await.delete_namespaces().await);
        problems
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A step with its fault's `path:` turned from the scenario's namespaces to the run's.
fn rewrite_targets(step: &Step, namespaces: &Namespaces) -> Step {
    let mut step = step.clone();
    if let Action::Fault(fault) = &mut step.action
        && let Some(target) = fault.target_mut()
        && let Some(path) = &mut target.path
    {
        *path = namespaces.rewrite_path(path);
    }
    step
}

/// Plays the timeline: writes go upstream, faults become rules.
async fn play(
    shared: Arc<Shared>,
    workload: Arc<tokio::sync::Mutex<Workload>>,
    timeline: Vec<Step>,
    etcd: Option<EtcdGateway>,
    refused: Arc<Mutex<Vec<String>>>,
) {
    for step in timeline {
        shared.recorder.sleep_until(step.at).await;
        match &step.action {
            Action::Write(write) => {
                if let Err(error) = workload.lock().await.apply(write).await {
                    tracing::warn!(%error, "a workload write was refused");
                    refused.lock().expect("no lock holder panics").push(format!(
                        "at {}: {error}",
                        crate::scenario::format_duration(step.at)
                    ));
                }
            }
            Action::Fault(fault) => inject(&shared, fault, etcd.as_ref(), &refused).await,
        }
    }
}

async fn inject(
    shared: &Shared,
    fault: &Fault,
    etcd: Option<&EtcdGateway>,
    refused: &Mutex<Vec<String>>,
) {
    shared.recorder.record(TraceKind::Fault {
        fault: fault.kind_of(),
    });
    let now = shared.recorder.now();
    if let Fault::Compact { retain } = fault {
        let Some(etcd) = etcd else { return };
        let compacted = async {
            let current = etcd.revision().await?;
            shared.saw_revision(current);
            let revision = match retain {
                None => current,
                // The revision current `retain` ago: the last write the run saw by then.
                Some(retain) => shared
                    .recorder
                    .snapshot()
                    .iter()
                    .filter(|e| e.at + *retain <= now)
                    .filter_map(|e| match e.kind {
                        TraceKind::Write {
                            resource_version, ..
                        } => Some(resource_version),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0),
            };
            if revision > 0 {
                etcd.compact(revision).await?;
            }
            Ok::<_, crate::anchor::Error>(revision)
        };
        match compacted.await {
            Ok(revision) => shared.recorder.record(TraceKind::Compacted { revision }),
            Err(error) => refused
                .lock()
                .expect("no lock holder panics")
                .push(format!("compact: {error}")),
        }
        return;
    }
    let mut rules = shared.rules();
    let id = rules.install(fault, now, shared.revision());
    if matches!(fault, Fault::CutStream { .. } | Fault::StallStream { .. }) {
        let watches = shared.watches();
        rules.await_claims(id, watches.len());
        for watch in watches.values() {
            if let Some(hit) = rules.claim_open_watch(id, now, &watch.request.info()) {
                let _ = watch.hits.send(hit);
            }
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, attribute_processes: bool) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // EMFILE and friends: back off briefly rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let local = stream.local_addr().ok();
        tokio::spawn(async move {
            let process = match local {
                // NB: procfs reads block; the client is still connected, so its socket is
                // still there to be found.
                Some(local) if attribute_processes => {
                    tokio::task::spawn_blocking(move || crate::peer::owner(local, peer))
                        .await
                        .ok()
                        .flatten()
                }
                _ => None,
            };
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(forward::handle(shared, request, process).await) }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(%error, "a client connection ended with an error");
            }
            drop(slot);
        });
    }
}
