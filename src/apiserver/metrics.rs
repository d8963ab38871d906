//! `/metrics`, as kube-apiserver serves it: Prometheus' text format, with the metrics a soak
//! watches for leaks under the names kube-apiserver gives them (`apiserver_request_total`,
//! `apiserver_longrunning_requests`, and the process collector's `process_resident_memory_bytes`
//! and `process_open_fds`), and the one a Go server has no analogue for under this harness's
//! prefix (tokio's alive tasks, where kube-apiserver has `go_goroutines`). Names and help text
//! from `staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go` and prometheus'
//! `process_collector.go`.

use std::fmt::Write as _;

use http::Response;

use super::body::{Body, json_as};
use super::replicas::ReplicaId;
use super::shared::Shared;

/// Prometheus' text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's figures now.
pub(super) fn render(shared: &Shared, replica: ReplicaId) -> Response<Body> {
    let (answered, watches) = {
        let state = shared.lock();
        (
            state.answered.clone(),
            state.replicas.get(replica).fanout.len(),
        )
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP apiserver_request_total Counter of apiserver requests broken out for each verb and HTTP response code.\n# TYPE apiserver_request_total counter"
    );
    let mut by_label = std::collections::BTreeMap::<(&str, u16), u64>::new();
    for ((verb, code), n) in answered {
        *by_label.entry((verb.metric_verb(), code)).or_default() += n;
    }
    for ((verb, code), n) in by_label {
        let _ = writeln!(
            out,
            "apiserver_request_total{{code=\"{code}\",verb=\"{verb}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests broken out by verb.\n# TYPE apiserver_longrunning_requests gauge\napiserver_longrunning_requests{{verb=\"WATCH\"}} {watches}"
    );
    if let Some(rss) = resident_bytes() {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}"
        );
    }
    if let Some(fds) = open_fds() {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds {fds}"
        );
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let _ = writeln!(
            out,
            "# HELP kube_watch_harness_tokio_alive_tasks Tasks alive in the server's tokio runtime (kube-apiserver's go_goroutines).\n# TYPE kube_watch_harness_tokio_alive_tasks gauge\nkube_watch_harness_tokio_alive_tasks {}",
            runtime.metrics().num_alive_tasks()
        );
    }
    // NB: framed as every whole answer is (chunked past 2 KiB, as Go's net/http frames it).
    json_as(out.into_bytes(), CONTENT_TYPE)
}

/// `VmRSS` of `/proc/self/status`, in bytes; `None` where there is no procfs.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Entries of `/proc/self/fd`, less the one reading it opens; `None` where there is no procfs.
fn open_fds() -> Option<usize> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?.count();
    Some(entries.saturating_sub(1))
}
