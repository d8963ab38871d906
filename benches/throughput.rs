//! Throughput: events per second from the server into a kube-rs watch (objects of about
//! 1 KiB), beside the watch decoder's own ceiling — the very same bytes served from memory by a
//! stub service through the same kube `Client` decoder. The ratio says whether the server is
//! the bottleneck. Two server figures: streaming changes already in history (a watch resumed
//! from an older resourceVersion: the serving path alone), and live, with each change written
//! while the watch reads (the serving path plus the workload's writes, on the same thread).
//!
//! Run with `cargo bench --bench throughput`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use futures::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, WatchEvent, WatchParams};
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::scenario::{Scenario, Write};
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

const EVENTS: u64 = 5_000;

fn scenario() -> Scenario {
    Scenario::from_yaml(
        "duration: 24h\nresource: { version: v1, kind: ConfigMap, plural: configmaps, objects: [{ name: a }] }\nwatchers: [{ name: w }]\nexpect: { deadline: 1m, recover: [w] }\n",
    )
    .expect("the bench scenario is valid")
}

fn update(n: u64) -> Write {
    // About 1 KiB on the wire per event.
    let filler = "x".repeat(800);
    Write::Update {
        name: "a".into(),
        namespace: Some("default".into()),
        labels: None,
        body: [(
            "data".into(),
            serde_json::json!({ "n": n.to_string(), "filler": filler }),
        )]
        .into(),
    }
}

async fn count_modified(api: &Api<ConfigMap>, from: u64) -> u64 {
    let mut stream = api
        .watch(&WatchParams::default().timeout(3600), &from.to_string())
        .await
        .expect("the watch starts")
        .boxed();
    let mut seen = 0;
    while seen < EVENTS {
        match stream.try_next().await.expect("no decode error") {
            Some(WatchEvent::Modified(_)) => seen += 1,
            Some(_) => {}
            None => break,
        }
    }
    seen
}

/// The serving path alone: a watch resumed from before `EVENTS` changes already in history.
async fn from_history() -> Duration {
    let server = ApiServer::new(&scenario(), Recorder::start());
    let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
    let api: Api<ConfigMap> = Api::all(client);
    let from = server.revision();
    for n in 0..EVENTS {
        server.write(&update(n));
    }
    let started = Instant::now();
    let seen = count_modified(&api, from).await;
    assert_eq!(seen, EVENTS, "every event arrives");
    started.elapsed()
}

/// The server path with the writes: as fast as the runtime allows while one watch reads them.
async fn through_the_server() -> (Duration, Bytes) {
    let server = ApiServer::new(&scenario(), Recorder::start());
    let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
    let api: Api<ConfigMap> = Api::all(client.clone());
    let from = server.revision();
    let started = Instant::now();
    let writer = async {
        for n in 0..EVENTS {
            server.write(&update(n));
            if n % 64 == 63 {
                tokio::task::yield_now().await;
            }
        }
    };
    let (seen, ()) = tokio::join!(count_modified(&api, from), writer);
    let elapsed = started.elapsed();
    assert_eq!(seen, EVENTS, "every event arrives");
    // The same events as bytes, replayed from history, for the ceiling.
    let request = http::Request::get(format!(
        "/api/v1/configmaps?watch=true&resourceVersion={from}&timeoutSeconds=3600"
    ))
    .body(kube::client::Body::empty())
    .expect("a request");
    let mut body = client
        .send(request)
        .await
        .expect("the watch starts")
        .into_body();
    let mut bytes = Vec::new();
    while bytes.iter().filter(|b| **b == b'\n').count()
        < usize::try_from(EVENTS).unwrap_or(usize::MAX)
    {
        let frame = body.frame().await.expect("more frames").expect("a frame");
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    (elapsed, Bytes::from(bytes))
}

/// The decoder's ceiling: the same bytes from memory, through the same kube `Client` stack.
async fn from_memory(bytes: Bytes) -> Duration {
    let stub = tower::service_fn(move |_request: http::Request<kube::client::Body>| {
        let bytes = bytes.clone();
        async move { Ok::<_, Infallible>(http::Response::new(Full::new(bytes))) }
    });
    let api: Api<ConfigMap> = Api::all(kube::Client::new(stub, "default"));
    let started = Instant::now();
    let seen = count_modified(&api, 1).await;
    assert_eq!(seen, EVENTS, "every event decodes");
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (_, bytes) = runtime.block_on(through_the_server());
    eprintln!(
        "\n{EVENTS} events, {} bytes ({} per event)",
        bytes.len(),
        bytes.len() / usize::try_from(EVENTS).unwrap_or(1)
    );
    c.bench_function("ceiling: the watch decoder, same bytes from memory", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| runtime.block_on(from_memory(bytes.clone())))
                .sum::<Duration>()
        });
    });
    c.bench_function("server: history into a kube-rs watch", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| runtime.block_on(from_history()))
                .sum::<Duration>()
        });
    });
    c.bench_function("server: writes into a kube-rs watch", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| runtime.block_on(through_the_server()).0)
                .sum::<Duration>()
        });
    });
    let runs = 10;
    let ceiling: Duration = (0..runs)
        .map(|_| runtime.block_on(from_memory(bytes.clone())))
        .sum::<Duration>()
        / runs;
    let history: Duration = (0..runs)
        .map(|_| runtime.block_on(from_history()))
        .sum::<Duration>()
        / runs;
    let server: Duration = (0..runs)
        .map(|_| runtime.block_on(through_the_server()).0)
        .sum::<Duration>()
        / runs;
    let rate = |d: Duration| EVENTS as f64 / d.as_secs_f64();
    eprintln!(
        "ceiling {:.0} events/s; server from history {:.0} events/s = {:.2}x the ceiling; with the writes {:.0} events/s = {:.2}x",
        rate(ceiling),
        rate(history),
        rate(history) / rate(ceiling),
        rate(server),
        rate(server) / rate(ceiling)
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
