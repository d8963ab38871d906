//! One run of `harness exec`: the front started, the client spawned with its kubeconfig and
//! view file, the timeline played to its end (or a storm's, or an interrupt's), the client
//! stopped, and what is left to judge collected.

use std::time::Duration;

use super::child;
use super::error::Error;
use super::exec_options::ExecOptions;
use super::front::Front;
use super::view;
use crate::scenario::Scenario;
use crate::trace::{Trace, TraceKind};
use crate::verdict::{self, Exit};

/// What a run leaves: the trace, the time the client is judged at, how it exited, the cache
/// it wrote, and problems around it.
pub(super) type Played = (Trace, Duration, Exit, Option<verdict::Objects>, Vec<String>);

/// Plays the scenario with the command running.
pub(super) async fn play(
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
        let mut client = child::ClientChild::spawn(command, &kubeconfig, &view_path)?;
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
