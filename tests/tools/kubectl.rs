//! An independent real client: `kubectl get --watch` against `harness serve`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::reaped::Reaped;
use std::sync::mpsc;
use std::time::Duration;

/// Outer bound on every wait: generous for a loaded machine, and a hang fails instead of
/// hanging the test run.
const PATIENCE: Duration = Duration::from_secs(60);

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kwh-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    dir
}

/// Runs `command` to its end, or kills it after [`PATIENCE`].
fn output_within_patience(mut command: Command) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(output) => output.expect("kubectl's output is readable"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("kubectl did not exit within {PATIENCE:?}");
        }
    }
}

pub(crate) fn lists_watches_and_shows_the_injected_410_from_harness_serve() {
    let dir = scratch_dir("kubectl");
    let kubeconfig = dir.join("kubeconfig");
    let mut serve = Reaped::spawn(
        Command::new(env!("CARGO_BIN_EXE_harness"))
            .args([
                "serve",
                "tests/scenarios/kubectl-watch.yaml",
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    )
    .expect("the harness binary runs");
    let stdout = serve.child.stdout.take().expect("stdout is piped");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let announced = loop {
        let line = lines
            .recv_timeout(PATIENCE)
            .expect("harness serve announces its kubeconfig");
        if let Some(path) = line.strip_prefix("kubeconfig: ") {
            break PathBuf::from(path);
        }
    };
    assert_eq!(announced, kubeconfig, "serve writes where it was told");

    let mut kubectl = Command::new("kubectl");
    kubectl
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args([
            "get",
            "configmaps",
            "-A",
            "--watch",
            "--output-watch-events",
        ]);
    let output = output_within_patience(kubectl);
    let shown = String::from_utf8_lossy(&output.stdout);
    let said = String::from_utf8_lossy(&output.stderr);
    let context = format!("kubectl stdout:\n{shown}\nkubectl stderr:\n{said}");
    assert!(
        output.status.success(),
        "kubectl exits 0 after an ERROR event\n{context}"
    );
    for object in ["app-config", "db-config"] {
        assert!(shown.contains(object), "kubectl lists {object}\n{context}");
    }
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("MODIFIED") && l.contains("app-config")),
        "kubectl prints the updates it watched\n{context}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("ERROR") && l.contains("Expired")),
        "kubectl prints the injected 410 Expired\n{context}"
    );

    // Ctrl-C ends serve with a summary of what kubectl asked.
    let interrupted = Command::new("kill")
        .args(["-INT", &serve.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let mut rest = Vec::new();
    while let Ok(line) = lines.recv_timeout(PATIENCE) {
        rest.push(line);
    }
    let summary = rest
        .iter()
        .skip_while(|l| !(l.starts_with("interrupted at") || l.starts_with("timeline ended at")))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !summary.is_empty(),
        "serve prints a summary on exit:\n{}",
        rest.join("\n")
    );
    assert!(summary.contains("watch"), "{summary}");
    assert!(summary.contains("ERROR 410 Expired"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}
