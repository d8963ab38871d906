//! Scale, in two shapes, each with wall time and peak memory (the high-water mark of a process
//! that measures that shape alone):
//! - one kube-rs watcher (page size 500) over 10,000 and 100,000 objects: initial sync, then a
//!   410 and the full relist it forces;
//! - 100 and 1,000 concurrent watchers over 1,000 objects while the workload writes; and the
//!   per-write server cost with 0, 100 and 1,000 idle watchers (selecting nothing).
//!
//! Simulated mode (paused clock, in-memory transport). Run with `cargo bench --bench scale`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::runtime::watcher;
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::fault::{Fault, GoneForm, Target};
use kube_watch_harness::scenario::{ObjectSpec, Scenario, Write};
use kube_watch_harness::trace::{Recorder, TraceKind, Verb};
use kube_watch_harness::transport;

fn empty() -> Scenario {
    Scenario::from_yaml(
        "duration: 24h\nresource: { version: v1, kind: ConfigMap, plural: configmaps }\nwatchers: [{ name: w }]\nexpect: { deadline: 1m, recover: [w] }\n",
    )
    .expect("the bench scenario is valid")
}

fn object(i: usize) -> Write {
    Write::Create(ObjectSpec {
        name: format!("cm-{i:06}"),
        namespace: Some(format!("ns-{}", i % 10)),
        labels: [("app".into(), "bench".into())].into(),
        body: std::sync::Arc::new(
            [("data".into(), serde_json::json!({ "i": i.to_string() }))].into(),
        ),
    })
}

/// Peak resident memory since the last reset, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn reset_peak() {
    // "5" resets the peak RSS (proc(5), /proc/pid/clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// One watcher over `n` objects: (initial sync, 410 + relist).
fn one_watcher(n: usize) -> (Duration, Duration) {
    paused().block_on(async {
        let server = ApiServer::new(&empty(), Recorder::start());
        for i in 0..n {
            server.write(&object(i));
        }
        let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
        let api: Api<ConfigMap> = Api::all(client);
        let config = watcher::Config::default().page_size(500);
        let mut stream = watcher(api, config).boxed();
        let until_synced = async |stream: &mut futures::stream::BoxStream<'_, _>| {
            let mut applied = 0;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(watcher::Event::InitApply(_)) => applied += 1,
                    Ok(watcher::Event::InitDone) => return applied,
                    _ => {}
                }
            }
            applied
        };
        let started = Instant::now();
        assert_eq!(
            until_synced(&mut stream).await,
            n,
            "the initial sync lists every object"
        );
        let sync = started.elapsed();
        // The watcher has not started its watch yet (the stream is not polled): the next watch
        // start gets the 410, as a resume from a compacted revision would.
        server.inject(&Fault::Watch410 {
            form: GoneForm::Event,
            message: None,
            code: true,
            target: Target {
                count: Some(1),
                ..Target::default()
            },
        });
        let started = Instant::now();
        assert_eq!(
            until_synced(&mut stream).await,
            n,
            "the relist lists every object"
        );
        (sync, started.elapsed())
    })
}

/// `watchers` watchers over 1,000 objects while 100 writes land: wall time from the first
/// write until every watcher has seen the last.
fn many_watchers(watchers: usize) -> Duration {
    paused().block_on(async {
        let server = ApiServer::new(&empty(), Recorder::start());
        for i in 0..1000 {
            server.write(&object(i));
        }
        let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
        let api: Api<ConfigMap> = Api::all(client);
        let (synced, mut synced_rx) = tokio::sync::mpsc::unbounded_channel();
        let (done, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..watchers {
            let (api, synced, done) = (api.clone(), synced.clone(), done.clone());
            tokio::spawn(async move {
                let mut stream = watcher(api, watcher::Config::default()).boxed();
                let mut updates = 0;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(watcher::Event::InitDone) => {
                            let _ = synced.send(());
                        }
                        Ok(watcher::Event::Apply(_)) => {
                            updates += 1;
                            if updates == 100 {
                                let _ = done.send(());
                            }
                        }
                        _ => {}
                    }
                }
            });
        }
        for _ in 0..watchers {
            synced_rx.recv().await.expect("every watcher syncs");
        }
        let started = Instant::now();
        for i in 0..100 {
            server.write(&Write::Update {
                name: format!("cm-{i:06}"),
                namespace: Some(format!("ns-{}", i % 10)),
                labels: None,
                body: [("data".into(), serde_json::json!({ "u": "1" }))].into(),
            });
            tokio::task::yield_now().await;
        }
        for _ in 0..watchers {
            done_rx
                .recv()
                .await
                .expect("every watcher sees every write");
        }
        started.elapsed()
    })
}

