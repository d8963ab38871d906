//! `harness explore` at scale: peak memory against the number of timelines run (each count in
//! a fresh process of this bench, so that each peak is its own), and how close `--for` stops to
//! its budget. Timelines of `rbac-revoked` (15 minutes, six set-ups), no shrinking, two jobs,
//! beside the floor (one bare LIST in a fresh world) measured in the same run.
//!
//! Run with `cargo bench --bench explore_scale`; `KWH_BENCH_RUNS=1000,10000` picks the counts
//! (default 1,000, 10,000 and 100,000; the last takes about ten minutes on two cores).

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use kube_watch_harness::explore::{Budget, ExploreOptions, explore};
use kube_watch_harness::scenario::{self, Document};

// The harness binary's allocator (Cargo.toml says why): these figures are the binary's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "common/floor.rs"]
mod floor;
use floor::{bare_list, per_run};

/// Set in the child process: the number of timelines to run before reporting the peak.
const CHILD: &str = "KWH_BENCH_EXPLORE_CHILD";

fn rbac_revoked() -> Document {
    Document::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/rbac-revoked.yaml"
    ))
    .expect("built in")
}

fn options(document: &Document, runs: usize) -> ExploreOptions {
    let scenario = document.scenario().expect("the document is valid");
    let budget = Budget::default_for(scenario.duration, scenario.expect.deadline)
        .expect("the default budget fits");
    ExploreOptions::new(runs, 1, budget)
        .jobs(2)
        .quiet()
        .without_shrinking()
}

/// The process's peak resident set, from `/proc/self/status` (Linux).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    if let Ok(runs) = std::env::var(CHILD) {
        let runs: usize = runs.parse().expect("a count");
        let document = rbac_revoked();
        let started = Instant::now();
        let found = explore(&document, &options(&document, runs)).expect("exploring runs");
        // The figures for the parent, on stdout (the bench's own lines go to stderr).
        let _ = writeln!(
            std::io::stdout(),
            "{} {} {} {}",
            found.runs,
            peak_rss_kb(),
            started.elapsed().as_millis(),
            found.findings.len()
        );
        return;
    }
    let counts: Vec<usize> = std::env::var("KWH_BENCH_RUNS")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("KWH_BENCH_RUNS: counts, comma separated")
        })
        .collect();
    let idle = scenario::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/idle-expire.yaml"
    ))
    .expect("built in");
    let floor = per_run(50, || bare_list(&idle));
    eprintln!("floor (bare LIST, fresh world): {floor:?}");
    eprintln!("runs | peak RSS | vs the first | wall | per timeline vs floor | findings");
    let mut first = None;
    for runs in counts {
        let output = Command::new(std::env::current_exe().expect("this bench"))
            .env(CHILD, runs.to_string())
            .output()
            .expect("the bench runs itself");
        let text = String::from_utf8_lossy(&output.stdout);
        let figures: Vec<u64> = text
            .split_whitespace()
            .map(|n| n.parse().expect("figures"))
            .collect();
        let [ran, peak, millis, findings] = figures[..] else {
            panic!(
                "the child said {text:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let first = *first.get_or_insert(peak);
        let per = Duration::from_millis(millis) / u32::try_from(ran.max(1)).unwrap_or(u32::MAX);
        eprintln!(
            "{ran} | {:.1} MB | {:.2}x | {:.1} s | {:.0}x | {findings}",
            peak as f64 / 1024.0,
            peak as f64 / first as f64,
            millis as f64 / 1000.0,
            per.as_secs_f64() / floor.as_secs_f64()
        );
    }

    let document = rbac_revoked();
    for budget in [Duration::from_secs(2), Duration::from_secs(10)] {
        let started = Instant::now();
        let found = explore(&document, &options(&document, usize::MAX).for_time(budget))
            .expect("exploring runs");
        let wall = started.elapsed();
        eprintln!(
            "--for {budget:?}: stopped after {wall:?} ({:?} past the budget), {} timelines",
            wall.saturating_sub(budget),
            found.runs
        );
    }
}
