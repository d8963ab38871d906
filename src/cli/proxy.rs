//! `harness proxy`: a scenario's faults on a real apiserver's traffic until its timeline ends,
//! Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::proxy::{Proxy, ProxyOptions};
use crate::report::requests::{Ending, Tally};
use crate::scenario::{self, format_duration};
use crate::trace::{Recorder, TraceKind};

/// What `harness proxy` was asked to do.
#[derive(Debug)]
pub(super) struct Request<'a> {
    pub(super) path: &'a Path,
    pub(super) options: ProxyOptions,
    pub(super) kubeconfig: Option<PathBuf>,
}

/// Proxies until the timeline ends or Ctrl-C, cleans up upstream, then prints the request
/// summary.
pub(super) fn proxy(
    request: &Request<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<()> {
    let scenario = scenario::load(request.path)?;
    let options = &request.options;
    if !options.addr.ip().is_loopback() {
        writeln!(
            err,
            "warning: listening on {}, beyond this machine: anyone who connects acts as the upstream kubeconfig's user",
            options.addr
        )?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // NB: the request log is folded into its summary as it comes (a proxy left running for
        // days holds no more for it than for one request); the writes are kept, for `compact`
        // with `retain`.
        let tally = Arc::new(Mutex::new(Tally::default()));
        let fold = Arc::clone(&tally);
        let recorder = || {
            Recorder::start_live_folding(
                options.speed,
                |kind| matches!(kind, TraceKind::Write { .. }),
                move |event| {
                    fold.lock()
                        .expect("the tally's lock is never poisoned: counting cannot panic")
                        .add(event);
                },
            )
        };
        let mut proxy = Proxy::start_recording(&scenario, request.path, options, recorder).await?;
        let (kubeconfig, owned) = match &request.kubeconfig {
            Some(path) => (path.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "kube-watch-harness-proxy-{}.kubeconfig",
                    proxy.addr().port()
                )),
                true,
            ),
        };
        let served = async {
            proxy.write_kubeconfig(&kubeconfig)?;
            writeln!(
                out,
                "proxying {} with scenario {} on {} ({} of timeline at {}×); the workload is in namespace {}",
                options.upstream.display(),
                scenario.name,
                proxy.url(),
                format_duration(scenario.duration),
                options.speed,
                proxy.namespaces().join(", ")
            )?;
            writeln!(out, "kubeconfig: {}", kubeconfig.display())?;
            writeln!(
                out,
                "try: kubectl --kubeconfig {} get {} --watch",
                kubeconfig.display(),
                scenario.resource.plural
            )?;
            out.flush()?;
            let ending = tokio::select! {
                () = proxy.timeline_end() => Ending::TimelineEnded,
                (requests, burst) = proxy.storm() => Ending::Storm(crate::apiserver::storm_words(
                    requests,
                    burst,
                    scenario.server.max_requests,
                )),
                signal = crate::signal::interrupted() => {
                    signal?;
                    Ending::Interrupted
                }
            };
            let at = proxy.recorder().now().min(scenario.duration);
            // NB: settling ends the watches still open cleanly; the summary is the tally's.
            proxy.settle(at).await;
            anyhow::Ok(
                tally
                    .lock()
                    .expect("the tally's lock is never poisoned")
                    .render(at, &ending),
            )
        }
        .await;
        // NB: on every path: what the run wrote upstream, and the file this command named.
        for problem in proxy.close().await {
            writeln!(err, "warning: {problem}")?;
        }
        if owned {
            let _ = std::fs::remove_file(&kubeconfig);
        }
        write!(out, "{}", served?)?;
        out.flush()?;
        Ok(())
    })
}
