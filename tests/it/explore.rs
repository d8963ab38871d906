//! `harness explore`: random fault timelines over a scenario's workload and set-ups, each
//! failure shrunk to a scenario file of its own.

use std::process::Command;

use kube_watch_harness::explore::{Budget, Exploration, ExploreOptions, Search, Summary, explore};
use kube_watch_harness::report;
use kube_watch_harness::run::{RunOptions, run};
use kube_watch_harness::scenario::{Document, Scenario};

fn forced_410() -> Document {
    Document::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/forced-410.yaml"
    ))
    .expect("the built-in scenario loads")
}

fn explored(document: &Document, runs: usize, jobs: usize) -> Exploration {
    let scenario = document.scenario().unwrap();
    let mut budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
    // Written against the uniform search's draws.
    budget.search = Search::Uniform;
    let options = ExploreOptions::new(runs, 7, budget).jobs(jobs).quiet();
    explore(document, &options).expect("exploring runs")
}

fn json(exploration: &Exploration) -> String {
    let mut out = Vec::new();
    let summary = Summary::of(std::slice::from_ref(exploration), false);
    report::explore::write_json(&summary, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_same_seed_finds_the_same_byte_for_byte_however_many_jobs_run() {
    let defaults = forced_410().only("defaults", None);
    let one = explored(&defaults, 24, 1);
    let two = explored(&defaults, 24, 2);
    assert!(!one.findings.is_empty(), "24 timelines find something");
    assert_eq!(json(&one), json(&two));
    let files = |e: &Exploration| -> Vec<String> {
        e.findings.iter().map(|f| f.document.to_yaml()).collect()
    };
    assert_eq!(files(&one), files(&two));
}

#[test]
fn a_shrunk_finding_fails_the_same_way_from_its_own_file_and_needs_each_of_its_faults() {
    let defaults = forced_410().only("defaults", None);
    let exploration = explored(&defaults, 24, 2);
    for finding in &exploration.findings {
        let yaml = finding.document.to_yaml();
        let scenario = Scenario::from_yaml(&yaml).expect("a finding is a loadable scenario");
        let report = run(&scenario, &RunOptions::default()).unwrap();
        assert!(report.as_expected(), "{yaml}");
        assert_eq!(
            report.outcomes[0].verdict.mechanism,
            Some(finding.failure.mechanism)
        );
        assert!(finding.minimal && finding.reproduced, "{yaml}");
        for i in 0..finding.faults.len() {
            let mut fewer = finding.faults.clone();
            let dropped = fewer.remove(i);
            let without = finding.document.without_faults().with_faults(&fewer);
            let outcome = &run(&without.scenario().unwrap(), &RunOptions::default())
                .unwrap()
                .outcomes[0];
            assert!(
                outcome.verdict.recovered
                    || outcome.verdict.mechanism != Some(finding.failure.mechanism),
                "without {dropped:?} it still fails by {:?}:\n{yaml}",
                finding.failure.mechanism
            );
        }
    }
}

#[test]
fn explore_finds_three_mechanisms_in_the_forced_410_set_ups_and_each_file_passes_harness_run() {
    let dir = std::env::temp_dir().join(format!("kwh-explore-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "explore",
            "scenarios/forced-410.yaml",
            "--runs",
            "20",
            "--seed",
            "1",
            "--search",
            "uniform",
        ])
        .args(["--format", "json", "--out"])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the harness runs");
    assert_eq!(output.status.code(), Some(1), "findings exit 1");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let mechanisms: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["mechanism"].as_str().unwrap())
        .filter(|m| *m != "unknown")
        .collect();
    assert!(mechanisms.len() >= 3, "{mechanisms:?}");
    assert!(findings.iter().all(|f| f["reproduced"] == true));
    let written = std::fs::read_to_string(dir.join("findings.json")).unwrap();
    assert_eq!(written, String::from_utf8_lossy(&output.stdout));
    let rerun = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "every written finding holds its expectation"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_budget_naming_an_unknown_kind_is_refused_with_the_closest_one() {
    let dir = std::env::temp_dir().join(format!("kwh-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let budget = dir.join("budget.yaml");
    std::fs::write(&budget, "kinds: [compact, expire_watchs]\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["explore", "scenarios/forced-410.yaml", "--budget"])
        .arg(&budget)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("at `kinds`") && said.contains("did you mean `expire_watches`?"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_chain_explore_finds_names_a_fault_of_its_timeline_that_the_trace_shows_acting() {
    use kube_watch_harness::mechanism::Mechanism;
    use kube_watch_harness::scenario::format_duration;
    use kube_watch_harness::trace::TraceKind;

    let matrix = Document::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/explore/every-failure-matrix.yaml"
    ))
    .expect("the matrix loads");
    let scenario = matrix.scenario().unwrap();
    let budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
    let options = ExploreOptions::new(120, 2, budget)
        .jobs(2)
        .quiet()
        .without_shrinking();
    let exploration = explore(&matrix, &options).expect("exploring runs");
    assert!(exploration.findings.len() >= 5, "120 timelines find a few");
    for finding in &exploration.findings {
        // A refusal with no fault behind it is the one story that names none, by definition.
        if finding.failure.mechanism == Mechanism::RequestRefused {
            continue;
        }
        let yaml = finding.document.to_yaml();
        let report = run(&Scenario::from_yaml(&yaml).unwrap(), &RunOptions::default()).unwrap();
        let outcome = &report.outcomes[0];
        let chain: Vec<&str> = outcome
            .verdict
            .chain
            .iter()
            .map(|l| l.text.as_str())
            .collect();
        let chain = chain.join(" | ");
        let named = finding.faults.iter().find(|(at, fault)| {
            chain.contains(&format!("({} at {})", fault.kind(), format_duration(*at)))
        });
        let Some((_, fault)) = named else {
            panic!("the chain names no fault of its timeline: {chain}\n{yaml}");
        };
        let acted = outcome.trace.iter().any(|e| match &e.kind {
            TraceKind::Fault { fault: kind } | TraceKind::FaultHit { fault: kind, .. } => {
                *kind == fault.kind_of()
            }
            _ => false,
        });
        assert!(acted, "{} never acted: {chain}\n{yaml}", fault.kind());
    }
}
