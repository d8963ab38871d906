//! Simulated-mode speed: the wall time of a whole built-in scenario in virtual time, beside a
//! floor measured in the same run — one bare LIST round trip through the same in-memory kube
//! client stack (fresh paused runtime, server and client, as every set-up gets).
//!
//! Run with `cargo bench --bench simulated`. After criterion's own figures it prints the
//! ratio of each scenario to the floor and its virtual seconds per wall second.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kube_watch_harness::apiserver::ApiServer;
use kube_watch_harness::run::{RunOptions, run};
use kube_watch_harness::scenario::{self, Scenario};
use kube_watch_harness::trace::Recorder;
use kube_watch_harness::transport;

const SCENARIOS: [&str; 3] = ["idle-expire", "forced-410", "dropped-bookmarks"];

fn load(name: &str) -> Scenario {
    scenario::load(format!(
        "{}/scenarios/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("built-in scenarios load")
}

/// One LIST through a fresh world: the least a set-up's run can cost.
fn bare_list(scenario: &Scenario) {
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

fn per_run(iterations: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed() / iterations
}

fn bench(c: &mut Criterion) {
    let idle = load("idle-expire");
    c.bench_function("floor: one bare LIST in a fresh world", |b| {
        b.iter(|| bare_list(&idle))
    });
    for name in SCENARIOS {
        let scenario = load(name);
        let options = RunOptions::default();
        c.bench_function(&format!("scenario: {name} (all set-ups)"), |b| {
            b.iter(|| black_box(run(&scenario, &options).expect("the scenario runs")));
        });
    }

    // Ratios against the floor, measured back to back in this run (machines here are noisy).
    let floor = per_run(200, || bare_list(&idle));
    eprintln!("\nfloor (bare LIST, fresh world): {floor:?}");
    for name in SCENARIOS {
        let scenario = load(name);
        let options = RunOptions::default();
        let wall = per_run(20, || {
            black_box(run(&scenario, &options).expect("the scenario runs"));
        });
        let setups = scenario.watchers.len() as u32;
        let virtual_seconds = scenario.duration.as_secs_f64() * f64::from(setups);
        eprintln!(
            "{name}: {wall:?} for {setups} set-ups x {}s virtual = {:.0}x the floor, {:.0} virtual s per wall s",
            scenario.duration.as_secs(),
            wall.as_secs_f64() / floor.as_secs_f64(),
            virtual_seconds / wall.as_secs_f64(),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
