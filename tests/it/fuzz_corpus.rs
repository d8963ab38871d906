//! The fuzz targets' seeds and every input a fuzz run found (`fuzz/regressions/`), replayed on
//! stable through the targets' own checks: what libFuzzer once broke stays fixed in `cargo
//! test`, and the checks themselves cannot rot where no nightly toolchain is.

use std::path::{Path, PathBuf};

use kube_watch_harness::fuzz;
use kube_watch_harness::scenario::Scenario;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dirs` (relative to the crate), sorted; a missing directory has none.
fn inputs(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(root().join(dir)).ok())
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && !path.ends_with(".keep"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, dirs: &[&str], check: impl Fn(&[u8]) -> Result<(), String>) {
    let files = inputs(dirs);
    assert!(
        !files.is_empty(),
        "no inputs for the {target} target in {dirs:?}"
    );
    let broken: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).expect("a corpus file is readable");
            check(&data)
                .err()
                .map(|why| format!("{}: {why}", path.display()))
        })
        .collect();
    assert!(broken.is_empty(), "{target}: {broken:#?}");
}

#[test]
fn every_scenario_seed_and_regression_loads_or_is_an_error_naming_the_file() {
    replay(
        "scenario",
        &[
            "scenarios",
            "tests/bad",
            "tests/scenarios",
            "fuzz/regressions/scenario",
        ],
        fuzz::scenario,
    );
}

#[test]
fn every_request_seed_and_regression_is_answered_with_whole_json_and_true_statuses() {
    let scenario = Scenario::load(root().join("scenarios/slow-list.yaml")).expect("it loads");
    replay(
        "request",
        &["fuzz/seeds/request", "fuzz/regressions/request"],
        |data| fuzz::request(&scenario, data),
    );
}

#[test]
fn every_selector_seed_and_regression_parses_the_same_twice() {
    replay(
        "selector",
        &["fuzz/seeds/selector", "fuzz/regressions/selector"],
        fuzz::selector,
    );
}

#[test]
fn every_view_seed_and_regression_is_read_or_named_by_file_and_line() {
    replay(
        "view",
        &["fuzz/seeds/view", "fuzz/regressions/view"],
        fuzz::view,
    );
}

#[test]
fn every_kubeconfig_seed_and_regression_is_read_or_named_by_file() {
    replay(
        "kubeconfig",
        &["fuzz/seeds/kubeconfig", "fuzz/regressions/kubeconfig"],
        fuzz::kubeconfig,
    );
}
