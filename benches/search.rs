//! Issue 25's measurement: distinct mechanisms found against runs, uniform search (the search
//! before issue 25) against guided, on the generic matrix (`tests/explore/generic-matrix.yaml`:
//! a 15-minute ConfigMap workload, four set-ups). The first `n` runs of a seed are the same
//! whatever the number asked for, so one exploration per search (no shrinking) gives every row.
//!
//! Prints a table of distinct mechanisms (unknown failures, one per set-up × failing check,
//! counted apart) after each number of runs, and whether the acceptance holds: guided in 1,000
//! finds at least as many mechanisms as uniform in 5,000, and every mechanism uniform finds in
//! 20,000 shows up in guided within 5,000; then, for each mechanism, the first run (the
//! timeline's 0-based number) in which each search found it, which explains the counts. Takes
//! about six minutes (uniform's 20,000 runs are four of them); `KWH_SEARCH_SCALE=10` divides every
//! number of runs by ten for a quick look.
//!
//! Run with `cargo bench --bench search`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use kube_watch_harness::explore::{Budget, ExploreOptions, Failure, Search, explore};
use kube_watch_harness::mechanism::Mechanism;
use kube_watch_harness::scenario::Document;

// The harness binary's allocator (Cargo.toml says why): these figures are the binary's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The rows: runs, and which searches are surveyed that far.
const ROWS: [usize; 3] = [1_000, 5_000, 20_000];

fn main() {
    let scale: usize = std::env::var("KWH_SEARCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/explore/generic-matrix.yaml"
    );
    let document = Document::load(path).expect("the generic matrix loads");
    let scenario = document.scenario().expect("the generic matrix is valid");
    let surveyed = |search: Search, runs: usize, seed: u64| {
        let mut budget = Budget::default_for(scenario.duration, scenario.expect.deadline)
            .expect("the default budget fits");
        budget.search = search;
        let options = ExploreOptions::new(runs, seed, budget)
            .jobs(2)
            .quiet()
            .without_shrinking();
        let started = Instant::now();
        // Each finding is the first timeline that showed it: the first `n` of a seed's
        // timelines are the same whatever the count asked for, so one exploration gives every
        // row (and holds only its findings, never the runs).
        let found: Vec<(Failure, usize)> = explore(&document, &options)
            .expect("exploring runs")
            .findings
            .into_iter()
            .map(|f| (f.failure, f.first_run))
            .collect();
        eprintln!(
            "{search:?}: {runs} runs (seed {seed}) in {:?}",
            started.elapsed()
        );
        found
    };
    let uniform = surveyed(Search::Uniform, ROWS[2] / scale, 3);
    let guided = surveyed(Search::Guided, ROWS[1] / scale, 3);
    let within = |found: &[(Failure, usize)], runs: usize| -> (BTreeSet<Mechanism>, usize) {
        let failures = found.iter().filter(|(_, i)| *i < runs).map(|(f, _)| f);
        let known = failures
            .clone()
            .map(|f| f.mechanism)
            .filter(|m| *m != Mechanism::Unknown)
            .collect();
        let unknown = failures
            .filter(|f| f.mechanism == Mechanism::Unknown)
            .count();
        (known, unknown)
    };
    eprintln!("\n| runs | uniform: mechanisms (+ unknown) | guided: mechanisms (+ unknown) |");
    eprintln!("|---|---|---|");
    for runs in ROWS.map(|r| r / scale) {
        let cell = |found: &[(Failure, usize)], surveyed: usize| {
            if runs > surveyed {
                return "-".to_owned();
            }
            let (known, unknown) = within(found, runs);
            format!("{} (+ {unknown})", known.len())
        };
        eprintln!(
            "| {runs} | {} | {} |",
            cell(&uniform, ROWS[2] / scale),
            cell(&guided, ROWS[1] / scale)
        );
    }
    first_runs(&uniform, &guided);
    let name =
        |set: &BTreeSet<Mechanism>| set.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ");
    let (uniform_all, _) = within(&uniform, ROWS[2] / scale);
    let (guided_5k, _) = within(&guided, ROWS[1] / scale);
    let (guided_1k, _) = within(&guided, ROWS[0] / scale);
    let (uniform_5k, _) = within(&uniform, ROWS[1] / scale);
    eprintln!("\nuniform in {}: {}", ROWS[2] / scale, name(&uniform_all));
    eprintln!("guided in {}: {}", ROWS[1] / scale, name(&guided_5k));
    let missed: BTreeSet<Mechanism> = uniform_all.difference(&guided_5k).copied().collect();
    eprintln!(
        "acceptance: guided in {} ({}) >= uniform in {} ({}): {}; uniform's {} within guided's {}: {}",
        ROWS[0] / scale,
        guided_1k.len(),
        ROWS[1] / scale,
        uniform_5k.len(),
        guided_1k.len() >= uniform_5k.len(),
        ROWS[2] / scale,
        ROWS[1] / scale,
        if missed.is_empty() {
            "yes".to_owned()
        } else {
            format!("no, missing {}", name(&missed))
        }
    );
}

/// For each known mechanism either search found, the first run in which each found it.
fn first_runs(uniform: &[(Failure, usize)], guided: &[(Failure, usize)]) {
    let first = |found: &[(Failure, usize)]| -> BTreeMap<Mechanism, usize> {
        let mut first = BTreeMap::new();
        for (failure, i) in found {
            if failure.mechanism != Mechanism::Unknown {
                let at: &mut usize = first.entry(failure.mechanism).or_insert(*i);
                *at = (*at).min(*i);
            }
        }
        first
    };
    let (uniform, guided) = (first(uniform), first(guided));
    let mechanisms: BTreeSet<Mechanism> = uniform.keys().chain(guided.keys()).copied().collect();
    let cell = |found: &BTreeMap<Mechanism, usize>, m| {
        found
            .get(m)
            .map_or_else(|| "-".to_owned(), ToString::to_string)
    };
    eprintln!("\n| mechanism | uniform: first run | guided: first run |");
    eprintln!("|---|---|---|");
    for m in &mechanisms {
        eprintln!(
            "| {} | {} | {} |",
            m.name(),
            cell(&uniform, m),
            cell(&guided, m)
        );
    }
}
