//! `harness exec`: any client, in any language, judged the way `harness run` judges kube-rs
//! set-ups. The scenario is served on loopback ([`crate::live`]) and its timeline played; the
//! command runs with `KUBECONFIG` pointing at the server and [`VIEW_ENV`] naming a file it may
//! write its cache to ([`view`]); at the end it is stopped (SIGTERM, then SIGKILL after a grace
//! period) and each client it was — one per process, by who opened its connections — is
//! judged from what the server saw ([`crate::verdict::judge_client`]).

mod child;
pub mod view;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::live::{LiveOptions, LiveServer};
use crate::outcome::{Outcome, RunReport};
use crate::proxy::{Proxy, ProxyOptions};
use crate::scenario::{Expected, Scenario};
use crate::trace::{Recorder, Trace, TraceKind};
use crate::verdict::{self, ClientId, Exit};
pub use view::VIEW_ENV;

/// How to run a client.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecOptions {
    /// Play the timeline this many times faster than real time.
    pub speed: u32,
    /// How long the client has to exit after SIGTERM before it is killed.
    pub grace: Duration,
    /// The set-up of the scenario whose expectation the client is held to; `None`: it must
    /// recover.
    pub setup: Option<String>,
    /// Run the client through `harness proxy` in front of a real apiserver instead of against
    /// the simulation, and the scenario's file, for messages.
    pub upstream: Option<(ProxyOptions, PathBuf)>,
    /// Stop at Ctrl-C or SIGTERM: the client is stopped, what a proxy wrote upstream is
    /// deleted, and [`Error::Interrupted`] returned. Installs the process's handlers for both
    /// signals, which stay installed (for the command line). Default off.
    pub interruptible: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            speed: 1,
            grace: Duration::from_secs(5),
            setup: None,
            upstream: None,
            interruptible: false,
        }
    }
}

impl ExecOptions {
    /// Plays the timeline `speed` times faster than real time.
    #[must_use]
    pub fn speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }

    /// Holds the client to set-up `name`'s expectation.
    #[must_use]
    pub fn setup(mut self, name: impl Into<String>) -> Self {
        self.setup = Some(name.into());
        self
    }

    /// Runs the client through a proxy in front of the real apiserver `proxy` names; `path` is
    /// the scenario's file, named in errors.
    #[must_use]
    pub fn upstream(mut self, proxy: ProxyOptions, path: impl Into<PathBuf>) -> Self {
        self.upstream = Some((proxy, path.into()));
        self
    }

    /// Stops at Ctrl-C or SIGTERM; see [`ExecOptions::interruptible`].
    #[must_use]
    pub fn interruptible(mut self) -> Self {
        self.interruptible = true;
        self
    }

    /// Gives the client `grace` to exit after SIGTERM.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

