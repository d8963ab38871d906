//! The reports the report tests render, shared by the tests that need no tool (`tests/it`) and
//! the ones that do (`tests/tools`).

use kube_watch_harness::run::{RunOptions, RunReport, run};
use kube_watch_harness::scenario::Scenario;

fn idle_expire_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/idle-expire.yaml"
    ))
    .expect("the built-in scenario is readable")
}

/// idle-expire as shipped, and a copy whose `expect` is wrong about stop-on-error, so that
/// one testcase fails.
pub(crate) fn reports() -> (Vec<Scenario>, Vec<RunReport>) {
    let shipped = Scenario::from_yaml(&idle_expire_text()).unwrap();
    let wrong = Scenario::from_yaml(
        &idle_expire_text()
            .replace("name: idle-expire", "name: idle-expire-wrong-expectation")
            .replace(
                "recover: [defaults, no-backoff, no-bookmarks]",
                "recover: [defaults, no-backoff, no-bookmarks, stop-on-error]",
            )
            .replace(
                "  fail:\n    stop-on-error: stopped_on_recoverable_error\n",
                "",
            ),
    )
    .unwrap();
    let reports = [&shipped, &wrong]
        .iter()
        .map(|s| run(s, &RunOptions::default()).unwrap())
        .collect();
    (vec![shipped, wrong], reports)
}
