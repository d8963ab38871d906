//! Events per second into a client through `harness proxy` against the same client straight to
//! the same real kube-apiserver (the anchor control plane), in one run: a streaming list
//! (`sendInitialEvents=true`) of `OBJECTS` ConfigMaps, timed from the request to its
//! `k8s.io/initial-events-end` bookmark. The proxy relays line by line and reads every event
//! (to apply faults and record what was sent); this is what that costs with no fault in force.
//!
//! Run with `ci/anchor-build && cargo bench --bench proxy`. Without the built control plane it
//! says so and measures nothing.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::BodyExt;
use kube::config::KubeConfigOptions;
use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};
use kube_watch_harness::proxy::{Proxy, ProxyOptions};
use kube_watch_harness::scenario::Scenario;

const OBJECTS: usize = 1000;

fn scenario() -> Scenario {
    let objects: Vec<String> = (0..OBJECTS)
        .map(|i| format!("{{ name: cm-{i}, body: {{ data: {{ index: \"{i}\" }} }} }}"))
        .collect();
    Scenario::from_yaml(&format!(
        "duration: 24h\nresource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{}] }}\nwatchers: [{{ name: w }}]\nexpect: {{ deadline: 1m, recover: [w] }}\n",
        objects.join(", ")
    ))
    .expect("the bench scenario is valid")
}

/// One streaming list of `namespace`'s ConfigMaps, read to its end marker; the events read.
async fn streaming_list(client: &kube::Client, namespace: &str) -> usize {
    let request = http::Request::get(format!(
        "/api/v1/namespaces/{namespace}/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=60"
    ))
    .body(kube::client::Body::empty())
    .expect("a valid request");
    let response = client.send(request).await.expect("the watch is answered");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let (mut events, mut partial) = (0, Vec::new());
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.expect("the stream holds").into_data() else {
            continue;
        };
        partial.extend_from_slice(&data);
        while let Some(newline) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=newline).collect();
            events += 1;
            const END: &[u8] = b"k8s.io/initial-events-end";
            if line.windows(END.len()).any(|w| w == END) {
                return events;
            }
        }
    }
    panic!("the stream ended before its initial events did");
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binaries = Binaries::locate(root);
    if let Err(missing) = binaries.check() {
        eprintln!("proxy bench: did not run: the real control plane is not built: {missing}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let plane = runtime
        .block_on(ControlPlane::start(
            &binaries,
            ControlPlaneOptions::default(),
        ))
        .expect("the control plane starts");
    // The proxy on a thread and runtime of its own, as `harness proxy` runs.
    let (ready, started) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let upstream = plane.kubeconfig_path().to_owned();
    let proxy_thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let mut proxy = Proxy::start(
                &scenario(),
                Path::new("bench"),
                &ProxyOptions::new(upstream),
            )
            .await
            .expect("the proxy starts");
            ready
                .send((proxy.kubeconfig(), proxy.namespaces().remove(0)))
                .expect("the bench waits for it");
            let _ = stopped.await;
            proxy.settle(std::time::Duration::ZERO).await;
            for problem in proxy.close().await {
                eprintln!("proxy bench: {problem}");
            }
        });
    });
    let (kubeconfig, namespace) = started.recv().expect("the proxy started");
    let direct = runtime.block_on(async {
        let mut config = plane.kube_config().await.expect("a config");
        config.read_timeout = None;
        kube::Client::try_from(config).expect("a client")
    });
    let through = runtime.block_on(async {
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("a config");
        kube::Client::try_from(config).expect("a client")
    });
    let mut group = c.benchmark_group("watch events into a client");
    group
        .throughput(Throughput::Elements(OBJECTS as u64 + 1))
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));
    for (name, client) in [("direct", &direct), ("through the proxy", &through)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        let events = streaming_list(client, &namespace).await;
                        assert_eq!(events, OBJECTS + 1, "every object and the end marker");
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
    let _ = stop.send(());
    let _ = proxy_thread.join();
    drop(plane);
}

criterion_group!(benches, bench);
criterion_main!(benches);
