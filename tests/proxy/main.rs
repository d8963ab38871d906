//! Real-cluster mode against the real control plane: `harness proxy` in front of a real
//! kube-apiserver plays a scenario that cuts, stalls and answers one watch 410
//! (`tests/scenarios/proxy-cut-stall-410.yaml`), and kube-rs, kubectl and the client-go
//! informer run through it under `harness exec --upstream`. Each must get the verdict and
//! mechanism it gets under `harness exec` on the simulation. Afterwards no namespace the
//! proxy made is left.
//!
//! Needs the control plane (`ci/anchor-build`), kubectl on PATH and the client-go informer
//! (`ci/clients`): without one, its checks are reported as ignored, with the reason; with
//! `KWH_REQUIRE_TOOLS` set (`.ci/run` sets it), that fails instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};
use kube_watch_harness::exec::{ExecOptions, exec};
use kube_watch_harness::proxy::{ProxyOptions, RUN_LABEL};
use kube_watch_harness::scenario::Scenario;
use libtest_mimic::{Arguments, Failed, Trial};

/// Set on machines that must run every check.
const REQUIRE: &str = "KWH_REQUIRE_TOOLS";

const SCENARIO: &str = "tests/scenarios/proxy-cut-stall-410.yaml";

/// A client, and what it needs to run.
struct Client {
    name: &'static str,
    command: fn() -> Vec<String>,
    missing: fn() -> Option<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example_client() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps")
        .join("examples/view_client")
}

fn client_go_informer() -> PathBuf {
    root().join("target/clients/client-go-informer")
}

fn configmaps(program: PathBuf) -> Vec<String> {
    vec![
        program.display().to_string(),
        "v1".into(),
        "ConfigMap".into(),
        "configmaps".into(),
    ]
}

fn not_built(path: &Path, how: &str) -> Option<String> {
    (!path.is_file()).then(|| format!("{} is not built ({how})", path.display()))
}

const CLIENTS: &[Client] = &[
    Client {
        name: "kube-rs",
        command: || configmaps(example_client()),
        missing: || not_built(&example_client(), "cargo test builds the examples"),
    },
    Client {
        name: "kubectl",
        command: || {
            ["kubectl", "get", "configmaps", "-A", "--watch"]
                .map(String::from)
                .to_vec()
        },
        missing: || {
            let found = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("kubectl").is_file()));
            (!found).then(|| "kubectl is not on PATH".to_owned())
        },
    },
    Client {
        name: "client-go",
        command: || configmaps(client_go_informer()),
        missing: || not_built(&client_go_informer(), "ci/clients builds it, with Go 1.26"),
    },
];

/// A client's verdict in words, or why it could not be had.
type Verdict = Result<String, String>;

