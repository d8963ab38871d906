//! The same client against both servers: kube-rs' `watcher` with kube's own defaults
//! (`watcher::Config::default()`, `default_backoff()`, a reflector) on Events, through a
//! client-side layer that records every request it sends and how it was answered. The script is
//! idle-expire's mechanism as a real cluster plays it: the watcher's resume point goes stale
//! while other namespaces are written, etcd compacts, and the apiserver restarts; the watcher
//! resumes from its stale resourceVersion, gets etcd's 410, and relists.
//!
//! What is compared: the requests in order (normalized as the cases are; repeated refusals of a
//! connection folded into one entry), how many times the watcher listed, and its final store.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use http::{Request, Response};
use k8s_openapi::api::core::v1::Event;
use kube::client::{Body, ClientBuilder};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, ResourceExt};
use kube_watch_harness::anchor::ControlPlane;
use kube_watch_harness::fault::{Fault, Restart};
use serde_json::{Value, json};

use crate::case::{Case, Object};
use crate::normalize::{self, Revisions};
use crate::target::{Op, Target};

/// One request as the client saw it.
#[derive(Debug, Clone)]
struct Sent {
    method: String,
    path: String,
    query: String,
    /// The status, or `refused` when no answer came (connection refused or reset).
    answer: String,
}

/// Records what goes through it.
#[derive(Clone)]
struct Recorder<S> {
    inner: S,
    log: Arc<Mutex<Vec<Sent>>>,
}

impl<S, B> tower::Service<Request<Body>> for Recorder<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<B>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or("").to_owned();
        let log = Arc::clone(&self.log);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            let answer = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(_) => "refused".to_owned(),
            };
            log.lock().expect("log lock").push(Sent {
                method,
                path,
                query,
                answer,
            });
            result
        })
    }
}

/// What the watcher did on one server.
pub(crate) struct Run {
    pub(crate) requests: Vec<Value>,
    pub(crate) lists: usize,
    pub(crate) store: Vec<String>,
}

impl Run {
    /// The whole of it, as the cases' transcripts are.
    pub(crate) fn transcript(&self) -> Vec<Value> {
        vec![
            json!({ "step": "requests", "requests": self.requests }),
            json!({ "step": "lists", "lists": self.lists }),
            json!({ "step": "final store", "store": self.store }),
        ]
    }
}

/// The case's name.
pub(crate) const NAME: &str = "kube-rs-events-watch-outlives-compaction";

/// The case the comparison writes as: its namespace and resource.
pub(crate) fn case() -> Case {
    serde_saphyr::from_str::<Case>(
        "name: kube-rs-events-watch-outlives-compaction\n\
         about: >-\n  kube-rs' watcher with kube's defaults on Events: its resume point goes stale, etcd\n  compacts, the apiserver restarts; it gets etcd's 410 and relists.\n\
         resource: events\nsteps: []\n",
    )
    .expect("the client case parses")
    .named(NAME)
}

fn event(name: &str) -> Object {
    let body = json!({
        "involvedObject": { "kind": "Pod", "name": "p", "namespace": "{ns}" },
        "reason": "Started", "message": name, "type": "Normal", "source": {},
        "firstTimestamp": null, "lastTimestamp": null, "eventTime": null,
        "reportingComponent": "", "reportingInstance": "",
    });
    Object {
        name: name.into(),
        labels: None,
        body: serde_json::from_value(body).expect("an object"),
    }
}

/// Waits for `what`, or fails naming it.
async fn until(what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let wait = async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .map_err(|_| anyhow::anyhow!("the watcher never {what} (60 s)"))
}

/// Plays the script on the real server (`plane`) or the simulation (`None`).
pub(crate) async fn play(plane: Option<&ControlPlane>) -> anyhow::Result<Run> {
    let case = case();
    let mut revisions = Revisions::default();
    let (config, target) = match plane {
        Some(plane) => (
            plane.kube_config().await?,
            Target::real(plane, &case).await?,
        ),
        None => {
            let target = Target::sim(&case).await?;
            let Target::Sim { live, .. } = &target else {
                unreachable!("a simulation")
            };
            (live.kube_config().await?, target)
        }
    };
    let mut config = config;
    config.default_retry = true;
    let log = Arc::new(Mutex::new(Vec::new()));
    let recording = Arc::clone(&log);
    let client = ClientBuilder::try_from(config)?
        .with_layer(&tower::layer::layer_fn(move |inner| Recorder {
            inner,
            log: Arc::clone(&recording),
        }))
        .build();
    for name in ["e1", "e2"] {
        revisions
            .writes
            .push(target.write(&case, Op::Create, &event(name), None).await?);
    }
    let (reader, writer) = reflector::store::<Event>();
    let lists = Arc::new(Mutex::new(0_usize));
    let counted = Arc::clone(&lists);
    let api: Api<Event> = Api::namespaced(client, &case.namespace());
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    let watching = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::InitDone) = event {
                *counted.lock().expect("count lock") += 1;
            }
        }
    });
    let has = |name: &'static str| {
        let reader = reader.clone();
        move || reader.state().iter().any(|e| e.name_any() == name)
    };
    until("listed", || *lists.lock().expect("count lock") >= 1).await?;
    revisions
        .writes
        .push(target.write(&case, Op::Create, &event("e3"), None).await?);
    until("saw e3", has("e3")).await?;
    // Other namespaces are written: the revision moves on, the watcher's resume point does
    // not (Events have no watch cache, so no bookmarks either).
    churn(&target, &case).await?;
    target.compact().await?;
    match plane {
        Some(plane) => plane.restart_apiserver().await?,
        None => {
            let Target::Sim { live, .. } = &target else {
                unreachable!("a simulation")
            };
            live.server().inject(&Fault::Restart {
                restart: Restart::Keep,
                down: Fault::RESTART_DOWN,
            });
        }
    }
    until("listed again", || *lists.lock().expect("count lock") >= 2).await?;
    let lists = *lists.lock().expect("count lock");
    watching.abort();
    let mut store: Vec<String> = reader.state().iter().map(|e| e.name_any()).collect();
    store.sort();
    let sent = log.lock().expect("log lock").clone();
    Ok(Run {
        requests: normalized(&sent, &revisions),
        lists,
        store,
    })
}

/// Writes to another namespace of the same resource, three times.
async fn churn(target: &Target<'_>, case: &Case) -> anyhow::Result<()> {
    match target {
        Target::Sim { live, .. } => {
            for _ in 0..3 {
                live.server().churn();
            }
        }
        Target::Real { plane, .. } => {
            let mut other = case.clone();
            other.name = format!("{}-churn", case.name);
            let real = Target::real(plane, &other).await?;
            for i in 0..3 {
                real.write(&other, Op::Create, &event(&format!("c{i}")), None)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The requests, each as `METHOD path?query → answer` with resourceVersions named, and a run
/// of refused connections folded into one.
fn normalized(sent: &[Sent], revisions: &Revisions) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for s in sent {
        let query = normalize::query(&s.query, revisions);
        let entry = json!({
            "method": s.method,
            "path": s.path,
            "query": query,
            "answer": s.answer,
        });
        if s.answer == "refused" && out.last() == Some(&entry) {
            continue;
        }
        out.push(normalize::json(&entry, revisions));
    }
    out
}
