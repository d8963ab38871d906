//! The same client against both servers: kube-rs' `watcher` with kube's own defaults
//! (`watcher::Config::default()`, `default_backoff()`, a reflector) on Events, through a
//! client-side layer that records every request it sends and how it was answered. The script is
//! idle-expire's mechanism as a real cluster plays it: the watcher's resume point goes stale
//! while other namespaces are written, etcd compacts, and the apiserver restarts; the watcher
//! resumes from its stale resourceVersion, gets etcd's 410, and relists.
//!
//! What is compared: the requests in order (normalized as the cases are; repeated refusals of a
//! connection folded into one entry), how many times the watcher listed, and its final store.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use http::{Request, Response};
use k8s_openapi::api::core::v1::Event;
use kube::client::{Body, ClientBuilder};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, ResourceExt};
use kube_watch_harness::anchor::{self, ControlPlane};
use kube_watch_harness::fault::{Fault, Restart};
use serde_json::{Value, json};

use crate::case::{Case, Object};
use crate::normalize::{self, Revisions};
use crate::script_client::{self, ScriptClient};
use crate::target::{Op, Target};

/// One request as the client sent it.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Sent {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// The status, or `refused` when no answer came (connection refused or reset).
    pub(crate) answer: String,
}

impl Sent {
    /// A watch the server answered 200: the client is watching.
    fn is_open_watch(&self) -> bool {
        self.method == "GET" && self.answer == "200" && self.is_watch()
    }

    /// A LIST the server answered 200.
    pub(crate) fn is_list(&self) -> bool {
        self.method == "GET" && self.answer == "200" && !self.is_watch()
    }

    /// `watch=true`, or Python's `watch=True`.
    fn is_watch(&self) -> bool {
        self.query.to_ascii_lowercase().contains("watch=true")
    }
}

/// Records what goes through it.
#[derive(Clone)]
struct Recorder<S> {
    inner: S,
    seen: Watched,
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
        let seen = Arc::clone(&self.seen);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            let answer = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(_) => "refused".to_owned(),
            };
            seen.send_modify(|seen| {
                seen.log.push(Sent {
                    method,
                    path,
                    query,
                    answer,
                });
            });
            result
        })
    }
}

/// What a client did on one server.
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

/// What the suite sees of a client while the script plays, filled in as it goes.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) log: Vec<Sent>,
    /// Complete LISTs (kube-rs: `InitDone`s; a script's client: LISTs answered 200).
    pub(crate) lists: usize,
    pub(crate) store: BTreeSet<String>,
}

/// Shared by the client's recorders and the script, which waits on each change.
pub(crate) type Watched = Arc<tokio::sync::watch::Sender<Seen>>;

/// The client under test.
pub(crate) enum Client<'a> {
    /// kube-rs' `watcher` with kube's defaults, in this process.
    KubeRs,
    /// A client in another language, as a process (`script_client.rs`).
    Script(&'a ScriptClient),
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

/// Waits until `done` holds of what the client did, or fails naming `what`.
async fn until(seen: &Watched, what: &str, done: impl Fn(&Seen) -> bool) -> anyhow::Result<()> {
    let mut changes = seen.subscribe();
    // NB: the sender lives in `seen`, so waiting never errs.
    let wait = changes.wait_for(|seen| done(seen));
    match tokio::time::timeout(Duration::from_secs(60), wait).await {
        Ok(_) => Ok(()),
        Err(_) => Err(anyhow::anyhow!("the client never {what} (60 s)")),
    }
}

/// Plays the script with `client` on the real server (`plane`) or the simulation (`None`).
pub(crate) async fn play(
    plane: Option<&ControlPlane>,
    client: Client<'_>,
    case: &Case,
) -> anyhow::Result<Run> {
    let mut revisions = Revisions::default();
    let target = match plane {
        Some(plane) => Target::real(plane, case).await?,
        None => Target::sim(case).await?,
    };
    for name in ["e1", "e2"] {
        revisions
            .writes
            .push(target.write(case, Op::Create, &event(name), None).await?);
    }
    let seen: Watched = Arc::new(tokio::sync::watch::Sender::new(Seen::default()));
    let running = match client {
        Client::KubeRs => Running::Task(kube_rs(&target, case, &seen).await?),
        Client::Script(script) => Running::Process(script.start(&target, case, &seen).await?),
    };
    let played = script(plane, &target, case, &seen, &mut revisions).await;
    let failure = running.stop().await;
    played.map_err(|e| match failure {
        Some(output) => e.context(output),
        None => e,
    })?;
    let seen = seen.borrow();
    Ok(Run {
        requests: normalized(&seen.log, &revisions),
        lists: seen.lists,
        store: seen.store.iter().cloned().collect(),
    })
}

/// A client that is running.
enum Running {
    Task(tokio::task::JoinHandle<()>),
    Process(script_client::Process),
}

impl Running {
    /// Stops it; what a process printed on stderr, to explain a failure.
    async fn stop(self) -> Option<String> {
        match self {
            Self::Task(task) => {
                task.abort();
                None
            }
            Self::Process(process) => Some(process.stop().await),
        }
    }
}

/// kube-rs' watcher with kube's defaults and a reflector, recording into `seen`.
async fn kube_rs(
    target: &Target<'_>,
    case: &Case,
    seen: &Watched,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut config = match target {
        Target::Real { plane, .. } => plane.kube_config().await?,
        Target::Sim { live, .. } => live.kube_config().await?,
    };
    config.default_retry = true;
    let recording = Arc::clone(seen);
    let client = ClientBuilder::try_from(config)?
        .with_layer(&tower::layer::layer_fn(move |inner| Recorder {
            inner,
            seen: Arc::clone(&recording),
        }))
        .build();
    let (reader, writer) = reflector::store::<Event>();
    let api: Api<Event> = Api::namespaced(client, &case.namespace());
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    let seen = Arc::clone(seen);
    Ok(tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            seen.send_modify(|seen| {
                if let Ok(watcher::Event::InitDone) = event {
                    seen.lists += 1;
                }
                seen.store = reader.state().iter().map(|e| e.name_any()).collect();
            });
        }
    }))
}

/// idle-expire's mechanism as a real cluster plays it, once the client is running.
async fn script(
    plane: Option<&ControlPlane>,
    target: &Target<'_>,
    case: &Case,
    seen: &Watched,
    revisions: &mut Revisions,
) -> anyhow::Result<()> {
    until(seen, "listed", |s| s.lists >= 1).await?;
    revisions
        .writes
        .push(target.write(case, Op::Create, &event("e3"), None).await?);
    until(seen, "saw e3", |s| s.store.contains("e3")).await?;
    // Other namespaces are written: the revision moves on, the client's resume point does
    // not (Events have no watch cache, so no bookmarks either).
    churn(target, case).await?;
    target.compact().await?;
    match (plane, target) {
        (Some(plane), _) => plane.restart_apiserver().await?,
        // The fixture's restart: SIGTERM, and with the client's watch open the process lives
        // on until it is killed after the grace.
        (None, Target::Sim { live, .. }) => live.server().inject(&Fault::Restart {
            restart: Restart::Keep,
            down: Fault::RESTART_DOWN,
            drain: anchor::STOP_GRACE,
        }),
        (None, Target::Real { .. }) => unreachable!("a real target has a plane"),
    }
    // Its watch after the relist ends the script: stopping at the relist itself would race
    // the client's next request.
    until(seen, "watched again after its relist", |s| {
        s.lists >= 2 && s.log.last().is_some_and(Sent::is_open_watch)
    })
    .await
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