/// What one client got: recovered, and the mechanism, in words.
fn verdict_of(scenario: &Scenario, command: &[String], options: &ExecOptions) -> Verdict {
    let executed = exec(scenario, command, options).map_err(|e| format!("{e:#}"))?;
    if !executed.problems.is_empty() {
        return Err(format!(
            "problems upstream: {}",
            executed.problems.join("; ")
        ));
    }
    let words: Vec<String> = executed
        .report
        .outcomes
        .iter()
        .map(|o| {
            format!(
                "{}{}",
                if o.verdict.recovered {
                    "recovered"
                } else {
                    "NOT recovered"
                },
                o.verdict
                    .mechanism
                    .map_or(String::new(), |m| format!(" ({})", m.name()))
            )
        })
        .collect();
    let diagnosis: Vec<String> = executed
        .report
        .outcomes
        .iter()
        .filter_map(|o| o.verdict.diagnosis.clone())
        .collect();
    eprintln!(
        "  {}: {} — {}",
        command[0],
        words.join(", "),
        diagnosis.join(" | ")
    );
    Ok(words.join(", "))
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let binaries = Binaries::locate(root());
    let mut unavailable: Vec<(String, String)> = Vec::new();
    if let Err(missing) = binaries.check() {
        for client in CLIENTS {
            unavailable.push((
                client.name.to_owned(),
                format!("the real control plane is not built: {missing}"),
            ));
        }
    } else {
        for client in CLIENTS {
            if let Some(why) = (client.missing)() {
                unavailable.push((client.name.to_owned(), why));
            }
        }
    }
    if std::env::var_os(REQUIRE).is_some() && !unavailable.is_empty() {
        for (name, why) in &unavailable {
            eprintln!("proxy: {name}: {why}");
        }
        return ExitCode::FAILURE;
    }
    let mut trials: Vec<Trial> = unavailable
        .iter()
        .map(|(name, why)| {
            eprintln!("proxy: {name}: did not run: {why}");
            Trial::test(
                format!("{name}::gets_the_same_verdict_through_the_proxy_as_on_the_simulation"),
                || Ok(()),
            )
            .with_ignored_flag(true)
        })
        .collect();
    let runnable: Vec<&Client> = CLIENTS
        .iter()
        .filter(|c| !unavailable.iter().any(|(name, _)| name == c.name))
        .filter(|c| {
            args.filter.as_deref().is_none_or(|f| {
                c.name.contains(f)
                    || "gets_the_same_verdict_through_the_proxy_as_on_the_simulation".contains(f)
            })
        })
        .collect();
    if runnable.is_empty() {
        return libtest_mimic::run(&args, trials).exit_code();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let plane = match runtime.block_on(ControlPlane::start(
        &binaries,
        ControlPlaneOptions::default(),
    )) {
        Ok(plane) => plane,
        Err(e) => {
            eprintln!("proxy: the control plane did not start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let scenario = Scenario::load(root().join(SCENARIO)).expect("the scenario loads");
    let kubeconfig = plane.kubeconfig_path().to_owned();
    // Every client on both sides at once: each through a proxy of its own, with namespaces of
    // its own.
    let results: Vec<(&Client, Verdict, Verdict)> = std::thread::scope(|s| {
        let handles: Vec<_> = runnable
            .iter()
            .map(|client| {
                let command = (client.command)();
                let scenario = &scenario;
                let kubeconfig = &kubeconfig;
                let simulated = {
                    let command = command.clone();
                    s.spawn(move || verdict_of(scenario, &command, &ExecOptions::default()))
                };
                let real = s.spawn(move || {
                    verdict_of(
                        scenario,
                        &command,
                        &ExecOptions::default().upstream(ProxyOptions::new(kubeconfig), SCENARIO),
                    )
                });
                (*client, simulated, real)
            })
            .collect();
        handles
            .into_iter()
            .map(|(client, simulated, real)| {
                (
                    client,
                    simulated.join().unwrap_or_else(|_| Err("panicked".into())),
                    real.join().unwrap_or_else(|_| Err("panicked".into())),
                )
            })
            .collect()
    });
    for (client, simulated, real) in results {
        eprintln!(
            "proxy: {}: simulated {simulated:?}, real {real:?}",
            client.name
        );
        trials.push(Trial::test(
            format!(
                "{}::gets_the_same_verdict_through_the_proxy_as_on_the_simulation",
                client.name
            ),
            move || match (simulated, real) {
                (Ok(simulated), Ok(real)) if simulated == real => Ok(()),
                (Ok(simulated), Ok(real)) => Err(Failed::from(format!(
                    "simulated: {simulated}; through the proxy: {real}"
                ))),
                (Err(e), _) | (_, Err(e)) => Err(Failed::from(e)),
            },
        ));
    }
    let left = runtime.block_on(namespaces_left(&plane));
    trials.push(Trial::test(
        "proxy::leaves_no_namespace_of_its_own_behind",
        move || left.map_err(Failed::from),
    ));
    let conclusion = libtest_mimic::run(&args, trials);
    drop(plane);
    conclusion.exit_code()
}

/// The namespaces labelled as a run's that are not being deleted.
async fn namespaces_left(plane: &ControlPlane) -> Result<(), String> {
    let config = plane.kube_config().await.map_err(|e| e.to_string())?;
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
    let list = api
        .list(&kube::api::ListParams::default().labels(RUN_LABEL))
        .await
        .map_err(|e| e.to_string())?;
    let left: Vec<String> = list
        .items
        .iter()
        .filter(|ns| ns.metadata.deletion_timestamp.is_none())
        .filter_map(|ns| ns.metadata.name.clone())
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("left behind: {}", left.join(", ")))
    }
}
