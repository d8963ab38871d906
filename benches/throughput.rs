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
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, WatchEvent, WatchParams};
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::live::{LiveOptions, LiveServer};
use kube_watch_harness::scenario::{Scenario, Write};
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

const EVENTS: u64 = 5_000;
/// The server's largest HTTP chunk (`MAX_CHUNK` in `apiserver/watch/session.rs`).
const CHUNK: usize = 64 * 1024;

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

/// A simulated server and a client to it; `EVENTS` changes already in history, written after
/// the returned revision.
fn with_history() -> (ApiServer, kube::Client, u64) {
    let server = ApiServer::new(&scenario(), Recorder::start());
    let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
    let from = server.revision();
    for n in 0..EVENTS {
        server.write(&update(n));
    }
    (server, client, from)
}

/// The body of a watch from `from`, as raw bytes.
async fn raw_watch(client: &kube::Client, from: u64) -> kube::client::Body {
    let request = http::Request::get(format!(
        "/api/v1/configmaps?watch=true&resourceVersion={from}&timeoutSeconds=3600"
    ))
    .body(kube::client::Body::empty())
    .expect("a request");
    client
        .send(request)
        .await
        .expect("the watch starts")
        .into_body()
}

/// The serving path alone: a watch resumed from before `EVENTS` changes already in history.
async fn from_history() -> Duration {
    let (_server, client, from) = with_history();
    let api: Api<ConfigMap> = Api::all(client);
    let started = Instant::now();
    let seen = count_modified(&api, from).await;
    let elapsed = started.elapsed();
    assert_eq!(seen, EVENTS, "every event arrives");
    elapsed
}

