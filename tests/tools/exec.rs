//! `harness exec`: clients the harness did not build, judged from what the server saw.

use std::path::{Path, PathBuf};
use std::process::Command;

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube_watch_harness::exec::{ExecOptions, exec};
use kube_watch_harness::mechanism::Mechanism;
use kube_watch_harness::scenario::Scenario;

use crate::reaped::Reaped;

fn built_in(name: &str) -> Scenario {
    Scenario::load(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.yaml")))
        .expect("the built-in scenario loads")
}

/// The example client, which `cargo test` builds beside the tests.
pub(crate) fn example_client() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/debug/deps/tools-HASH -> target/debug/examples/view_client
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps")
        .join("examples/view_client")
}

/// The client-go informer `ci/clients` builds (clients/client-go).
pub(crate) fn client_go_informer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients/client-go-informer")
}

/// The Node.js `ci/clients` installs beside the JavaScript informer (clients/javascript).
pub(crate) fn javascript_node() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/javascript/node_modules/.bin/node")
}

/// @kubernetes/client-node 2.x sends its LISTs as `kubernetes-client-javascript/2.0.1` and its
/// WATCHes (through undici) as `undici`: one process, so one client.
pub(crate) fn the_javascript_informer_is_one_client_and_recovers_from_a_forced_410_and_a_restart() {
    let informer = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/javascript/informer.mjs");
    std::thread::scope(|s| {
        let runs: Vec<_> = [
            ("forced-410", "ConfigMap", "configmaps"),
            ("apiserver-restart", "Pod", "pods"),
        ]
        .into_iter()
        .map(|(name, kind, plural)| {
            let informer = &informer;
            s.spawn(move || {
                let scenario = built_in(name);
                let command: Vec<String> = vec![
                    javascript_node().display().to_string(),
                    informer.display().to_string(),
                    "v1".into(),
                    kind.into(),
                    plural.into(),
                ];
                let report = exec(&scenario, &command, &ExecOptions::default().speed(20))
                    .expect("it runs")
                    .report;
                (name, report)
            })
        })
        .collect();
        for run in runs {
            let (name, report) = run.join().expect("no panic");
            let [outcome] = report.outcomes.as_slice() else {
                panic!(
                    "{name}: one client: {:?}",
                    report.outcomes.iter().map(|o| &o.setup).collect::<Vec<_>>()
                );
            };
            assert!(
                outcome
                    .setup
                    .starts_with("kubernetes-client-javascript/2.0.1 + undici (pid "),
                "{name}: {}",
                outcome.setup
            );
            assert!(
                outcome.verdict.recovered,
                "{name}: {:?}",
                outcome.verdict.diagnosis
            );
            assert!(report.as_expected(), "{name}: exit 0");
        }
    });
}

pub(crate) fn the_client_go_informer_recovers_from_a_forced_410() {
    let scenario = built_in("forced-410");
    let command: Vec<String> = vec![
        client_go_informer().display().to_string(),
        "v1".into(),
        "ConfigMap".into(),
        "configmaps".into(),
    ];
    let report = exec(&scenario, &command, &ExecOptions::default().speed(20))
        .expect("it runs")
        .report;
    let [outcome] = report.outcomes.as_slice() else {
        panic!("one client: {:?}", report.outcomes);
    };
    assert!(
        outcome.setup.starts_with("client-go-informer/"),
        "{}",
        outcome.setup
    );
    assert!(outcome.verdict.recovered, "{:?}", outcome.verdict.diagnosis);
    assert!(
        outcome.verdict.figures.relists >= 1,
        "a forced 410 is relisted"
    );
}

