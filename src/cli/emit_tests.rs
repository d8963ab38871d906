//! `harness explore --emit-tests DIR`: each finding written as a Rust test for kube-rs.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::explore::Finding;
use crate::report::rust_test::rust_test;

/// Writes each finding's test into `dir` (created if missing). A finding whose set-up cannot be
/// written as a test is told on stderr with the reason, and the others are still written:
/// the scenario files and `findings.json` report it all the same.
///
/// # Errors
/// When `dir` or a file in it cannot be written.
pub(super) fn write(dir: &Path, findings: &[&Finding]) -> anyhow::Result<()> {
    let context = |p: &Path| format!("failed to write {}", p.display());
    std::fs::create_dir_all(dir).with_context(|| context(dir))?;
    for finding in findings {
        match rust_test(finding) {
            Ok(test) => {
                let path = dir.join(&test.file_name);
                std::fs::write(&path, test.text).with_context(|| context(&path))?;
            }
            Err(refused) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "harness explore: no test written: {refused}"
                );
            }
        }
    }
    Ok(())
}
