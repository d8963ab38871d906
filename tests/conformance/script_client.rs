//! Clients in other languages against both servers, each the library's own informer run by a
//! small script in `tests/conformance/clients/`: the Python client's `SharedInformer` and the
//! JavaScript client's `makeInformer`. A script prints what its client sends (recorded on the
//! wire, inside its process) and what the informer tells its handlers, one JSON object a line;
//! the suite plays the same script as for kube-rs (`clients.rs`) and compares the same things.
//!
//! `ci/clients` installs both at pinned versions (`requirements.txt`, `package-lock.json`).
//! Where one is not installed, its case is ignored, saying so; under `KWH_REQUIRE_TOOLS` that
//! fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::case::Case;
use crate::clients::{Sent, Watched};
use crate::target::Target;

/// A client library's informer, as a script.
pub(crate) struct ScriptClient {
    /// The case's name.
    pub(crate) name: &'static str,
    about: &'static str,
    /// The interpreter: a path relative to the crate's root, or a command on PATH.
    program: &'static str,
    /// The script, relative to the crate's root.
    script: &'static str,
    /// What proves the library importable: run with `program` in the script's directory.
    probe: &'static [&'static str],
}

/// The Python client (`kubernetes` on PyPI) in the virtualenv `ci/clients` makes.
pub(crate) const PYTHON: ScriptClient = ScriptClient {
    name: "python-informer-events-watch-outlives-compaction",
    about: "The Python client's SharedInformer on Events: its resume point goes stale, etcd compacts, the apiserver restarts; it gets etcd's 410 and relists.",
    program: "target/clients/python/bin/python",
    script: "tests/conformance/clients/python/informer.py",
    probe: &["-c", "import kubernetes.informer"],
};

/// The JavaScript client (`@kubernetes/client-node` on npm), installed beside its script.
pub(crate) const JAVASCRIPT: ScriptClient = ScriptClient {
    name: "javascript-informer-events-watch-outlives-compaction",
    about: "The JavaScript client's informer (makeInformer) on Events: its resume point goes stale, etcd compacts, the apiserver restarts; it gets etcd's 410 and relists.",
    program: "node",
    script: "tests/conformance/clients/javascript/informer.mjs",
    probe: &[
        "--input-type=module",
        "-e",
        "await import('@kubernetes/client-node')",
    ],
};

/// Every client run as a script.
pub(crate) const ALL: [&ScriptClient; 2] = [&PYTHON, &JAVASCRIPT];

/// One line a script prints.
#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Request { request: Sent },
    Event { event: String, name: String },
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl ScriptClient {
    /// The case the comparison writes as.
    pub(crate) fn case(&self) -> Case {
        serde_saphyr::from_str::<Case>(&format!(
            "name: {}\nabout: {:?}\nresource: events\nsteps: []\n",
            self.name, self.about
        ))
        .expect("a script client's case parses")
    }

    fn program(&self) -> PathBuf {
        if self.program.contains('/') {
            root().join(self.program)
        } else {
            PathBuf::from(self.program)
        }
    }

    fn script(&self) -> PathBuf {
        root().join(self.script)
    }

    /// Whether the client is installed; the error says what is missing and how to install it.
    pub(crate) fn installed(&self) -> Result<(), String> {
        let dir = self.script();
        let dir = dir.parent().expect("a script is in a directory");
        let probe = std::process::Command::new(self.program())
            .args(self.probe)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match probe {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "{}: {} cannot load its client library (run ci/clients): {}",
                self.name,
                self.program,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )),
            Err(e) => Err(format!(
                "{}: {} is not installed (run ci/clients): {e}",
                self.name, self.program
            )),
        }
    }

    /// Starts the client on `target`'s resource in `case`'s namespace; what it prints goes to
    /// `seen`.
    pub(crate) async fn start(
        &self,
        target: &Target<'_>,
        case: &Case,
        seen: &Watched,
    ) -> anyhow::Result<Process> {
        let dir = std::env::temp_dir().join(format!(
            "kwh-conformance-{}-{}-{:x}",
            self.name,
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir)?;
        let kubeconfig = match target {
            Target::Real { plane, .. } => plane.kubeconfig_path().to_owned(),
            Target::Sim { live, .. } => {
                let path = dir.join("kubeconfig");
                live.write_kubeconfig(&path)?;
                path
            }
        };
        let script = self.script();
        let mut command = Command::new(self.program());
        // NB: under the process-wide reaper: a killed test run leaves no client behind.
        if let Some(reaper) = kube_watch_harness::reaper::Reaper::process_wide() {
            command.process_group(reaper.group());
        }
        let mut child = command
            .arg(&script)
            .arg(&kubeconfig)
            .arg(case.namespace())
            .current_dir(script.parent().expect("a script is in a directory"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("{}: {}: {e}", self.name, self.program))?;
        let mut stderr = child.stderr.take().expect("piped");
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let seen = std::sync::Arc::clone(seen);
        let reader = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(line) = serde_json::from_str::<Line>(&line) else {
                    continue;
                };
                seen.send_modify(|seen| match line {
                    Line::Request { request } => {
                        seen.lists += usize::from(request.is_list());
                        seen.log.push(request);
                    }
                    Line::Event { event, name } if event == "DELETED" => {
                        seen.store.remove(&name);
                    }
                    Line::Event { name, .. } => {
                        seen.store.insert(name);
                    }
                });
            }
        });
        Ok(Process {
            child,
            dir,
            errors,
            reader,
        })
    }
}

/// A running client script.
pub(crate) struct Process {
    child: Child,
    dir: PathBuf,
    errors: tokio::task::JoinHandle<String>,
    reader: tokio::task::JoinHandle<()>,
}

impl Process {
    /// Stops the script and removes its directory; the last lines it wrote on stderr.
    pub(crate) async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = self.reader.await;
        let _ = std::fs::remove_dir_all(&self.dir);
        let errors = self.errors.await.unwrap_or_default();
        let tail: Vec<&str> = errors.lines().rev().take(20).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}