fn harness_exec(args: &[&str]) -> (i32, String) {
    let output = Reaped::output(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("exec")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    )
    .expect("harness runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

pub(crate) fn kubectl_get_watch_is_judged_by_the_scenario_s_expectations() {
    let kubectl = ["--", "kubectl", "get", "configmaps", "-A", "--watch"];
    // kubectl's watch ends when the watch cache re-lists under it, and kubectl exits with it:
    // that is its verdict. Held to `defaults` (must recover), it is not what is expected; held
    // to `stop-on-error` (expected to stop on a recoverable error), it is.
    let both = std::thread::scope(|s| {
        let defaults = s.spawn(|| {
            let mut args = vec!["scenarios/forced-410.yaml", "--speed", "60"];
            args.extend(kubectl);
            harness_exec(&args)
        });
        let stop = s.spawn(|| {
            let mut args = vec![
                "scenarios/forced-410.yaml",
                "--speed",
                "60",
                "--setup",
                "stop-on-error",
            ];
            args.extend(kubectl);
            harness_exec(&args)
        });
        (defaults.join().unwrap(), stop.join().unwrap())
    });
    let ((code, table), (stop_code, stop_table)) = both;
    assert_eq!(code, 1, "{table}");
    assert!(table.contains("kubectl/"), "{table}");
    assert!(
        table.contains("NOT recovered") && table.contains("why (stopped_on_recoverable_error)"),
        "{table}"
    );
    assert!(
        table.contains("the client exited (exit 0) at 5m"),
        "{table}"
    );
    assert_eq!(stop_code, 0, "{stop_table}");
}

pub(crate) fn a_client_that_relists_in_a_tight_loop_after_an_http_410_is_a_request_storm() {
    // A proxy answers every watch 410 for 20 seconds; kubectl exits at each, and the loop
    // starts it again: a LIST, a WATCH that gets 410, again and again. In real time, so that
    // however slowly kubectl starts on a loaded machine (up to 4 s a round), the loop makes
    // more than the bound's 10 requests in a minute.
    let scenario = Scenario::from_yaml(
        "name: relist-loop\n\
         duration: 30s\n\
         resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
           objects: [{ name: app-config, namespace: default }] }\n\
         timeline:\n\
           - { at: 5s, kind: watch_410, form: http, for: 20s }\n\
           - { at: 5s, kind: cut_stream, how: clean }\n\
         watchers: [{ name: defaults }]\n\
         expect: { deadline: 5s, max_requests_per_minute: 10, recover: [defaults] }\n",
    )
    .expect("the scenario loads");
    let command: Vec<String> = [
        "sh",
        "-c",
        "while :; do kubectl get configmaps -A --watch >/dev/null 2>&1; done",
    ]
    .map(String::from)
    .to_vec();
    let report = exec(&scenario, &command, &ExecOptions::default())
        .expect("it runs")
        .report;
    let outcome = report
        .outcomes
        .iter()
        .find(|o| o.setup.contains("kubectl/"))
        .expect("kubectl is one of the clients");
    assert!(!outcome.verdict.recovered);
    assert_eq!(
        outcome.verdict.mechanism,
        Some(Mechanism::HotLoopWithoutBackoff)
    );
    let diagnosis = outcome.verdict.diagnosis.clone().unwrap();
    assert!(diagnosis.starts_with("request storm: peak "), "{diagnosis}");
    assert!(
        diagnosis.contains("it repeated LIST → 200, WATCH → 410 (×"),
        "{diagnosis}"
    );
}

pub(crate) fn two_processes_with_one_user_agent_are_judged_as_two_clients() {
    let scenario = Scenario::from_yaml(
        "name: two-watchers\n\
         duration: 10s\n\
         resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
           objects: [{ name: app-config, namespace: default }] }\n\
         watchers: [{ name: defaults }]\n\
         expect: { deadline: 5s, recover: [defaults] }\n",
    )
    .expect("the scenario loads");
    let watch = "kubectl get configmaps -A --watch >/dev/null 2>&1";
    let command: Vec<String> = ["sh", "-c", &format!("{watch} & {watch}; wait")]
        .map(String::from)
        .to_vec();
    let report = exec(&scenario, &command, &ExecOptions::default())
        .expect("it runs")
        .report;
    let names: Vec<&str> = report.outcomes.iter().map(|o| o.setup.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        assert!(
            name.contains("kubectl/") && name.contains("(pid "),
            "{names:?}"
        );
    }
    assert_ne!(names[0], names[1]);
    assert!(report.outcomes.iter().all(|o| o.verdict.recovered));
}

/// The example client's code, run in the harness's virtual time.
fn simulated(scenario: &Scenario) -> (bool, Option<Mechanism>) {
    let spec = &scenario.resource;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&spec.group, &spec.version, &spec.kind),
        &spec.plural,
    );
    let outcome = scenario
        .run_with_store(move |client| {
            let api = kube::Api::<DynamicObject>::all_with(client, &resource);
            let writer = Writer::new(resource);
            let store = writer.as_reader();
            let run = reflector(writer, watcher(api, watcher::Config::default()))
                .default_backoff()
                .for_each(|_| std::future::ready(()));
            (store, run)
        })
        .expect("it runs");
    (outcome.verdict.recovered, outcome.verdict.mechanism)
}

pub(crate) fn the_example_client_s_exec_verdicts_agree_with_its_simulated_verdicts() {
    let example = example_client();
    // The speeds leave the client's own waits (kube's backoff: 0.8 to 1.6 s of its wall time)
    // inside each scenario's deadline; forced-410's is a minute.
    let cases = [
        ("forced-410", 20),
        ("idle-expire", 60),
        ("unanswered-requests", 60),
    ];
    let results = std::thread::scope(|s| {
        let runs: Vec<_> = cases
            .iter()
            .map(|(name, speed)| {
                let example = &example;
                s.spawn(move || {
                    let scenario = built_in(name);
                    let spec = &scenario.resource;
                    let command = vec![
                        example.display().to_string(),
                        spec.api_version(),
                        spec.kind.clone(),
                        spec.plural.clone(),
                    ];
                    let report = exec(&scenario, &command, &ExecOptions::default().speed(*speed))
                        .expect("it runs")
                        .report;
                    let [outcome] = report.outcomes.as_slice() else {
                        panic!("one client: {:?}", report.outcomes);
                    };
                    let live = (outcome.verdict.recovered, outcome.verdict.mechanism);
                    (
                        name,
                        live,
                        simulated(&scenario),
                        outcome.verdict.diagnosis.clone(),
                    )
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    for (name, live, simulated, diagnosis) in &results {
        assert_eq!(
            live, simulated,
            "{name}: exec verdict {live:?}, simulated {simulated:?}; exec diagnosis: {diagnosis:?}"
        );
    }
    // Both ways: the catalogue has cases where the example recovers and where it does not.
    assert!(results.iter().any(|r| r.1.0) && results.iter().any(|r| !r.1.0));
}
