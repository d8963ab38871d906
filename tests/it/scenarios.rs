//! Every built-in scenario reports the same bytes twice, and the bytes of its snapshot; the
//! whole catalogue run as one pool of set-ups reports the same bytes as each scenario alone.

use kube_watch_harness::report;
use kube_watch_harness::run::{RunOptions, RunReport, run, run_all};
use kube_watch_harness::scenario;

fn json_report(path: &std::path::Path) -> String {
    let scenario = scenario::load(path).expect("built-in scenarios load");
    json(run(&scenario, &RunOptions::default()).expect("built-in scenarios run"))
}

fn json(report: RunReport) -> String {
    let mut out = Vec::new();
    report::json::write(&[report], &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the report is UTF-8")
}

#[test]
fn the_catalogue_run_as_one_pool_reports_what_each_scenario_reports_alone() {
    let mut paths: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let scenarios: Vec<_> = paths.iter().map(|p| scenario::load(p).unwrap()).collect();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let pooled = run_all(&scenarios, &RunOptions::default(), 2, |_, _| {
        finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(
        finished.into_inner(),
        scenarios.iter().map(|s| s.watchers.len()).sum::<usize>(),
        "every set-up is heard of once"
    );
    assert_eq!(pooled.len(), paths.len());
    for (path, report) in paths.iter().zip(pooled) {
        assert_eq!(json(report), json_report(path), "{}", path.display());
    }
}

/// Whether each set-up does what `expect` says is `tests/catalogue.rs`, one test per set-up.
#[test]
fn every_scenario_report_matches_its_snapshot_and_is_byte_identical_run_twice() {
    insta::glob!("../../scenarios", "*.yaml", |path| {
        let json = json_report(path);
        assert_eq!(
            json,
            json_report(path),
            "{} is deterministic",
            path.display()
        );
        insta::assert_snapshot!(json);
    });
}

#[test]
fn idle_expire_covers_twenty_minutes_and_the_410_ends_stop_on_error() {
    let scenario = scenario::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/idle-expire.yaml"
    ))
    .unwrap();
    assert!(scenario.duration >= std::time::Duration::from_secs(20 * 60));
    let report = run(&scenario, &RunOptions::default()).unwrap();
    let defaults = report
        .outcomes
        .iter()
        .find(|o| o.setup == "defaults")
        .unwrap();
    assert!(defaults.verdict.recovered);
    assert!(
        defaults.verdict.figures.relists >= 1,
        "recovering from a 410 takes a relist"
    );
    assert!(defaults.verdict.figures.recovery_latency.is_some());
    let stopped = report
        .outcomes
        .iter()
        .find(|o| o.setup == "stop-on-error")
        .unwrap();
    assert!(!stopped.verdict.recovered);
    let diagnosis = stopped.verdict.diagnosis.as_deref().unwrap();
    assert!(diagnosis.contains("410 Expired"), "{diagnosis}");
    assert!(
        diagnosis.contains("The resourceVersion for the provided watch is too old."),
        "{diagnosis}"
    );
}

#[test]
fn every_failing_set_up_names_its_mechanism_and_the_fault_that_triggered_it() {
    use kube_watch_harness::mechanism::Mechanism;
    use kube_watch_harness::report::explain::{Slice, write_text};
    use kube_watch_harness::scenario::Action;
    for path in crate::fixture::yaml_files("scenarios") {
        let scenario = scenario::load(&path).unwrap();
        let faults: Vec<&str> = scenario
            .timeline
            .iter()
            .filter_map(|s| match &s.action {
                Action::Fault(f) => Some(f.kind()),
                Action::Write(_) => None,
            })
            .collect();
        let report = run(&scenario, &RunOptions::default()).unwrap();
        for outcome in report.outcomes.iter().filter(|o| !o.verdict.recovered) {
            let name = format!("{} / {}", scenario.name, outcome.setup);
            let mechanism = outcome.verdict.mechanism.expect("a failed set-up has one");
            assert_ne!(mechanism, Mechanism::Unknown, "{name}");
            let chain: String = outcome
                .verdict
                .chain
                .iter()
                .map(|l| l.text.as_str())
                .collect();
            assert!(
                faults.iter().any(|f| chain.contains(&format!("({f} at")))
                    || chain.contains("no fault is needed for this"),
                "{name}: the chain names the fault that triggered it: {chain}"
            );
            let mut explained = Vec::new();
            write_text(
                &scenario.name,
                outcome,
                Slice::AroundTheCause,
                &mut explained,
            )
            .unwrap();
            let explained = String::from_utf8(explained).unwrap();
            assert!(
                explained.contains(&format!("NOT recovered: {mechanism}"))
                    && explained.contains("  1. "),
                "{name}: explain prints the chain:\n{explained}"
            );
        }
    }
}
