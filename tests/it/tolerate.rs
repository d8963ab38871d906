//! `expect.tolerate`: a breach of the protocol that a scenario accepts for a set-up does not
//! fail it, and a tolerated breach that did not happen is an expectation gone stale.

use kube_watch_harness::check_name::CheckName;
use kube_watch_harness::run::{RunOptions, run};
use kube_watch_harness::scenario::Scenario;

/// `proxy-410-at-watch-start`, with only its `defaults` set-up and `expect` replaced.
fn proxy_410_expecting(expect: &str) -> Scenario {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/proxy-410-at-watch-start.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the built-in scenario is there");
    let (head, _) = text.split_once("\nwatchers:").expect("it has a matrix");
    Scenario::from_yaml(&format!(
        "{head}\nwatchers:\n  - name: defaults\nexpect:\n  deadline: 3m\n{expect}"
    ))
    .expect("the scenario loads")
}

#[test]
fn a_tolerated_breach_does_not_fail_the_set_up_and_is_reported_as_tolerated() {
    let scenario = proxy_410_expecting(
        "  recover: [defaults]\n  tolerate: { defaults: [relist_after_gone] }\n",
    );
    let report = run(&scenario, &RunOptions::default()).expect("it runs");
    let outcome = &report.outcomes[0];
    assert!(outcome.as_expected, "{:?}", outcome.verdict);
    assert!(outcome.verdict.recovered);
    assert_eq!(outcome.verdict.tolerated, [CheckName::RelistAfterGone]);
    let breach = outcome
        .verdict
        .checks
        .iter()
        .find(|c| c.name == CheckName::RelistAfterGone)
        .expect("the check ran");
    assert!(!breach.passed, "the check still says what happened");
}

#[test]
fn without_the_tolerance_the_same_run_fails_by_its_breach() {
    let scenario = proxy_410_expecting("  fail: { defaults: resumed_after_gone }\n");
    let report = run(&scenario, &RunOptions::default()).expect("it runs");
    assert!(
        report.outcomes[0].as_expected,
        "{:?}",
        report.outcomes[0].verdict
    );
}

#[test]
fn tolerating_a_breach_that_did_not_happen_is_a_stale_expectation() {
    let scenario = proxy_410_expecting(
        "  recover: [defaults]\n  tolerate: { defaults: [relist_after_gone, retry_after] }\n",
    );
    let report = run(&scenario, &RunOptions::default()).expect("it runs");
    let outcome = &report.outcomes[0];
    assert!(outcome.verdict.recovered);
    assert!(!outcome.as_expected);
    let why = outcome.verdict.diagnosis.as_deref().unwrap_or_default();
    assert!(
        why.contains("names `retry_after` for it, and it held"),
        "{why}"
    );
}
