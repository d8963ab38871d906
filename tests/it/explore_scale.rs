//! `harness explore` at scale: shards that merge into one run, a time budget that finds what
//! the same count of timelines finds, and a whole directory explored with one summary.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kube_watch_harness::explore::{Budget, Exploration, ExploreOptions, Shard, Summary, explore};
use kube_watch_harness::report;
use kube_watch_harness::scenario::Document;

fn forced_410() -> Document {
    Document::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/forced-410.yaml"
    ))
    .expect("the built-in scenario loads")
}

fn options(document: &Document, runs: usize) -> ExploreOptions {
    let scenario = document.scenario().unwrap();
    let budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
    ExploreOptions::new(runs, 7, budget).jobs(2).quiet()
}

fn json(explorations: &[Exploration]) -> String {
    let mut out = Vec::new();
    report::explore::write_json(&Summary::of(explorations, true), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn three_shards_merged_are_one_run_byte_for_byte() {
    let defaults = forced_410().only("defaults", None);
    let whole = explore(&defaults, &options(&defaults, 24)).unwrap();
    assert!(
        whole.findings.len() >= 2,
        "24 timelines find several things"
    );
    let shards: Vec<(String, Summary)> = (0..3)
        .map(|k| {
            let shard = Shard { index: k, count: 3 };
            let found = explore(&defaults, &options(&defaults, 24).shard(shard)).unwrap();
            assert_eq!(found.runs, 8, "shard {shard} runs its third");
            let text = json(&[found]);
            (format!("shard {k}"), serde_json::from_str(&text).unwrap())
        })
        .collect();
    let (merged, _) = Summary::merge(shards).unwrap();
    let mut out = Vec::new();
    report::explore::write_json(&merged, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), json(&[whole]));
}

#[test]
fn shards_that_are_not_every_share_of_one_exploration_are_refused() {
    let defaults = forced_410().only("defaults", None);
    let shard = |k| {
        let found = explore(
            &defaults,
            &options(&defaults, 6)
                .without_shrinking()
                .shard(Shard { index: k, count: 3 }),
        )
        .unwrap();
        serde_json::from_str::<Summary>(&json(&[found])).unwrap()
    };
    let error = Summary::merge(vec![("a".into(), shard(0)), ("b".into(), shard(2))])
        .unwrap_err()
        .to_string();
    assert!(error.contains("shard 1/3 is in 0 file(s)"), "{error}");
    let error = Summary::merge(vec![
        ("a".into(), shard(0)),
        ("b".into(), shard(1)),
        ("c".into(), shard(1)),
        ("d".into(), shard(2)),
    ])
    .unwrap_err()
    .to_string();
    assert!(error.contains("shard 1/3 is in 2 file(s)"), "{error}");
}

#[test]
fn a_time_budget_finds_what_the_same_count_of_timelines_finds() {
    let defaults = forced_410().only("defaults", None);
    let timed = explore(
        &defaults,
        &options(&defaults, usize::MAX)
            .without_shrinking()
            .for_time(Duration::from_millis(400)),
    )
    .unwrap();
    assert!(timed.runs > 0, "some timelines ran in 400ms");
    let counted = explore(
        &defaults,
        &options(&defaults, timed.runs).without_shrinking(),
    )
    .unwrap();
    assert_eq!(json(&[timed]), json(&[counted]));
}

#[test]
fn a_finding_in_two_scenarios_is_one_finding_that_names_both() {
    let defaults = forced_410().only("defaults", None);
    let twin = defaults.named("forced-410-twin", "The same, under another name.");
    let first = explore(&defaults, &options(&defaults, 8).without_shrinking()).unwrap();
    let second = explore(&twin, &options(&twin, 8).without_shrinking()).unwrap();
    assert!(!first.findings.is_empty());
    let summary = Summary::of(&[first.clone(), second], false);
    assert_eq!(summary.findings.len(), first.findings.len());
    for (finding, alone) in summary.findings.iter().zip(&first.findings) {
        assert_eq!(finding.scenario, "forced-410");
        assert_eq!(finding.also_in, ["forced-410-twin"]);
        assert_eq!(finding.runs, 2 * alone.runs);
    }
    assert_eq!(summary.runs, 16);
}

fn harness(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the harness runs")
}

#[test]
fn explore_merge_puts_shard_directories_together_as_one_run_wrote_them() {
    let tmp = std::env::temp_dir().join(format!("kwh-merge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/forced-410.yaml");
    let scenario = scenarios.to_str().unwrap();
    let common = ["--runs", "6", "--seed", "3", "--no-shrink", "--jobs", "1"];
    let mut explore = vec!["explore", scenario];
    explore.extend(common);
    let mut whole = explore.clone();
    whole.extend(["--out", "whole"]);
    assert_eq!(
        harness(&whole, &tmp).status.code(),
        Some(1),
        "it finds something"
    );
    for k in 0..2 {
        let (shard, out) = (format!("{k}/2"), format!("shard-{k}"));
        let mut args = explore.clone();
        args.extend(["--shard", &shard, "--out", &out]);
        harness(&args, &tmp);
    }
    let merged = harness(
        &["explore", "merge", "shard-0", "shard-1", "--out", "merged"],
        &tmp,
    );
    assert_eq!(merged.status.code(), Some(1), "{merged:?}");
    let listing = |dir: &str| {
        let mut files: Vec<(String, String)> = std::fs::read_dir(tmp.join(dir))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(listing("merged"), listing("whole"));
    let refused = harness(&["explore", "merge", "shard-0", "--out", "merged"], &tmp);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("shard 1/2 is in 0 file(s)"),
        "{refused:?}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
