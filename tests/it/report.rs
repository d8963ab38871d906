//! Every report format, snapshot-tested; the JUnit file validated against the Jenkins xUnit
//! plugin's `junit-10.xsd` with xmllint.

use std::path::PathBuf;
use std::process::Command;

use kube_watch_harness::report;
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
fn reports() -> (Vec<Scenario>, Vec<RunReport>) {
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

fn rendered(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

#[test]
fn the_junit_report_has_a_testcase_per_set_up_and_the_diagnosis_as_the_failure_message() {
    let (_, reports) = reports();
    let xml = rendered(|out| report::junit::write(&reports, out));
    insta::assert_snapshot!(xml);
    assert_eq!(xml.matches("<testcase ").count(), 8);
    assert_eq!(xml.matches("<failure ").count(), 1);
}

#[test]
fn the_junit_report_is_valid_against_the_common_junit_xsd() {
    let (_, reports) = reports();
    let xml = rendered(|out| report::junit::write(&reports, out));
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("junit.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junit-10.xsd");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .expect("xmllint is on PATH (.ci/run installs Debian's libxml2-utils)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_svg_timeline_shows_the_idle_window_the_compaction_the_410_the_relist_and_convergence() {
    let (scenarios, reports) = reports();
    let svg = rendered(|out| report::svg::write(&scenarios[0], &reports[0], out));
    for shown in [
        "idle 0s",
        "compact 4m",
        "relist",
        "in sync 4m51.284s",
        "NOT recovered",
    ] {
        assert!(svg.contains(shown), "the timeline shows {shown:?}");
    }
    assert!(svg.contains("410"), "the 410 is on the timeline");
    let shown_in_readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/idle-expire.svg"))
            .expect("README's timeline is checked in");
    assert!(
        shown_in_readme == svg,
        "docs/idle-expire.svg is stale: `cargo run -- run scenarios/idle-expire.yaml --out DIR` and copy it"
    );
    insta::assert_snapshot!(svg);
}

#[test]
fn the_table_is_coloured_only_when_asked() {
    let (_, reports) = reports();
    let plain = rendered(|out| report::table::write(&reports, out));
    let coloured = rendered(|out| report::table::write_styled(&reports, out, true));
    assert!(!plain.contains('\u{1b}'));
    assert!(
        coloured.contains("\u{1b}[32mrecovered\u{1b}[0m"),
        "{coloured}"
    );
    assert!(coloured.contains("UNEXPECTED"));
    let stripped: String = {
        let mut text = coloured.clone();
        while let Some(start) = text.find('\u{1b}') {
            let end = text[start..]
                .find('m')
                .map_or(text.len(), |i| start + i + 1);
            text.replace_range(start..end, "");
        }
        text
    };
    assert_eq!(stripped, plain, "colour changes nothing but colour");
    insta::assert_snapshot!(plain);
}

#[test]
fn the_json_report_names_its_schema_version() {
    let (_, reports) = reports();
    let json = rendered(|out| report::json::write(&reports, out));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"], report::json::SCHEMA);
    assert_eq!(value["as_expected"], false);
}
