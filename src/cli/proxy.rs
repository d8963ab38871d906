//! `harness proxy`: a scenario's faults on a real apiserver's traffic until its timeline ends
//! or Ctrl-C.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::proxy::{Proxy, ProxyOptions};
use crate::report;
use crate::scenario::{self, format_duration};

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
        let mut proxy = Proxy::start(&scenario, request.path, options).await?;
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
            let interrupted = tokio::select! {
                () = proxy.timeline_end() => false,
                _ = proxy.storm() => false,
                signal = crate::signal::interrupted() => {
                    signal?;
                    true
                }
            };
            let at = proxy.recorder().now().min(scenario.duration);
            let trace = proxy.settle(at).await;
            anyhow::Ok(report::requests::summary(&trace, at, interrupted))
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
