//! A large cluster as a scenario file: `generate` stands for 100,000 Pods, which the YAML node
//! budget (that stops alias bombs) would never let a file list one by one.

use kube_watch_harness::scenario::Scenario;

#[test]
fn a_scenario_of_100000_generated_pods_loads_and_its_watcher_relists_them_all_and_recovers() {
    let scenario = Scenario::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/large-relist.yaml"
    ))
    .expect("the large scenario loads");
    assert_eq!(scenario.objects.len(), 100_000);
    assert_eq!(
        scenario.objects.last().map(|o| o.name.as_str()),
        Some("web-99999")
    );
    let report = scenario.run().expect("the run starts");
    report.assert_as_expected();
    let outcome = &report.outcomes[0];
    assert_eq!(
        outcome.verdict.figures.relists, 1,
        "one relist after the cut"
    );
    assert!(
        outcome.verdict.figures.requests > 2 * 100_000 / 500,
        "the list and the relist each walk 200 pages of 500"
    );
}
