//! Recovery latency over real loopback TCP: from an injected fault to the watcher's view
//! holding the write made right after it, for kube-rs' `watcher` with no backoff (so the
//! figure is the harness plus kube, not a sleep). Floor: one bare LIST of the same objects
//! through the same kube `Client`, measured in the same run. A fault the watcher does not
//! recover from within `PATIENCE` is reported as such, never timed. The 503 is timed twice:
//! with kube's client retry, which waits 5-15 ms by itself, and with it off, where nothing
//! waits at all.
//!
//! Run with `cargo bench --bench live`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;
use kube_watch_harness::fault::{Cut, ErrorBody, Fault, GoneForm, GoneMessage, Target, TargetVerb};
use kube_watch_harness::live::{LiveOptions, LiveServer};
use kube_watch_harness::scenario::{Scenario, Write};
use kube_watch_harness::transport;
use tokio::sync::mpsc;

const OBJECTS: usize = 50;
const PATIENCE: Duration = Duration::from_secs(5);

fn scenario() -> Scenario {
    let objects: Vec<String> = (0..OBJECTS)
        .map(|i| format!("{{ name: cm-{i} }}"))
        .collect();
    Scenario::from_yaml(&format!(
        "duration: 24h\nresource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{}] }}\nwatchers: [{{ name: w }}]\nexpect: {{ deadline: 1m, recover: [w] }}\n",
        objects.join(", ")
    ))
    .expect("the bench scenario is valid")
}

fn watch_only(verbs: &[TargetVerb], count: Option<u64>) -> Target {
    Target {
        verbs: verbs.to_vec(),
        count,
        ..Target::default()
    }
}

/// Whether kube's client retries 429/503/504 itself (its default), after a delay of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientRetry {
    On,
    Off,
}

fn rewatch_503() -> Vec<Fault> {
    vec![
        Fault::HttpError {
            status: 503,
            body: ErrorBody::Status,
            retry_after: None,
            target: watch_only(&[TargetVerb::Watch], Some(1)),
        },
        Fault::CutStream {
            how: Cut::Reset,
            target: Target::default(),
        },
    ]
}

/// The faults timed, each with the write that follows it.
fn faults() -> Vec<(&'static str, Vec<Fault>, ClientRetry)> {
    vec![
        (
            "410 mid-watch (ERROR event)",
            vec![Fault::ExpireWatches],
            ClientRetry::On,
        ),
        (
            "cut stream (reset)",
            vec![Fault::CutStream {
                how: Cut::Reset,
                target: Target::default(),
            }],
            ClientRetry::On,
        ),
        (
            "503 on the re-watch (kube's client retry, its 5-15 ms delay)",
            rewatch_503(),
            ClientRetry::On,
        ),
        (
            "503 on the re-watch (client retry off: no delay anywhere)",
            rewatch_503(),
            ClientRetry::Off,
        ),
        (
            "HTTP 410 at connect",
            vec![
                Fault::Watch410 {
                    form: GoneForm::Http,
                    message: Some(GoneMessage::Cache),
                    code: true,
                    target: watch_only(&[TargetVerb::Watch], None),
                },
                Fault::CutStream {
                    how: Cut::Reset,
                    target: Target::default(),
                },
            ],
            ClientRetry::On,
        ),
    ]
}

struct World {
    live: LiveServer,
    client: kube::Client,
    /// resourceVersions of the objects the watcher applied.
    applied: mpsc::UnboundedReceiver<String>,
}

async fn world(retry: ClientRetry) -> World {
    let live = LiveServer::start(&scenario(), &LiveOptions::default())
        .await
        .expect("binds loopback");
    let mut config = live.kube_config().await.expect("a config");
    config.default_retry = retry == ClientRetry::On;
    let client = transport::tcp_client(&config, 0, 1).expect("a client");
    let api: Api<ConfigMap> = Api::all(client.clone());
    let (tx, applied) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = watcher(api, watcher::Config::default()).boxed();
        while let Some(item) = stream.next().await {
            if let Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) = item {
                let _ = tx.send(o.resource_version().unwrap_or_default());
            }
        }
    });
    let mut world = World {
        live,
        client,
        applied,
    };
    // Synced: every object applied once before anything is timed.
    for _ in 0..OBJECTS {
        world.applied.recv().await.expect("the watcher lists");
    }
    world
}

/// Injects `faults`, writes, and returns how long until the watcher applied the write.
async fn recovery(world: &mut World, faults: &[Fault], n: u64) -> Option<Duration> {
    while world.applied.try_recv().is_ok() {}
    let started = Instant::now();
    for fault in faults {
        world.live.server().inject(fault);
    }
    world.live.server().write(&Write::Update {
        name: format!("cm-{}", n % OBJECTS as u64),
        namespace: Some("default".into()),
        labels: None,
        body: [("data".into(), serde_json::json!({ "n": n.to_string() }))].into(),
    });
    let want = world.live.server().revision().to_string();
    tokio::time::timeout(PATIENCE, async {
        while let Some(rv) = world.applied.recv().await {
            if rv == want {
                return;
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let floor_world = runtime.block_on(world(ClientRetry::On));
    let api: Api<ConfigMap> = Api::all(floor_world.client.clone());
    c.bench_function("floor: one LIST of the same objects, same client", |b| {
        b.iter(|| {
            runtime
                .block_on(api.list(&ListParams::default()))
                .expect("the LIST succeeds")
        });
    });
    let floor = {
        let started = Instant::now();
        for _ in 0..200 {
            runtime
                .block_on(api.list(&ListParams::default()))
                .expect("the LIST succeeds");
        }
        started.elapsed() / 200
    };
    eprintln!("\nfloor: one LIST of {OBJECTS} objects: {floor:?}");
    for (name, faults, retry) in faults() {
        let mut world = runtime.block_on(world(retry));
        let probe = runtime.block_on(recovery(&mut world, &faults, 0));
        let Some(first) = probe else {
            eprintln!("{name}: does not recover within {PATIENCE:?} (not timed)");
            continue;
        };
        let mut n = 1;
        c.bench_function(&format!("recovery: {name}"), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    n += 1;
                    total += runtime
                        .block_on(recovery(&mut world, &faults, n))
                        .unwrap_or(PATIENCE);
                }
                total
            });
        });
        let mut samples: Vec<Duration> = (0..50)
            .filter_map(|i| runtime.block_on(recovery(&mut world, &faults, 1000 + i)))
            .collect();
        samples.sort();
        let median = samples[samples.len() / 2];
        eprintln!(
            "{name}: first {first:?}; of {} more: min {:?}, median {median:?} = {:.2}x the floor, max {:?}",
            samples.len(),
            samples[0],
            median.as_secs_f64() / floor.as_secs_f64(),
            samples[samples.len() - 1],
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
