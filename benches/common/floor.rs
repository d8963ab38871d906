//! The floor benches quote their figures against, measured in the same run: one bare LIST
//! round trip through a fresh world (paused runtime, server and kube client), the least a
//! set-up's run can cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::scenario::Scenario;
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

/// One LIST through a fresh world: the least a set-up's run can cost.
pub(crate) fn bare_list(scenario: &Scenario) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime builds");
    runtime.block_on(async {
        let server = ApiServer::new(scenario, Recorder::start());
        let client = transport::client(server, &transport::config(), 0).expect("the client builds");
        let request = http::Request::get("/api/v1/events?limit=500")
            .body(Vec::new())
            .expect("a valid request");
        black_box(
            client
                .request_text(request)
                .await
                .expect("the LIST succeeds"),
        );
    });
}

/// The median, over 9 batches of `iterations` runs, of the time one run of `f` takes: a single
/// batch here moves by 2× with whatever else the machine is doing.
pub(crate) fn per_run(iterations: u32, mut f: impl FnMut()) -> Duration {
    let mut batches: Vec<Duration> = (0..9)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed() / iterations
        })
        .collect();
    batches.sort();
    batches[batches.len() / 2]
}
