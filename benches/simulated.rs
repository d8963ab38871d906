//! Simulated-mode speed: the wall time of every built-in scenario (all its set-ups, as
//! `harness run` runs them) beside a floor measured in the same run — one bare LIST round trip
//! through the same in-memory kube client stack (fresh paused runtime, server and client, as
//! every set-up gets) — and the whole catalogue's wall time, one scenario after the other and as
//! `harness run scenarios/` runs it (one pool of set-ups, a job per core). Also prints each scenario's
//! recovery latency in virtual time for its `defaults` set-up.
//!
//! Run with `cargo bench --bench simulated`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kube_watch_harness::run::{RunOptions, run, run_all};
use kube_watch_harness::scenario::{self, Scenario};

// The harness binary's allocator (Cargo.toml says why): these figures are the binary's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "common/floor.rs"]
mod floor;
use floor::{bare_list, per_run};

fn catalogue() -> Vec<Scenario> {
    let mut paths: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .expect("the catalogue is there")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| scenario::load(p).expect("built-in scenarios load"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let scenarios = catalogue();
    let idle = scenarios
        .iter()
        .find(|s| s.name == "idle-expire")
        .expect("idle-expire is built in");
    c.bench_function("floor: one bare LIST in a fresh world", |b| {
        b.iter(|| bare_list(idle));
    });
    for name in ["idle-expire", "forced-410", "dropped-bookmarks"] {
        let scenario = scenarios.iter().find(|s| s.name == name).expect("built in");
        let options = RunOptions::default();
        c.bench_function(&format!("scenario: {name} (all set-ups)"), |b| {
            b.iter(|| black_box(run(scenario, &options).expect("the scenario runs")));
        });
    }

    // Ratios against the floor, measured back to back in this run (machines here are noisy).
    let floor = per_run(50, || bare_list(idle));
    eprintln!("\nfloor (bare LIST, fresh world): {floor:?}");
    eprintln!(
        "scenario | set-ups | wall | vs floor | virtual s per wall s | defaults' recovery (virtual)"
    );
    let options = RunOptions::default();
    let mut catalogue_wall = Duration::ZERO;
    for scenario in &scenarios {
        let report = run(scenario, &options).expect("the scenario runs");
        let wall = per_run(1, || {
            black_box(run(scenario, &options).expect("the scenario runs"));
        });
        catalogue_wall += wall;
        let setups = scenario.watchers.len() as u32;
        let virtual_seconds = scenario.duration.as_secs_f64() * f64::from(setups);
        let recovery = report
            .outcomes
            .iter()
            .find(|o| o.setup == "defaults")
            .map_or("no defaults set-up".to_owned(), |o| {
                match (o.verdict.recovered, o.verdict.figures.recovery_latency) {
                    (true, Some(latency)) => scenario::format_duration(latency),
                    (true, None) => "undisrupted".to_owned(),
                    (false, _) => "does not recover".to_owned(),
                }
            });
        eprintln!(
            "{} | {setups} | {wall:?} | {:.0}x | {:.0} | {recovery}",
            scenario.name,
            wall.as_secs_f64() / floor.as_secs_f64(),
            virtual_seconds / wall.as_secs_f64(),
        );
    }
    let started = Instant::now();
    for scenario in &scenarios {
        black_box(run(scenario, &options).expect("the scenario runs"));
    }
    let one_by_one = started.elapsed();
    eprintln!(
        "whole catalogue ({} scenarios), one scenario after the other: {one_by_one:?} (medians summed above: {catalogue_wall:?})",
        scenarios.len(),
    );
    // As `harness run scenarios/` runs it: every set-up of every scenario in one pool, a job
    // per core. The median of nine passes: one moves with whatever else the machine does.
    let jobs = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let whole = per_run(1, || {
        black_box(run_all(&scenarios, &options, jobs, |_, _| {}).expect("the catalogue runs"));
    });
    // Issue 25's target, beside the floor of this run: wall times here move with the machine's
    // load, the ratio much less.
    eprintln!(
        "catalogue as `harness run scenarios/` runs it ({jobs} jobs): {} ms (target < 200 ms), {:.0}x the floor",
        whole.as_millis(),
        whole.as_secs_f64() / floor.as_secs_f64(),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
