//! `harness explore --emit-tests`: each finding as a Rust test for kube-rs. The files under
//! `tests/it/emitted/` are what the emitter writes for a small exploration of forced-410; they
//! are compiled in here, and each must fail today by its finding's mechanism.
//!
//! Rewrite them after a deliberate change: `KWH_BLESS=1 cargo test --test it emitted`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kube_watch_harness::explore::{Budget, ExploreOptions, Search, explore};
use kube_watch_harness::report::rust_test::rust_test;
use kube_watch_harness::scenario::Document;

/// The exploration: forced-410's set-ups one at a time (`set-up`, timelines), seed 7.
const EXPLORED: [(&str, usize); 2] = [("small-pages", 8), ("no-backoff", 30)];
const SEED: u64 = 7;

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/emitted"))
}

/// What the emitter writes for the exploration today, by file name.
fn emitted() -> BTreeMap<String, String> {
    let forced_410 = Document::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/forced-410.yaml"
    ))
    .expect("the built-in scenario loads");
    let mut files = BTreeMap::new();
    for (setup, runs) in EXPLORED {
        let alone = forced_410.only(setup, None);
        let scenario = alone.scenario().expect("one set-up of it is a scenario");
        let mut budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
        // The files were drawn by the uniform search; the guided one draws other timelines.
        budget.search = Search::Uniform;
        let options = ExploreOptions::new(runs, SEED, budget).quiet();
        let exploration = explore(&alone, &options).expect("exploring runs");
        assert!(
            !exploration.findings.is_empty(),
            "{setup}: {runs} timelines find something"
        );
        for finding in &exploration.findings {
            let test = rust_test(finding).unwrap_or_else(|e| panic!("{e}"));
            files.insert(test.file_name, test.text);
        }
    }
    files
}

#[test]
fn the_checked_in_emitted_tests_are_what_explore_emits_today() {
    let emitted = emitted();
    if std::env::var_os("KWH_BLESS").is_some_and(|v| v == "1") {
        for entry in std::fs::read_dir(dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, text) in &emitted {
            std::fs::write(dir().join(name), text).unwrap();
        }
        return;
    }
    let checked_in: BTreeMap<String, String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    let regenerate = "rewrite them with `KWH_BLESS=1 cargo test --test it emitted`, then list \
                      each file in `reproduces!` below";
    assert_eq!(
        checked_in.keys().collect::<Vec<_>>(),
        emitted.keys().collect::<Vec<_>>(),
        "the files under tests/it/emitted/ are not those the emitter writes; {regenerate}"
    );
    for (name, text) in &emitted {
        assert!(
            checked_in[name] == *text,
            "tests/it/emitted/{name} is not what the emitter writes; {regenerate}\n--- emitted:\n{text}"
        );
    }
}

/// Runs an emitted test (`#[ignore]`d, as it fails today) and checks it fails by `mechanism`.
fn fails_by(test: fn(), mechanism: &str) {
    let why = std::panic::catch_unwind(test).expect_err("the emitted test fails today");
    let message = why
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| why.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        message.contains(&format!("did not recover ({mechanism})")),
        "expected a failure by {mechanism}, got: {message}"
    );
}

/// Each emitted file in a module of its own (the file's name), beside a test `reproduces`
/// that calls the file's test fn (private to the module) and checks the mechanism.
macro_rules! reproduces {
    ($($file:ident: $test:ident fails by $mechanism:literal;)*) => {
        $(
            mod $file {
                include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/emitted/", stringify!($file), ".rs"));

                #[test]
                fn reproduces() {
                    super::fails_by($test, $mechanism);
                }
            }
        )*
    };
}

reproduces! {
    forced_410_no_backoff_event_dropped: no_backoff_event_dropped
        fails by "event_dropped";
    forced_410_no_backoff_half_open_watch: no_backoff_half_open_watch
        fails by "half_open_watch";
    forced_410_no_backoff_hot_loop_on_clean_ends: no_backoff_hot_loop_on_clean_ends
        fails by "hot_loop_on_clean_ends";
    forced_410_no_backoff_never_answered: no_backoff_never_answered
        fails by "never_answered";
    forced_410_small_pages_event_dropped: small_pages_event_dropped
        fails by "event_dropped";
}

#[test]
fn harness_explore_emit_tests_writes_one_test_per_finding_named_as_its_scenario_file() {
    let base = std::env::temp_dir().join(format!("kwh-emit-tests-{}", std::process::id()));
    let (tests, scenarios) = (base.join("tests"), base.join("scenarios"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "explore",
            "scenarios/forced-410.yaml",
            "--runs",
            "4",
            "--seed",
        ])
        .arg(SEED.to_string())
        .args(["--format", "json", "--emit-tests"])
        .arg(&tests)
        .arg("--out")
        .arg(&scenarios)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the harness runs");
    assert_eq!(output.status.code(), Some(1), "findings exit 1");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "4 timelines find something");
    let mut expected: Vec<String> = findings
        .iter()
        .map(|f| {
            let file = PathBuf::from(f["file"].as_str().unwrap());
            let stem = file
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace('-', "_");
            format!("{stem}.rs")
        })
        .collect();
    expected.sort();
    let mut written: Vec<String> = std::fs::read_dir(&tests)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, expected);
    let _ = std::fs::remove_dir_all(&base);
}
