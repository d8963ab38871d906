//! Live mode: the scenario's [`ApiServer`] on a real TCP port with the wall clock, optionally
//! sped up, so any client (kubectl, client-go, the Python or JavaScript clients, a user's own
//! operator) can be pointed at a scenario. The server, its timeline and its faults are the same
//! code as in simulated mode; only the transport (TCP instead of an in-memory pipe) and the
//! clock (tokio's wall clock scaled by `speed`, see [`Recorder`]) differ.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::apiserver::{self, ApiServer};
use crate::scenario::Scenario;
use crate::trace::Recorder;

/// Name of the cluster, user and context in the kubeconfig the live server writes.
const KUBECONFIG_NAME: &str = "kube-watch-harness";

/// How a live server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveOptions {
    /// Where to listen. Default `127.0.0.1:0` (loopback, a free port).
    pub addr: SocketAddr,
    /// Virtual seconds per wall second. Default 1.
    pub speed: u32,
    /// Connections served at once; further ones wait in the listen backlog. Default 4,096.
    pub max_connections: usize,
    /// How long a client may take to send a request head before it is disconnected
    /// (slowloris). Default 30 s, hyper's own default.
    pub header_timeout: Duration,
    /// Record which local process opened each connection (procfs, `peer.rs`), so that clients
    /// are told apart by process. Default off: it reads procfs once a connection.
    pub attribute_processes: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed: 1,
            max_connections: 4096,
            header_timeout: Duration::from_secs(30),
            attribute_processes: false,
        }
    }
}

impl LiveOptions {
    /// Sets [`LiveOptions::attribute_processes`].
    #[must_use]
    pub fn attribute_processes(mut self, on: bool) -> Self {
        self.attribute_processes = on;
        self
    }

    /// Sets [`LiveOptions::addr`].
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sets [`LiveOptions::header_timeout`].
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets [`LiveOptions::speed`] (0 counts as 1).
    #[must_use]
    pub fn speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }
}

/// Why a live server could not start or describe itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address could not be bound.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The kubeconfig could not be written.
    #[error("failed to write the kubeconfig {}", path.display())]
    WriteKubeconfig {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// kube refused the kubeconfig (a harness bug: it is generated).
    #[error("kube could not use the generated kubeconfig")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
}

/// A scenario served on a TCP port. Dropping it stops accepting and stops the timeline;
/// connections already open end with the runtime.
#[derive(Debug)]
pub struct LiveServer {
    addr: SocketAddr,
    server: ApiServer,
    duration: Duration,
    accept: JoinHandle<()>,
    player: JoinHandle<()>,
}

impl LiveServer {
    /// Binds `options.addr`, starts serving and starts the scenario's timeline. Must be called
    /// inside a tokio runtime whose clock is not paused (tokio#4522: a paused clock jumps while
    /// bytes sit in a kernel buffer).
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound.
    pub async fn start(scenario: &Scenario, options: &LiveOptions) -> Result<Self, Error> {
        Self::start_recording(scenario, options, Recorder::start_live(options.speed)).await
    }

    /// As [`LiveServer::start`], recording into `recorder` (made with the options' speed), for
    /// a server that folds its trace as it goes ([`Recorder::start_live_folding`]).
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound.
    pub async fn start_recording(
        scenario: &Scenario,
        options: &LiveOptions,
        recorder: Recorder,
    ) -> Result<Self, Error> {
        let listener = TcpListener::bind(options.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: options.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: options.addr,
            source,
        })?;
        let server = ApiServer::new(scenario, recorder);
        // `play` applies the steps at time zero before any connection is accepted.
        let player = tokio::spawn(apiserver::play(server.clone(), scenario.clone()));
        let accept = tokio::spawn(accept(
            listener,
            server.clone(),
            Arc::new(Semaphore::new(options.max_connections)),
            options.header_timeout,
            options.attribute_processes,
        ));
        Ok(Self {
            addr,
            server,
            duration: scenario.duration,
            accept,
            player,
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

    /// The server: its recorder holds the request log.
    #[must_use]
    pub fn server(&self) -> &ApiServer {
        &self.server
    }

    /// Resolves when the scenario's timeline has played to its end.
    pub async fn timeline_end(&self) {
        self.server.recorder().sleep_until(self.duration).await;
    }

    /// A kubeconfig for this server: plain HTTP, no credentials, namespace `default`.
    #[must_use]
    pub fn kubeconfig(&self) -> Kubeconfig {
        crate::kubeconfig::single(KUBECONFIG_NAME, self.url(), None, None)
    }

    /// Writes [`LiveServer::kubeconfig`] as YAML to `path`, and only there.
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

    /// The kube `Config` a kube-rs client gets from [`LiveServer::kubeconfig`], with kube's
    /// client-side timers (connect and read timeouts) scaled by the server's speed so that a
    /// set-up sees the same virtual timeouts as in simulated mode.
    ///
    /// # Errors
    /// [`Error::Kubeconfig`] when kube refuses the generated kubeconfig (a harness bug).
    pub async fn kube_config(&self) -> Result<kube::Config, Error> {
        let mut config =
            kube::Config::from_custom_kubeconfig(self.kubeconfig(), &KubeConfigOptions::default())
                .await?;
        let recorder = self.server.recorder();
        config.connect_timeout = config.connect_timeout.map(|t| recorder.real(t));
        config.read_timeout = config.read_timeout.map(|t| recorder.real(t));
        config.write_timeout = config.write_timeout.map(|t| recorder.real(t));
        Ok(config)
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.accept.abort();
        self.player.abort();
    }
}

async fn accept(
    mut listener: TcpListener,
    server: ApiServer,
    slots: Arc<Semaphore>,
    header_timeout: Duration,
    attribute_processes: bool,
) {
    let mut closings = server.closings();
    loop {
        // NB: waiting for a slot before accepting leaves further connections in the kernel's
        // backlog: the number of connections served, and so memory, stays bounded.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = apiserver::restarted(&mut closings) => {
                // A restarting apiserver's port is closed from SIGTERM: connections are
                // refused until the new process listens again.
                drop(slot);
                if server.accepting() {
                    continue;
                }
                match down_and_up(listener, &server).await {
                    Some(again) => listener = again,
                    None => return,
                }
                continue;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                // Watch events are small and latency matters more than packet count.
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                let local = stream.local_addr().ok();
                tokio::spawn(async move {
                    let process = match local {
                        // NB: procfs reads block; the client is still connected, so its
                        // socket is still there to be found.
                        Some(local) if attribute_processes => {
                            tokio::task::spawn_blocking(move || crate::peer::owner(local, peer))
                                .await
                                .ok()
                                .flatten()
                        }
                        _ => None,
                    };
                    apiserver::serve_live(server, stream, header_timeout, process).await;
                    drop(slot);
                });
            }
            Err(error) => {
                // EMFILE and friends: back off briefly rather than spin.
                tracing::warn!(%error, "accept failed");
                drop(slot);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Closes `listener` while a restart has the port closed, then listens on the same address
/// again (requests then wait in `handle` until the new process serves); `None` if the
/// address cannot be had back within five seconds.
async fn down_and_up(listener: TcpListener, server: &ApiServer) -> Option<TcpListener> {
    let addr = listener.local_addr().ok()?;
    drop(listener);
    server.listening().await;
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::warn!(%error, %addr, "listening again after a restart failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    None
}
