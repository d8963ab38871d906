//! The differential conformance suite: each case in `cases.yaml` runs against a real
//! kube-apiserver + etcd (built by `ci/anchor-build`, started by `anchor::ControlPlane`) and
//! against the simulation, and their normalized answers are compared. A difference not in
//! `known-differences.yaml` fails its case.
//!
//! Run it with `ci/conformance` (builds the control plane, then runs this). Under plain
//! `cargo test` on a machine without the built binaries, every case is reported as ignored,
//! with the reason; with `KWH_REQUIRE_TOOLS` set (`.ci/run` sets it), that fails instead.
//! The last line is `conformance: N cases, S same, K known differences, U unexplained`.

use std::path::Path;
use std::process::ExitCode;

use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

mod case;
mod cleanup;
mod clients;
mod known;
mod kubectl;
mod normalize;
mod run;
mod script_client;
mod table;
mod target;

use case::Case;
use clients::Client;
use known::Known;

/// Set on machines that must run every check.
const REQUIRE: &str = "KWH_REQUIRE_TOOLS";

/// How a case came out.
enum Outcome {
    Same,
    Known(Vec<String>),
    Unexplained(String),
}

/// A case's outcome and each side's answers in short.
struct CaseResult {
    outcome: Outcome,
    real: String,
    simulated: String,
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let cases: Vec<Case> = match std::fs::read_to_string(dir.join("cases.yaml"))
        .map_err(anyhow::Error::from)
        .and_then(|t| serde_saphyr::from_str::<Vec<Case>>(&t).map_err(anyhow::Error::from))
    {
        // The client cases last: they restart the apiserver the others share.
        Ok(mut cases) => {
            cases.push(kubectl::case());
            cases.push(clients::case());
            cases.extend(script_client::ALL.iter().map(|c| c.case()));
            cases
        }
        Err(e) => {
            eprintln!("conformance: cases.yaml: {e}");
            return ExitCode::FAILURE;
        }
    };
    let known = match known::load(&dir.join("known-differences.yaml")) {
        Ok(known) => known,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::FAILURE;
        }
    };
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| args.filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .filter(|c| !args.skip.iter().any(|s| c.name.contains(s.as_str())))
        .collect();
    let binaries = Binaries::locate(Path::new(env!("CARGO_MANIFEST_DIR")));
    if let Err(missing) = binaries.check() {
        let why = format!("the real control plane is not built: {missing}");
        if std::env::var_os(REQUIRE).is_some() {
            eprintln!("conformance: {why}");
            return ExitCode::FAILURE;
        }
        eprintln!("conformance: did not run: {why}");
        let trials = selected
            .iter()
            .map(|c| Trial::test(c.name.clone(), || Ok(())).with_ignored_flag(true))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    if std::env::var_os(cleanup::CHILD).is_some() {
        cleanup::child(&binaries);
    }
    // A client in another language that is not installed: its case did not run, saying so.
    let mut not_run = Vec::new();
    for client in script_client::ALL {
        if !selected.iter().any(|c| c.name == client.name) {
            continue;
        }
        if let Err(why) = client.installed() {
            if std::env::var_os(REQUIRE).is_some() {
                eprintln!("conformance: {why}");
                return ExitCode::FAILURE;
            }
            eprintln!("conformance: did not run: {why}");
            not_run.push(client.name);
        }
    }
    let whole = args.filter.is_none() && args.skip.is_empty() && not_run.is_empty();
    let selected: Vec<&Case> = selected
        .into_iter()
        .filter(|c| !not_run.contains(&c.name.as_str()))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let outcomes = runtime.block_on(run_all(&binaries, &selected, &known));
    let outcomes = match outcomes {
        Ok(outcomes) => outcomes,
        Err(e) => {
            eprintln!("conformance: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let (mut same, mut known_count, mut unexplained) = (0, 0, 0);
    let mut trials = Vec::new();
    let mut rows = Vec::new();
    for (case, result) in selected.iter().zip(outcomes) {
        let CaseResult {
            outcome,
            real,
            simulated,
        } = result;
        let verdict = match &outcome {
            Outcome::Same => "same".to_owned(),
            Outcome::Known(whys) => whys.join("; "),
            Outcome::Unexplained(_) => "**unexplained**".to_owned(),
        };
        rows.push((*case, real, simulated, verdict));
        match &outcome {
            Outcome::Same => {
                same += 1;
                eprintln!("same       {}", case.name);
            }
            Outcome::Known(whys) => {
                known_count += 1;
                eprintln!("known      {}: {}", case.name, whys.join("; "));
            }
            Outcome::Unexplained(diff) => {
                unexplained += 1;
                eprintln!("DIFFERENT  {}\n{diff}", case.name);
            }
        }
        let name = case.name.clone();
        trials.push(Trial::test(name, move || match outcome {
            Outcome::Unexplained(diff) => Err(Failed::from(diff)),
            _ => Ok(()),
        }));
    }
    let markdown = table::markdown(&rows);
    let table = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance.md");
    match std::fs::write(&table, &markdown) {
        Ok(()) => eprintln!("conformance: the table is in {}", table.display()),
        Err(e) => eprintln!("conformance: could not write {}: {e}", table.display()),
    }
    // The README shows the whole run's table, so only a whole run can hold it to that.
    if whole {
        trials.push(Trial::test(
            "readme::the_table_is_the_one_this_run_wrote",
            move || table::matches_readme(&markdown).map_err(Failed::from),
        ));
    }
    // The fixture's own promise: nothing left behind, however the test process ends.
    let cleanup_filter = |name: &str| args.filter.as_deref().is_none_or(|f| name.contains(f));
    if cleanup_filter("anchor::a_dropped_control_plane_leaves_nothing_behind") {
        let dropped = runtime.block_on(cleanup::a_dropped_control_plane_leaves_nothing_behind(
            &binaries,
        ));
        trials.push(Trial::test(
            "anchor::a_dropped_control_plane_leaves_nothing_behind",
            move || dropped.map_err(Failed::from),
        ));
    }
    if cleanup_filter("anchor::a_killed_test_process_leaves_no_control_plane_behind") {
        let killed = cleanup::a_killed_test_process_leaves_no_control_plane_behind();
        trials.push(Trial::test(
            "anchor::a_killed_test_process_leaves_no_control_plane_behind",
            move || killed.map_err(Failed::from),
        ));
    }
    trials.extend(
        not_run
            .iter()
            .map(|name| Trial::test(*name, || Ok(())).with_ignored_flag(true)),
    );
    let conclusion = libtest_mimic::run(&args, trials);
    eprintln!(
        "conformance: {} cases, {same} same, {known_count} known differences, {unexplained} unexplained",
        selected.len()
    );
    conclusion.exit_code()
}

/// Runs every case, each on a fresh simulation and on the control plane its resource needs.
async fn run_all(
    binaries: &Binaries,
    cases: &[&Case],
    known: &[Known],
) -> anyhow::Result<Vec<CaseResult>> {
    let mut cached: Option<ControlPlane> = None;
    let mut uncached: Option<ControlPlane> = None;
    let mut outcomes = Vec::new();
    for case in cases {
        // ConfigMaps without a watch cache need their own apiserver flags.
        let uncached_configmaps = !case.cached() && case.resource != "events";
        let slot = if uncached_configmaps {
            &mut uncached
        } else {
            &mut cached
        };
        if slot.is_none() {
            let options = if uncached_configmaps {
                ControlPlaneOptions::default().uncached(["configmaps"])
            } else {
                ControlPlaneOptions::default()
            };
            *slot = Some(ControlPlane::start(binaries, options).await?);
        }
        let plane = slot.as_ref().expect("started above");
        let (real, simulated) = if case.name == kubectl::NAME {
            let real = kubectl::play(Some(plane)).await?;
            (real, kubectl::play(None).await?)
        } else if case.name == clients::NAME {
            let real = clients::play(Some(plane), Client::KubeRs, case).await?;
            let simulated = clients::play(None, Client::KubeRs, case).await?;
            (real.transcript(), simulated.transcript())
        } else if let Some(script) = script_client::ALL.iter().find(|c| c.name == case.name) {
            let real = clients::play(Some(plane), Client::Script(script), case).await?;
            let simulated = clients::play(None, Client::Script(script), case).await?;
            (real.transcript(), simulated.transcript())
        } else {
            let real = {
                let target = target::Target::real(plane, case).await?;
                run::run(&target, case).await?
            };
            let target = target::Target::sim(case).await?;
            (real, run::run(&target, case).await?)
        };
        outcomes.push(CaseResult {
            outcome: compare(case, &real, &simulated, known),
            real: table::summary(&real),
            simulated: table::summary(&simulated),
        });
    }
    Ok(outcomes)
}

fn compare(case: &Case, real: &[Value], simulated: &[Value], known: &[Known]) -> Outcome {
    let len = real.len().max(simulated.len());
    let differing: Vec<usize> = (0..len)
        .filter(|i| real.get(*i) != simulated.get(*i))
        .collect();
    let listed: Vec<&Known> = known.iter().filter(|k| k.case == case.name).collect();
    if differing.is_empty() {
        if listed.is_empty() {
            return Outcome::Same;
        }
        return Outcome::Unexplained(format!(
            "  listed as a known difference at entry {}, but the two now agree: remove it",
            listed[0].entry
        ));
    }
    let mut whys = Vec::new();
    let mut report = String::new();
    for i in &differing {
        match listed.iter().find(|k| k.entry == i + 1) {
            Some(k) => whys.push(format!("entry {}: {}", i + 1, k.why)),
            None => {
                let show = |v: Option<&Value>| {
                    v.map_or_else(
                        || "(nothing)".into(),
                        |v| serde_json::to_string_pretty(v).unwrap_or_default(),
                    )
                };
                report.push_str(&format!(
                    "  entry {}:\n  real:\n{}\n  simulated:\n{}\n",
                    i + 1,
                    indent(&show(real.get(*i))),
                    indent(&show(simulated.get(*i)))
                ));
            }
        }
    }
    if report.is_empty() {
        Outcome::Known(whys)
    } else {
        Outcome::Unexplained(report)
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
