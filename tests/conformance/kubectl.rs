//! kubectl against both servers: `kubectl get configmaps --watch --output-watch-events` while
//! an object is updated and another deleted. Compared: the rows it prints (the AGE column
//! dropped) and the requests it makes to the resource, read from its own `-v=6` log (its
//! discovery requests are left out: the simulation serves one resource and no aggregated
//! discovery, see `discovery-*`).

use std::process::Stdio;
use std::time::Duration;

use kube_watch_harness::anchor::ControlPlane;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::case::{Case, Object};
use crate::normalize::Revisions;
use crate::target::{Op, Target};

/// The case's name.
pub(crate) const NAME: &str = "kubectl-get-watch";

/// The case kubectl's comparison writes as.
pub(crate) fn case() -> Case {
    serde_saphyr::from_str::<Case>(
        "name: kubectl-get-watch\n\
         about: >-\n  kubectl get configmaps --watch --output-watch-events (Tables on LIST and WATCH)\n  while an object is updated and another deleted: the rows it prints and its requests.\n\
         steps: []\n",
    )
    .expect("the kubectl case parses")
    .named(NAME)
}

fn object(name: &str, value: &str) -> Object {
    Object {
        name: name.into(),
        labels: None,
        body: serde_json::from_value(json!({ "data": { "k": value } })).expect("an object"),
    }
}

/// Plays the script on the real server (`plane`) or the simulation (`None`).
pub(crate) async fn play(plane: Option<&ControlPlane>) -> anyhow::Result<Vec<Value>> {
    let case = case();
    let dir = std::env::temp_dir().join(format!(
        "kwh-conformance-kubectl-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir)?;
    let played = async {
        let (target, kubeconfig) = match plane {
            Some(plane) => (
                Target::real(plane, &case).await?,
                plane.kubeconfig_path().to_owned(),
            ),
            None => {
                let target = Target::sim(&case).await?;
                let Target::Sim { live, .. } = &target else {
                    unreachable!("a simulation")
                };
                let path = dir.join("kubeconfig");
                live.write_kubeconfig(&path)?;
                (target, path)
            }
        };
        script(&target, &case, &kubeconfig).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    played
}

async fn script(
    target: &Target<'_>,
    case: &Case,
    kubeconfig: &std::path::Path,
) -> anyhow::Result<Vec<Value>> {
    let mut revisions = Revisions::default();
    for name in ["a", "b"] {
        revisions.writes.push(
            target
                .write(case, Op::Create, &object(name, "1"), None)
                .await?,
        );
    }
    let mut command = tokio::process::Command::new("kubectl");
    // NB: under the process-wide reaper: a killed test run leaves no kubectl behind.
    if let Some(reaper) = kube_watch_harness::reaper::Reaper::process_wide() {
        command.process_group(reaper.group());
    }
    let mut kubectl = command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-v=6", "get", "configmaps", "-n", &case.namespace()])
        .args(["--watch", "--output-watch-events"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stderr = kubectl.stderr.take().expect("piped");
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(kubectl.stdout.take().expect("piped")).lines();
    let mut rows = Vec::new();
    let mut read = async |rows: &mut Vec<String>, until: usize| -> anyhow::Result<()> {
        while rows.len() < until {
            let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                .await
                .map_err(|_| anyhow::anyhow!("kubectl printed {} rows in 20 s", rows.len()))??
                .ok_or_else(|| anyhow::anyhow!("kubectl ended after {} rows", rows.len()))?;
            rows.push(line);
        }
        Ok(())
    };
    // The header and the two objects.
    read(&mut rows, 3).await?;
    revisions.writes.push(
        target
            .write(case, Op::Update, &object("a", "2"), None)
            .await?,
    );
    revisions.writes.push(
        target
            .write(case, Op::Delete, &object("b", "1"), None)
            .await?,
    );
    read(&mut rows, 5).await?;
    let _ = kubectl.start_kill();
    let _ = kubectl.wait().await;
    let log = log.await.unwrap_or_default();
    let printed: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut cells: Vec<&str> = row.split_whitespace().collect();
            // AGE is the last column: the server's clock and kubectl's.
            cells.pop();
            Value::String(cells.join(" "))
        })
        .collect();
    Ok(vec![
        json!({ "step": "printed", "rows": printed }),
        json!({ "step": "requests", "requests": requests(&log, &revisions) }),
    ])
}

/// The requests to the resource in kubectl's `-v=6` log (`GET https://HOST/PATH?QUERY 200 OK
/// in 2 milliseconds`), with resourceVersions named.
fn requests(log: &str, revisions: &Revisions) -> Vec<Value> {
    log.lines()
        .filter_map(|line| {
            let rest = &line[line.find("] ")? + 2..];
            let mut words = rest.split_whitespace();
            let method = words.next()?;
            let url = words.next()?;
            let status = words.next().unwrap_or("");
            let path_and_query = &url[url.find("://")? + 3..];
            let path_and_query = &path_and_query[path_and_query.find('/')?..];
            let (path, query) = path_and_query
                .split_once('?')
                .unwrap_or((path_and_query, ""));
            if !path.ends_with("/configmaps") {
                return None;
            }
            let query = crate::normalize::query(query, revisions);
            Some(json!({ "method": method, "path": path, "query": query, "status": status }))
        })
        .collect()
}
