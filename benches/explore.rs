//! `harness explore`'s speed: timelines run per second on this machine's cores, for a
//! 15-minute scenario with one set-up (`rbac-revoked`, `defaults` alone), beside the floor of
//! one bare LIST in a fresh world measured in the same run; the same with every finding
//! shrunk; and what a request storm costs now that a burst stops it (1,000 lists and watches
//! within a second of virtual time) instead of the 10,000-request cap.
//!
//! Run with `cargo bench --bench explore`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kube_watch_harness::explore::{Budget, ExploreOptions, explore};
use kube_watch_harness::run::{RunOptions, run};
use kube_watch_harness::scenario::{self, Document};

#[path = "common/floor.rs"]
mod floor;
use floor::{bare_list, per_run};

fn built_in(name: &str) -> String {
    format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"))
}

fn options(document: &Document, runs: usize) -> ExploreOptions {
    let scenario = document.scenario().expect("the document is valid");
    let budget = Budget::default_for(scenario.duration, scenario.expect.deadline)
        .expect("the default budget fits");
    ExploreOptions::new(runs, 1, budget).jobs(2).quiet()
}

fn bench(c: &mut Criterion) {
    let idle = scenario::load(built_in("idle-expire")).expect("built in");
    let one = Document::load(built_in("rbac-revoked"))
        .expect("built in")
        .only("defaults", None);
    c.bench_function("explore: 100 timelines, one set-up, no shrinking", |b| {
        let options = options(&one, 100).without_shrinking();
        b.iter(|| black_box(explore(&one, &options).expect("exploring runs")));
    });

    let floor = per_run(50, || bare_list(&idle));
    eprintln!("\nfloor (bare LIST, fresh world): {floor:?}");
    for (what, shrink) in [
        ("without shrinking", false),
        ("with every finding shrunk", true),
    ] {
        let mut options = options(&one, 1_000);
        if !shrink {
            options = options.without_shrinking();
        }
        let started = Instant::now();
        let exploration = explore(&one, &options).expect("exploring runs");
        let wall = started.elapsed();
        let per = wall / 1_000;
        eprintln!(
            "1,000 timelines of rbac-revoked/defaults (15m), 2 jobs, {what}: {wall:?} = {:.0} timelines/s; {per:?} a timeline = {:.1}x the floor; {} findings",
            1_000.0 / wall.as_secs_f64(),
            per.as_secs_f64() / floor.as_secs_f64(),
            exploration.findings.len()
        );
    }

    let mut storm = scenario::load(built_in("rbac-revoked")).expect("built in");
    storm
        .only("no-backoff")
        .expect("rbac-revoked has no-backoff");
    let runs = 20;
    let started = Instant::now();
    let mut requests = 0;
    for _ in 0..runs {
        let report = run(&storm, &RunOptions::default()).expect("the scenario runs");
        requests = report.outcomes[0].verdict.figures.requests;
    }
    let wall = started.elapsed() / runs;
    eprintln!(
        "a storm (rbac-revoked/no-backoff): stopped after {requests} requests in {wall:?} = {:.0}x the floor",
        wall.as_secs_f64() / floor.as_secs_f64()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