/// Why a client could not be run or judged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No command was given.
    #[error(
        "no command to run: give one after `--`, as in `harness exec FILE -- kubectl get pods -w`"
    )]
    NoCommand,
    /// The command could not be started.
    #[error("failed to start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting on the command failed.
    #[error("failed to wait for `{program}`: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server could not start.
    #[error(transparent)]
    Live(#[from] crate::live::Error),
    /// The proxy could not start.
    #[error(transparent)]
    Proxy(#[from] crate::proxy::Error),
    /// The working directory for the kubeconfig and the view could not be made.
    #[error("failed to prepare {path}: {source}")]
    Prepare {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The cache the client wrote cannot be read.
    #[error("{path}:{line}: {message}", path = path.display())]
    View {
        /// The file.
        path: PathBuf,
        /// The line, from 1; 0 when the file itself could not be read.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `--setup` names a set-up the scenario does not have.
    #[error("{0}")]
    UnknownSetUp(String),
    /// Ctrl-C or SIGTERM ended the run ([`ExecOptions::interruptible`]); the client was
    /// stopped and nothing was judged.
    #[error("interrupted: the client was stopped and nothing was judged")]
    Interrupted,
    /// The signal handlers could not be installed.
    #[error("failed to listen for Ctrl-C and SIGTERM: {0}")]
    Signals(std::io::Error),
}

/// A client judged, and what went wrong around it that is not the client's doing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Executed {
    /// The verdict on each client it was.
    pub report: RunReport,
    /// Through a proxy: workload writes the upstream refused, and what could not be cleaned
    /// up there. Empty on the simulation.
    pub problems: Vec<String>,
}

/// Serves `scenario` (or proxies a real apiserver with its faults), runs `command` against
/// it, and judges every client it was.
///
/// # Errors
/// When the server, the command or its view cannot be used; a client that misbehaves is a
/// verdict, not an error.
pub fn exec(
    scenario: &Scenario,
    command: &[String],
    options: &ExecOptions,
) -> Result<Executed, Error> {
    let (expected, expected_mechanism) = match &options.setup {
        None => (Expected::Recover, None),
        Some(name) => {
            let setup = scenario
                .watchers
                .iter()
                .find(|w| &w.name == name)
                .ok_or_else(|| {
                    let mut only = scenario.clone();
                    Error::UnknownSetUp(only.only(name).err().unwrap_or_default())
                })?;
            (setup.expected, setup.expected_mechanism)
        }
    };
    if command.is_empty() {
        return Err(Error::NoCommand);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Prepare {
            path: PathBuf::from("(runtime)"),
            source,
        })?;
    let (trace, end, exit, view, problems) = runtime.block_on(play(scenario, command, options))?;
    let mut clients = verdict::clients(&trace);
    if clients.is_empty() {
        // A client that never connected is judged too: it made no request.
        clients.push(ClientId::Agent(String::new()));
    }
    let outcomes = clients
        .iter()
        .map(|id| {
            let verdict = verdict::judge_client(
                scenario,
                &trace,
                verdict::Client {
                    id,
                    view: view.as_ref(),
                    exit: &exit,
                    end,
                    speed: options.speed,
                },
            );
            let as_expected = match expected {
                Expected::Recover => verdict.recovered,
                Expected::Fail => !verdict.recovered && verdict.mechanism == expected_mechanism,
            };
            Outcome {
                setup: client_name(&verdict::agents_of(&trace, id), id, command),
                expected,
                expected_mechanism,
                verdict,
                as_expected,
                trace: Vec::new(),
            }
        })
        .collect();
    Ok(Executed {
        report: RunReport {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
            duration: scenario.duration,
            outcomes,
        },
        problems,
    })
}

/// Where the client is pointed: the simulation, or a proxy in front of a real apiserver.
enum Front {
    Live(LiveServer),
    Proxy(Proxy),
}

impl Front {
    async fn start(scenario: &Scenario, options: &ExecOptions) -> Result<Self, Error> {
        // Clients are told apart by the process that opened their connections.
        Ok(match &options.upstream {
            None => Self::Live(
                LiveServer::start(
                    scenario,
                    &LiveOptions::default()
                        .speed(options.speed)
                        .attribute_processes(true),
                )
                .await?,
            ),
            Some((proxy, path)) => Self::Proxy(
                Proxy::start(
                    scenario,
                    path,
                    &proxy.clone().speed(options.speed).attribute_processes(true),
                )
                .await?,
            ),
        })
    }

    fn port(&self) -> u16 {
        match self {
            Self::Live(live) => live.addr().port(),
            Self::Proxy(proxy) => proxy.addr().port(),
        }
    }

    fn recorder(&self) -> &Recorder {
        match self {
            Self::Live(live) => live.server().recorder(),
            Self::Proxy(proxy) => proxy.recorder(),
        }
    }

    fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        match self {
            Self::Live(live) => Ok(live.write_kubeconfig(path)?),
            Self::Proxy(proxy) => Ok(proxy.write_kubeconfig(path)?),
        }
    }

    async fn timeline_end(&self) {
        match self {
            Self::Live(live) => live.timeline_end().await,
            Self::Proxy(proxy) => proxy.timeline_end().await,
        }
    }

    async fn storm(&self) -> (u64, Option<Duration>) {
        match self {
            Self::Live(live) => live.server().storm().await,
            Self::Proxy(proxy) => proxy.storm().await,
        }
    }

    /// The run's trace, with the truth settled as of `end`.
    async fn trace(&mut self, end: Duration) -> Trace {
        match self {
            Self::Live(live) => {
                // A watch's end is recorded when the server notices its client left, a moment
                // after the client's exit: wait (a little) for every watch to have its end,
                // or a stalled watch would sometimes be judged as still open.
                let recorder = live.server().recorder();
                let ended = async {
                    while !every_watch_ended(&recorder.snapshot()) {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(1), ended).await;
                recorder.snapshot()
            }
            Self::Proxy(proxy) => proxy.settle(end).await,
        }
    }

    /// Cleans up after the run; what went wrong on the way.
    async fn close(self) -> Vec<String> {
        match self {
            Self::Live(_) => Vec::new(),
            Self::Proxy(proxy) => proxy.close().await,
        }
    }
}

/// Whether every watch the server opened has its end recorded.
fn every_watch_ended(trace: &Trace) -> bool {
    let opened = trace
        .iter()
        .filter(|e| matches!(e.kind, TraceKind::WatchOpened { .. }))
        .count();
    let ended = trace
        .iter()
        .filter(|e| matches!(e.kind, TraceKind::WatchEnded { .. }))
        .count();
    ended >= opened
}

/// What a run leaves: the trace, the time the client is judged at, how it exited, the cache
/// it wrote, and problems around it.
type Played = (Trace, Duration, Exit, Option<verdict::Objects>, Vec<String>);

/// Plays the scenario with the command running.
async fn play(
    scenario: &Scenario,
    command: &[String],
    options: &ExecOptions,
) -> Result<Played, Error> {
    let mut front = Front::start(scenario, options).await?;
    let dir = std::env::temp_dir().join(format!(
        "kube-watch-harness-exec-{}-{}",
        std::process::id(),
        front.port()
    ));
    let prepare = |source| Error::Prepare {
        path: dir.clone(),
        source,
    };
    let played = async {
        std::fs::create_dir_all(&dir).map_err(prepare)?;
        let kubeconfig = dir.join("kubeconfig");
        let view_path = dir.join("view.jsonl");
        front.write_kubeconfig(&kubeconfig)?;
        let mut client = child::Client::spawn(command, &kubeconfig, &view_path)?;
        let recorder = front.recorder().clone();
        let interrupt = async {
            if options.interruptible {
                crate::signal::interrupted().await
            } else {
                std::future::pending().await
            }
        };
        let mut interrupt = std::pin::pin!(interrupt);
        let mut interrupted = None;
        // The timeline plays to its end whether or not the client is still there: the truth
        // goes on, and the client is judged against all of it. A storm ends it early.
        let mut stormed = None;
        let exited = tokio::select! {
            status = client.exited() => Some((recorder.now(), status)),
            () = front.timeline_end() => None,
            storm = front.storm() => {
                stormed = Some(storm);
                None
            }
            signal = &mut interrupt => {
                interrupted = Some(signal);
                None
            }
        };
        if exited.is_some() {
            tokio::select! {
                () = front.timeline_end() => {}
                storm = front.storm() => stormed = Some(storm),
                signal = &mut interrupt => interrupted = Some(signal),
            }
        }
        if let Some(signal) = interrupted {
            client.stop(options.grace).await?;
            return Err(signal.map_or_else(Error::Signals, |()| Error::Interrupted));
        }
        if let Some((requests, burst)) = stormed {
            recorder.record(TraceKind::Storm { requests, burst });
        }
        let end = recorder.now().min(scenario.duration);
        // Stopped either way: what it started may still be running.
        let stopped = client.stop(options.grace).await?;
        let exit = match exited {
            Some((at, status)) => Exit {
                at: Some(at),
                status: child::describe(status?),
            },
            None => Exit {
                at: None,
                status: child::describe(stopped),
            },
        };
        let trace = front.trace(end).await;
        let view = view::read(&view_path)?;
        Ok((trace, end, exit, view))
    }
    .await;
    // NB: only the directory this run made is removed; what a proxy wrote upstream is deleted
    // on every path.
    let _ = std::fs::remove_dir_all(&dir);
    let problems = front.close().await;
    played.map(|(trace, end, exit, view)| (trace, end, exit, view, problems))
}

/// The name a client goes by in the report: its user agents, each up to its first space
/// (`kubectl/v1.33.0`), or the program's file name when it sent none (kube-rs sends none); and
/// its processes, when known (`kubectl/v1.33.0 (pid 4242)`).
fn client_name(agents: &[String], id: &ClientId, command: &[String]) -> String {
    let named: Vec<&str> = agents
        .iter()
        .filter_map(|agent| agent.split(' ').next())
        .filter(|name| !name.is_empty())
        .collect();
    let name = if named.is_empty() {
        format!(
            "{} (no user agent)",
            command
                .first()
                .map(std::path::Path::new)
                .and_then(std::path::Path::file_name)
                .map_or("client".into(), |name| name.to_string_lossy())
        )
    } else {
        named.join(" + ")
    };
    match id {
        ClientId::Processes(pids) => match pids.as_slice() {
            [pid] => format!("{name} (pid {pid})"),
            [first, .., last] => format!(
                "{name} ({} processes one after another, pids {first}..{last})",
                pids.len()
            ),
            [] => name,
        },
        ClientId::Agent(_) => name,
    }
}
