//! One test per scenario × set-up, for a `harness = false` test file: what `cargo test NAME`,
//! `cargo test -- --list`, `cargo nextest run` (its filters and `--partition`) see as separate
//! tests, each named `scenario::set-up`.
//!
//! ```no_run
//! // tests/watchers.rs, with `[[test]] name = "watchers"` and `harness = false` in Cargo.toml
//! fn main() -> std::process::ExitCode {
//!     kube_watch_harness::trial::main("scenarios")
//! }
//! ```
//!
//! A test passes when its set-up did what the scenario's `expect` block says; it fails with
//! the diagnosis otherwise. A file that does not load, or a directory that cannot be read, is a
//! failing test of its own (named after it), so nothing is skipped silently.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use libtest_mimic::{Arguments, Failed, Trial};

use crate::outcome::Outcome;
use crate::run::{RunOptions, run};
use crate::scenario::{self, Scenario};

/// Runs the scenarios of `dir` as tests, one per set-up, with the command line's arguments.
#[must_use]
pub fn main(dir: impl AsRef<Path>) -> ExitCode {
    libtest_mimic::run(&Arguments::from_args(), trials(dir, &RunOptions::default())).exit_code()
}

/// One test per set-up of every scenario file in `dir` (`*.yaml`, `*.yml`, in name order),
/// each run with `options`.
#[must_use]
pub fn trials(dir: impl AsRef<Path>, options: &RunOptions) -> Vec<Trial> {
    let dir = dir.as_ref();
    match scenario::files_in(dir) {
        Err(error) => vec![failing(
            dir,
            format!("cannot read scenario directory {}: {error}", dir.display()),
        )],
        Ok(files) if files.is_empty() => vec![failing(
            dir,
            format!("no *.yaml scenarios in directory {}", dir.display()),
        )],
        Ok(files) => files
            .iter()
            .flat_map(|file| of_file(file, options))
            .collect(),
    }
}

/// The tests of one scenario file: one per set-up, or one failing test when it does not load.
#[must_use]
pub fn of_file(file: &Path, options: &RunOptions) -> Vec<Trial> {
    match Scenario::load(file) {
        Err(error) => vec![failing(file, error.to_string())],
        Ok(scenario) => scenario
            .watchers
            .iter()
            .map(|setup| of_setup(&scenario, &setup.name, options))
            .collect(),
    }
}

/// The test of one set-up: `scenario::set-up`.
fn of_setup(scenario: &Scenario, setup: &str, options: &RunOptions) -> Trial {
    let name = format!("{}::{setup}", scenario.name);
    let (mut scenario, setup, options) = (scenario.clone(), setup.to_owned(), options.clone());
    Trial::test(name, move || {
        scenario.only(&setup)?;
        let report = run(&scenario, &options).map_err(|e| e.to_string())?;
        match report.outcomes.iter().find(|o| !o.as_expected) {
            None => Ok(()),
            Some(outcome) => Err(unexpected(outcome).into()),
        }
    })
}

/// Why an outcome is not what its scenario expects, for a failing test's message.
fn unexpected(outcome: &Outcome) -> String {
    let found = match (outcome.verdict.recovered, outcome.verdict.mechanism) {
        (true, _) => "it recovered".to_owned(),
        (false, Some(mechanism)) => format!("it failed by {}", mechanism.name()),
        (false, None) => "it failed".to_owned(),
    };
    let wanted = match outcome.expected_mechanism {
        Some(mechanism) => format!("expected to fail by {}", mechanism.name()),
        None => "expected to recover".to_owned(),
    };
    format!(
        "{wanted}, but {found}: {}",
        outcome
            .verdict
            .diagnosis
            .as_deref()
            .unwrap_or("every check passed")
    )
}

/// A test that fails with `why`, named after `path`'s file stem.
fn failing(path: &Path, why: String) -> Trial {
    let name = path
        .file_stem()
        .map_or_else(|| PathBuf::from(path), PathBuf::from)
        .display()
        .to_string();
    Trial::test(name, move || Err(why.into()))
}