/// The cost per write with `idle` watchers open that select none of the written objects.
fn per_write_with_idle(idle: usize) -> Duration {
    paused().block_on(async {
        let server = ApiServer::new(&empty(), Recorder::start());
        server.write(&object(0));
        let client = transport::client(server.clone(), &transport::config(), 0).expect("a client");
        let api: Api<ConfigMap> = Api::all(client);
        let (synced, mut synced_rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..idle {
            let (api, synced) = (api.clone(), synced.clone());
            tokio::spawn(async move {
                let config = watcher::Config::default().labels("app=nothing");
                let mut stream = watcher(api, config).boxed();
                while let Some(item) = stream.next().await {
                    if matches!(item, Ok(watcher::Event::InitDone)) {
                        let _ = synced.send(());
                    }
                }
            });
        }
        for _ in 0..idle {
            synced_rx.recv().await.expect("every idle watcher syncs");
        }
        // A watcher reports its sync before it sends its watch: wait until the server has
        // answered every watch request, so the measurement holds only writes to open watches.
        let open_watches = || {
            server
                .recorder()
                .snapshot()
                .iter()
                .filter(|e| matches!(&e.kind, TraceKind::Request(r) if r.verb == Verb::Watch))
                .count()
        };
        let mut turns = 0_u32;
        while open_watches() < idle {
            turns += 1;
            assert!(turns < 1_000_000, "the idle watches open");
            tokio::task::yield_now().await;
        }
        let writes = 10_000_u32;
        let started = Instant::now();
        for i in 0..writes {
            server.write(&Write::Update {
                name: "cm-000000".into(),
                namespace: Some("ns-0".into()),
                labels: None,
                body: [("data".into(), serde_json::json!({ "u": i.to_string() }))].into(),
            });
            // Let every woken watcher run, as the real dispatcher would.
            tokio::task::yield_now().await;
        }
        started.elapsed() / writes
    })
}

/// Set in a child process: the one shape it measures.
const SHAPE: &str = "SCALE_BENCH_SHAPE";

/// Measures one shape and returns its table row.
fn shape_row(shape: &str) -> String {
    reset_peak();
    let (size, wall) = match shape.split_once(':') {
        Some(("objects", n)) => {
            let n = n.parse().expect("a count");
            let (sync, relist) = one_watcher(n);
            (
                format!("{n} objects"),
                format!("sync {sync:?}, 410 + relist {relist:?}"),
            )
        }
        Some(("watchers", n)) => {
            let n = n.parse().expect("a count");
            (format!("{n} watchers"), format!("{:?}", many_watchers(n)))
        }
        _ => panic!("unknown shape {shape}"),
    };
    let what = if shape.starts_with("objects") {
        "one watcher (page 500)"
    } else {
        "watchers over 1,000 objects, 100 writes"
    };
    format!("{what} | {size} | {wall} | {:.0} MiB", peak_mib())
}

/// Runs `shape` in a process of its own (this bench again, with [`SHAPE`] set), so that its
/// peak memory is its own and not what an earlier shape left on the heap.
fn in_own_process(shape: &str) -> String {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let output = std::process::Command::new(exe)
        .args(["--bench", "no bench matches this"])
        .env(SHAPE, shape)
        .output()
        .expect("the bench runs itself");
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("row: "))
        .map_or_else(|| format!("{shape}: failed: {stderr}"), str::to_owned)
}

fn bench(c: &mut Criterion) {
    if let Ok(shape) = std::env::var(SHAPE) {
        eprintln!("row: {}", shape_row(&shape));
        return;
    }
    c.bench_function("one watcher, 10,000 objects: sync, 410, relist", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| {
                    let (sync, relist) = one_watcher(10_000);
                    sync + relist
                })
                .sum::<Duration>()
        });
    });
    eprintln!("\nshape | size | wall | peak memory (each in a process of its own)");
    for shape in [
        "objects:10000",
        "objects:100000",
        "watchers:100",
        "watchers:1000",
    ] {
        eprintln!("{}", in_own_process(shape));
    }
    // Medians of rounds interleaved across the sizes: single runs here vary by 2x.
    let sizes = [0, 100, 1000];
    let mut rounds: [Vec<Duration>; 3] = Default::default();
    for _ in 0..5 {
        for (times, idle) in rounds.iter_mut().zip(sizes) {
            times.push(per_write_with_idle(idle));
        }
    }
    for (mut times, idle) in rounds.into_iter().zip(sizes) {
        times.sort();
        eprintln!(
            "per write, idle watchers open | {idle} idle | median {:?} of {} | -",
            times[times.len() / 2],
            times.len()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