/// The server alone: the same watch as [`from_history`], its bytes only counted, not decoded.
/// What the serving path and the HTTP/1.1 transport cost without kube-rs' decoding.
async fn raw_from_history() -> Duration {
    let (_server, client, from) = with_history();
    let started = Instant::now();
    let mut body = raw_watch(&client, from).await;
    let mut lines = 0;
    while lines < EVENTS {
        let frame = body.frame().await.expect("more frames").expect("a frame");
        if let Ok(data) = frame.into_data() {
            lines += data.iter().filter(|b| **b == b'\n').count() as u64;
        }
    }
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
    let mut body = raw_watch(&client, from).await;
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

/// The server on a thread of its own, as `harness serve` runs it and as a kube-apiserver is a
/// process of its own: the changes are already in history, and the watch comes over loopback
/// TCP into the bench thread's kube-rs watch. The two sides work at once, so this says which of
/// them limits the rate.
fn on_its_own_thread() -> Duration {
    let (started, stop) = on_a_thread(|ready| async move {
        let live = LiveServer::start(&scenario(), &LiveOptions::default())
            .await
            .expect("the server binds loopback");
        let config = live.kube_config().await.expect("a kube config");
        ready
            .send((live.server().clone(), config))
            .expect("the bench waits for the server");
        futures::future::pending::<()>().await;
    });
    let (server, config) = started;
    let from = server.revision();
    for n in 0..EVENTS {
        server.write(&update(n));
    }
    let elapsed = tcp_watch(&config, from);
    stop.end();
    elapsed
}

/// The ceiling over the same transport: `bytes`, in chunks of the server's size, from a stub
/// HTTP/1.1 server on a thread of its own over loopback TCP, into the same kube-rs watch. What
/// kube's client stack costs on top of decoding, whatever the server.
fn stub_on_its_own_thread(bytes: Bytes) -> Duration {
    let (addr, stop) = on_a_thread(move |ready| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the stub binds loopback");
        ready
            .send(listener.local_addr().expect("a bound address"))
            .expect("the bench waits for the stub");
        let (stream, _) = listener.accept().await.expect("the watch connects");
        let service = hyper::service::service_fn(move |_request| {
            let frames: Vec<Result<Frame<Bytes>, Infallible>> = bytes
                .chunks(CHUNK)
                .map(|chunk| Ok(Frame::data(bytes.slice_ref(chunk))))
                .collect();
            // Then nothing, as an open watch with nothing more to say.
            let body =
                StreamBody::new(futures::stream::iter(frames).chain(futures::stream::pending()));
            async move { Ok::<_, Infallible>(http::Response::new(body)) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
    let config = kube::Config::new(format!("http://{addr}").parse().expect("a URL"));
    let elapsed = tcp_watch(&config, 1);
    stop.end();
    elapsed
}

/// A server running on a thread and runtime of its own until [`Stop::end`].
struct Stop {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Stop {
    fn end(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("the server thread ends");
    }
}

/// Starts `serve` on a thread with a runtime of its own, and returns what it sends on `ready`
/// once it has.
fn on_a_thread<R, F>(
    serve: impl FnOnce(std::sync::mpsc::Sender<R>) -> F + Send + 'static,
) -> (R, Stop)
where
    R: Send + 'static,
    F: Future<Output = ()>,
{
    let (ready, started) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the server")
            .block_on(async move {
                tokio::select! {
                    () = serve(ready) => {}
                    _ = stopped => {}
                }
            });
    });
    let value = started.recv().expect("the server starts");
    (value, Stop { stop, thread })
}

/// Times a kube-rs watch from `from` of `EVENTS` MODIFIED events over TCP to `config`'s server.
fn tcp_watch(config: &kube::Config, from: u64) -> Duration {
    isolated(async {
        let client = transport::tcp_client(config, 0, 1).expect("a client");
        let api: Api<ConfigMap> = Api::all(client);
        let started = Instant::now();
        let seen = count_modified(&api, from).await;
        let elapsed = started.elapsed();
        assert_eq!(seen, EVENTS, "every event arrives");
        elapsed
    })
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

/// Runs `run` in a runtime of its own, dropped once it is done: what one run leaves behind (its
/// connections, its server) is torn down outside the timed part of the next.
fn isolated<T>(run: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run)
}

fn bench(c: &mut Criterion) {
    let (_, bytes) = isolated(through_the_server());
    eprintln!(
        "\n{EVENTS} events, {} bytes ({} per event)",
        bytes.len(),
        bytes.len() / usize::try_from(EVENTS).unwrap_or(1)
    );
    c.bench_function("ceiling: the watch decoder, same bytes from memory", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| isolated(from_memory(bytes.clone())))
                .sum::<Duration>()
        });
    });
    c.bench_function("server: history into a kube-rs watch", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| isolated(from_history()))
                .sum::<Duration>()
        });
    });
    c.bench_function(
        "server on its own thread: history into a kube-rs watch over loopback TCP",
        |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| on_its_own_thread())
                    .sum::<Duration>()
            });
        },
    );
    c.bench_function(
        "stub HTTP server on its own thread: the same bytes over loopback TCP",
        |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| stub_on_its_own_thread(bytes.clone()))
                    .sum::<Duration>()
            });
        },
    );
    c.bench_function("server alone: history drained, not decoded", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| isolated(raw_from_history()))
                .sum::<Duration>()
        });
    });
    c.bench_function("server: writes into a kube-rs watch", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| isolated(through_the_server()).0)
                .sum::<Duration>()
        });
    });
    // The summary: runs of each, interleaved so that drift on a noisy machine hits all alike,
    // and their medians.
    let runs = 21;
    let mut times: [Vec<Duration>; 6] = Default::default();
    for _ in 0..runs {
        times[0].push(isolated(from_memory(bytes.clone())));
        times[1].push(isolated(from_history()));
        times[2].push(isolated(through_the_server()).0);
        times[3].push(on_its_own_thread());
        times[4].push(isolated(raw_from_history()));
        times[5].push(stub_on_its_own_thread(bytes.clone()));
    }
    let [ceiling, history, writes, own_thread, alone, stub] = times.map(|mut t| {
        t.sort();
        EVENTS as f64 / t[t.len() / 2].as_secs_f64()
    });
    eprintln!(
        "\nmedians of {runs} interleaved runs:\n\
         ceiling (the decoder, bytes from memory): {ceiling:.0} events/s\n\
         one thread (simulated mode), from history: {history:.0} events/s = {:.2}x the ceiling\n\
         one thread (simulated mode), with the writes: {writes:.0} events/s = {:.2}x\n\
         server on its own thread, loopback TCP, from history: {own_thread:.0} events/s = {:.2}x\n\
         a stub HTTP server on its own thread, loopback TCP, the same bytes: {stub:.0} events/s = {:.2}x\n\
         the server alone (from history, bytes counted, not decoded): {alone:.0} events/s = {:.2}x",
        history / ceiling,
        writes / ceiling,
        own_thread / ceiling,
        stub / ceiling,
        alone / ceiling,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
