//! The JUnit report against the Jenkins xUnit plugin's `junit-10.xsd`, with xmllint.

use std::path::PathBuf;
use std::process::Command;

use kube_watch_harness::report;

use crate::reports::reports;

pub(crate) fn the_junit_report_is_valid_against_the_common_junit_xsd() {
    let (_, reports) = reports();
    let mut xml = Vec::new();
    report::junit::write(&reports, &mut xml).expect("writing to a Vec cannot fail");
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("junit.xml");
    std::fs::write(&file, xml).expect("the target directory is writable");
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junit-10.xsd");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .expect("xmllint runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
