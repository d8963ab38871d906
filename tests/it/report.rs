//! Every report format, snapshot-tested. (The JUnit file's validation against its XSD needs
//! xmllint: it is in `tests/tools/`.)

use kube_watch_harness::report;

#[path = "../common/reports.rs"]
mod reports;
use reports::reports;

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
