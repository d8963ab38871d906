//! Every built-in scenario, each client judged on the simulation and through `harness proxy` in
//! front of the real kube-apiserver (the anchor control plane), side by side: the table in
//! README's "Real-cluster mode". The clients are the ones `harness exec` runs everywhere else:
//! kube-rs (`examples/view_client.rs`, kube's defaults), the client-go informer
//! (`clients/client-go`) and `kubectl get --watch`.
//!
//! ```sh
//! ci/anchor-build && ci/clients && cargo build --release --example view_client
//! cargo run --release --example side_by_side -- 20 side-by-side.md
//! ```
//!
//! The arguments: the speed both sides play at, the file the markdown table goes to (the
//! clients' own output, kubectl's rows among it, goes to stdout), and optionally the scenarios
//! to run (default: all). Runs go a few at a time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};
use kube_watch_harness::exec::{ExecOptions, exec};
use kube_watch_harness::proxy::ProxyOptions;
use kube_watch_harness::scenario::{Scenario, files_in};

/// Runs at once: each is a client process and, through the proxy, a proxy of its own.
const AT_ONCE: usize = 6;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [speed, out, only @ ..] = args.as_slice() else {
        anyhow::bail!("usage: side_by_side SPEED OUT.md [SCENARIO...]");
    };
    let speed: u32 = speed.parse()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let plane = runtime.block_on(ControlPlane::start(
        &Binaries::locate(root),
        ControlPlaneOptions::default(),
    ))?;
    let kubeconfig = plane.kubeconfig_path().to_owned();
    let etcd = plane.etcd_url().to_owned();
    let view_client = std::env::current_exe()?
        .parent()
        .expect("examples live in a directory")
        .join("view_client");
    let client_go = root.join("target/clients/client-go-informer");
    let mut jobs = Vec::new();
    for path in files_in(root.join("scenarios"))? {
        let scenario = Scenario::load(&path)?;
        if !only.is_empty() && !only.contains(&scenario.name) {
            continue;
        }
        let spec = &scenario.resource;
        let resource = [spec.api_version(), spec.kind.clone(), spec.plural.clone()];
        let clients: [(&str, Vec<String>); 3] = [
            (
                "kube-rs",
                [view_client.display().to_string()]
                    .into_iter()
                    .chain(resource.clone())
                    .collect(),
            ),
            (
                "client-go",
                [client_go.display().to_string()]
                    .into_iter()
                    .chain(resource.clone())
                    .collect(),
            ),
            (
                "kubectl",
                ["kubectl", "get", spec.plural.as_str(), "-A", "--watch"]
                    .map(String::from)
                    .to_vec(),
            ),
        ];
        for (client, command) in clients {
            for real in [false, true] {
                jobs.push((
                    path.clone(),
                    scenario.clone(),
                    client,
                    command.clone(),
                    real,
                ));
            }
        }
    }
    let results: Mutex<Vec<(String, &str, bool, String)>> = Mutex::new(Vec::new());
    let queue = Mutex::new(jobs.into_iter());
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE {
            s.spawn(|| {
                loop {
                    // NB: a statement of its own, so that the lock is not held while it runs.
                    let next = queue.lock().expect("no panic").next();
                    let Some((path, scenario, client, command, real)) = next else {
                        break;
                    };
                    let words =
                        verdict(&path, &scenario, &command, real, speed, &kubeconfig, &etcd);
                    eprintln!(
                        "{} {client} {}: {words}",
                        scenario.name,
                        if real { "real" } else { "simulated" }
                    );
                    results.lock().expect("no panic").push((
                        scenario.name.clone(),
                        client,
                        real,
                        words,
                    ));
                }
            });
        }
    });
    let results = results.into_inner().expect("no panic");
    let mut table = String::from(
        "| scenario | client | simulated | through the proxy, real kube-apiserver |\n|---|---|---|---|\n",
    );
    let mut rows: Vec<(&String, &str)> = results.iter().map(|(s, c, _, _)| (s, *c)).collect();
    rows.sort_by_key(|(s, c)| {
        (
            (*s).clone(),
            ["kube-rs", "client-go", "kubectl"]
                .iter()
                .position(|x| x == c),
        )
    });
    rows.dedup();
    for (scenario, client) in rows {
        let side = |real: bool| {
            results
                .iter()
                .find(|(s, c, r, _)| s == scenario && *c == client && *r == real)
                .map_or("-", |(_, _, _, w)| w.as_str())
        };
        table.push_str(&format!(
            "| {scenario} | {client} | {} | {} |\n",
            side(false),
            side(true)
        ));
    }
    std::fs::write(out, table)?;
    drop(plane);
    Ok(())
}

/// One client's verdict in a few words.
fn verdict(
    path: &Path,
    scenario: &Scenario,
    command: &[String],
    real: bool,
    speed: u32,
    kubeconfig: &PathBuf,
    etcd: &str,
) -> String {
    let mut options = ExecOptions::default().speed(speed);
    if real {
        options = options.upstream(
            ProxyOptions::new(kubeconfig).etcd(Some(etcd.to_owned())),
            path,
        );
    }
    match exec(scenario, command, &options) {
        Ok(executed) => {
            let mut words: Vec<String> = executed
                .report
                .outcomes
                .iter()
                .map(|o| match o.verdict.mechanism {
                    _ if o.verdict.recovered => format!(
                        "recovered, {} relist{}",
                        o.verdict.figures.relists,
                        if o.verdict.figures.relists == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ),
                    Some(mechanism) => format!("NOT recovered: `{}`", mechanism.name()),
                    None => "NOT recovered".to_owned(),
                })
                .collect();
            words.dedup();
            let mut words = words.join("; ");
            if !executed.problems.is_empty() {
                words.push_str(&format!(" (upstream: {})", executed.problems.join("; ")));
            }
            words
        }
        Err(error) => {
            let error = format!("{error:#}");
            // Unplayable through a proxy: say which fault, in short.
            match error.split_once("\n  - ") {
                Some((_, first)) => format!(
                    "cannot be played through a proxy: {}",
                    first
                        .split_once(':')
                        .map_or(first, |(what, _)| what)
                        .trim_start_matches("timeline ")
                ),
                None => format!("error: {}", error.lines().next().unwrap_or_default()),
            }
        }
    }
}
