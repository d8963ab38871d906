//! The catalogue of bad scenario files in `tests/bad/`: each is refused with a message that
//! names the file, the line, and the key, through the library and through the CLI (exit 2),
//! and nothing panics.

use std::path::{Path, PathBuf};
use std::process::Command;

use kube_watch_harness::scenario;

use crate::fixture::yaml_files;

/// Errors about the file as a whole, or its YAML syntax, have no key to name.
const WHOLE_FILE: &[&str] = &[
    "tab-indentation.yaml",
    "empty.yaml",
    "only-comments.yaml",
    "not-a-mapping.yaml",
    "not-utf-8.yaml",
    "missing-duration.yaml",
    "missing-resource.yaml",
];

fn message(path: &Path) -> String {
    let error = scenario::load(path).expect_err("a bad file is refused");
    let dir = format!("{}/", path.parent().unwrap().display());
    error.to_string().replace(&dir, "")
}

#[test]
fn there_are_at_least_30_bad_files() {
    assert!(
        yaml_files("tests/bad").len() >= 30,
        "{}",
        yaml_files("tests/bad").len()
    );
}

#[test]
fn every_bad_file_is_refused_naming_its_file_line_and_key() {
    insta::glob!("../bad", "*.yaml", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        let message = message(path);
        assert!(message.starts_with(&format!("{name}:")), "{message}");
        let located = message[name.len()..].starts_with(':')
            && message[name.len() + 1..].starts_with(|c: char| c.is_ascii_digit());
        assert!(
            located || message.contains("at byte"),
            "{name}: the message names the line: {message}"
        );
        if !WHOLE_FILE.contains(&name) {
            assert!(
                message.contains(" at `"),
                "{name}: the message names the key: {message}"
            );
        }
        insta::assert_snapshot!(message);
    });
}

#[test]
fn the_cli_exits_2_on_each_bad_file_without_panicking() {
    for path in yaml_files("tests/bad") {
        let output = Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("check")
            .arg(&path)
            .output()
            .expect("the binary runs");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {err}", path.display());
        assert!(err.starts_with("error: "), "{}: {err}", path.display());
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
    }
}

#[test]
fn an_unknown_fault_kind_suggests_the_closest_one() {
    let message = message(&PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/bad/unknown-fault-kind.yaml"
    )));
    assert!(message.ends_with("did you mean `compact`?"), "{message}");
}
