//! `harness serve`: a scenario on a real port until its timeline ends, Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::live::{LiveOptions, LiveServer};
use crate::report::requests::{Ending, Tally};
use crate::scenario::{self, format_duration};
use crate::trace::Recorder;

/// What `harness serve` was asked to do.
#[derive(Debug)]
pub(super) struct Request<'a> {
    pub(super) path: &'a Path,
    pub(super) addr: SocketAddr,
    pub(super) kubeconfig: Option<PathBuf>,
    pub(super) speed: u32,
}

/// Serves until the timeline ends or Ctrl-C, then prints the request summary.
pub(super) fn serve(
    request: &Request<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<()> {
    let scenario = scenario::load(request.path)?;
    if !request.addr.ip().is_loopback() {
        writeln!(
            err,
            "warning: listening on {}, beyond this machine: the server has no authentication and serves anyone who connects",
            request.addr
        )?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let options = LiveOptions::default()
            .addr(request.addr)
            .speed(request.speed);
        // NB: the request log is folded into its summary as it comes: a server left running
        // for days holds no more for it than for one request.
        let tally = Arc::new(Mutex::new(Tally::default()));
        let fold = Arc::clone(&tally);
        let recorder = Recorder::start_live_folding(
            request.speed,
            |_| false,
            move |event| {
                fold.lock()
                    .expect("the tally's lock is never poisoned: counting cannot panic")
                    .add(event);
            },
        );
        let live = LiveServer::start_recording(&scenario, &options, recorder).await?;
        let (kubeconfig, owned) = match &request.kubeconfig {
            Some(path) => (path.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "kube-watch-harness-{}.kubeconfig",
                    live.addr().port()
                )),
                true,
            ),
        };
        live.write_kubeconfig(&kubeconfig)?;
        writeln!(
            out,
            "serving scenario {} on {} ({} of timeline at {}×)",
            scenario.name,
            live.url(),
            format_duration(scenario.duration),
            request.speed
        )?;
        writeln!(out, "kubeconfig: {}", kubeconfig.display())?;
        writeln!(
            out,
            "try: kubectl --kubeconfig {} get {} -A --watch",
            kubeconfig.display(),
            scenario.resource.plural
        )?;
        out.flush()?;
        let interrupted = tokio::select! {
            () = live.timeline_end() => false,
            signal = crate::signal::interrupted() => {
                signal?;
                true
            }
        };
        let recorder = live.server().recorder();
        let at = recorder.now().min(scenario.duration);
        let summary = tally
            .lock()
            .expect("the tally's lock is never poisoned")
            .render(
                at,
                &if interrupted {
                    Ending::Interrupted
                } else {
                    Ending::TimelineEnded
                },
            );
        drop(live);
        if owned {
            // NB: only the file this command created and named itself is removed.
            let _ = std::fs::remove_file(&kubeconfig);
        }
        write!(out, "{summary}")?;
        out.flush()?;
        Ok(())
    })
}
