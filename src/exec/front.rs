//! Where `harness exec` points the client: the simulation served on loopback
//! ([`crate::live`]), or a proxy in front of a real apiserver ([`crate::proxy`]); one face
//! for both, so playing and judging do not care which.

use std::path::Path;
use std::time::Duration;

use super::error::Error;
use super::exec_options::ExecOptions;
use crate::live::{LiveOptions, LiveServer};
use crate::proxy::Proxy;
use crate::scenario::Scenario;
use crate::trace::{Recorder, Trace, TraceKind};

/// Where the client is pointed: the simulation, or a proxy in front of a real apiserver.
pub(super) enum Front {
    Live(LiveServer),
    Proxy(Proxy),
}

impl Front {
    pub(super) async fn start(scenario: &Scenario, options: &ExecOptions) -> Result<Self, Error> {
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

    pub(super) fn port(&self) -> u16 {
        match self {
            Self::Live(live) => live.addr().port(),
            Self::Proxy(proxy) => proxy.addr().port(),
        }
    }

    pub(super) fn recorder(&self) -> &Recorder {
        match self {
            Self::Live(live) => live.server().recorder(),
            Self::Proxy(proxy) => proxy.recorder(),
        }
    }

    pub(super) fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        match self {
            Self::Live(live) => Ok(live.write_kubeconfig(path)?),
            Self::Proxy(proxy) => Ok(proxy.write_kubeconfig(path)?),
        }
    }

    pub(super) async fn timeline_end(&self) {
        match self {
            Self::Live(live) => live.timeline_end().await,
            Self::Proxy(proxy) => proxy.timeline_end().await,
        }
    }

    pub(super) async fn storm(&self) -> (u64, Option<Duration>) {
        match self {
            Self::Live(live) => live.server().storm().await,
            Self::Proxy(proxy) => proxy.storm().await,
        }
    }

    /// The run's trace, with the truth settled as of `end`.
    pub(super) async fn trace(&mut self, end: Duration) -> Trace {
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
    pub(super) async fn close(self) -> Vec<String> {
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
