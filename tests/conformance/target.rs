//! The two servers a case runs against: the real control plane and the simulation, behind one
//! set of operations (write, compact, revision, send).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Request, Response};
use http_body_util::BodyExt;
use kube::client::Body;
use kube_watch_harness::anchor::ControlPlane;
use kube_watch_harness::fault::{Fault, Restart};
use kube_watch_harness::live::{LiveOptions, LiveServer};
use kube_watch_harness::scenario::{ObjectSpec, Scenario, Write};

use crate::case::{Case, Object};

/// Where a case runs.
pub(crate) enum Target<'a> {
    /// The real kube-apiserver.
    Real {
        /// The control plane.
        plane: &'a ControlPlane,
        /// A client to it, retries off.
        client: kube::Client,
    },
    /// `harness serve`'s server for the case's resource, on loopback with the wall clock.
    Sim {
        /// The server.
        live: LiveServer,
        /// A client to it.
        client: kube::Client,
    },
}

/// The kind, version and group of each resource a case may name.
pub(crate) fn kind_of(resource: &str) -> (&'static str, &'static str) {
    match resource {
        "events" => ("Event", "v1"),
        "pods" => ("Pod", "v1"),
        _ => ("ConfigMap", "v1"),
    }
}

impl<'a> Target<'a> {
    /// The real server, with the case's namespace created.
    pub(crate) async fn real(plane: &'a ControlPlane, case: &Case) -> anyhow::Result<Self> {
        let mut config = plane.kube_config().await?;
        config.read_timeout = None;
        let client = kube::Client::try_from(config)?;
        let namespace = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": case.namespace() },
        });
        let request = Request::post("/api/v1/namespaces")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&namespace)?)?;
        let response = client.send(request.map(Body::from)).await?;
        anyhow::ensure!(
            response.status().is_success(),
            "creating namespace {} answered {}",
            case.namespace(),
            response.status()
        );
        Ok(Self::Real { plane, client })
    }

    /// A fresh simulated server for the case's resource.
    pub(crate) async fn sim(case: &Case) -> anyhow::Result<Self> {
        let (kind, version) = kind_of(&case.resource);
        let yaml = format!(
            "name: conformance-{name}\nduration: 24h\n\
             resource: {{ version: {version}, kind: {kind}, plural: {plural} }}\n\
             server: {{ watch_cache: {cached} }}\n\
             watchers: [{{ name: none }}]\nexpect: {{ deadline: 1m, recover: [none] }}\n",
            name = case.name,
            plural = case.resource,
            cached = case.cached(),
        );
        let scenario = Scenario::from_yaml(&yaml)?;
        let live = LiveServer::start(&scenario, &LiveOptions::default()).await?;
        let mut config = live.kube_config().await?;
        config.default_retry = false;
        config.read_timeout = None;
        let client = kube::Client::try_from(config)?;
        Ok(Self::Sim { live, client })
    }

    /// Sends one request as it is.
    pub(crate) async fn send(&self, request: Request<Vec<u8>>) -> anyhow::Result<Response<Body>> {
        let client = match self {
            Self::Real { client, .. } | Self::Sim { client, .. } => client,
        };
        Ok(client.send(request.map(Body::from)).await?)
    }

    /// The server's current revision.
    pub(crate) async fn revision(&self) -> anyhow::Result<u64> {
        match self {
            Self::Real { plane, .. } => Ok(plane.revision().await?),
            Self::Sim { live, .. } => Ok(live.server().revision()),
        }
    }

    /// Compacts history below the current revision.
    pub(crate) async fn compact(&self) -> anyhow::Result<()> {
        match self {
            Self::Real { plane, .. } => {
                plane.compact().await?;
            }
            Self::Sim { live, .. } => {
                let server = live.server();
                server.compact_to(server.revision());
            }
        }
        Ok(())
    }

    /// Restarts the apiserver: the real one stops and starts again (and is waited for); the
    /// simulation plays its `restart` fault with the clock kept.
    pub(crate) async fn restart(&self) -> anyhow::Result<()> {
        match self {
            Self::Real { plane, .. } => plane.restart_apiserver().await?,
            Self::Sim { live, .. } => {
                // The fixture's SIGTERM: the process exits at once when no watch is open,
                // else it is killed after the grace (`anchor::STOP_GRACE`); either way the
                // steps go on once it serves again.
                live.server().inject(&Fault::Restart {
                    restart: Restart::Keep,
                    down: Fault::RESTART_DOWN,
                    drain: std::time::Duration::ZERO,
                });
                // As the real one is waited for until it is ready.
                live.server().up().await;
            }
        }
        Ok(())
    }

    /// Creates, updates (merge patch; labels replaced as given) or deletes an object, and
    /// returns the revision of the write.
    pub(crate) async fn write(
        &self,
        case: &Case,
        op: Op,
        object: &Object,
        labels_before: Option<&BTreeMap<String, String>>,
    ) -> anyhow::Result<u64> {
        let namespace = case.namespace();
        let mut object = object.clone();
        for value in object.body.values_mut() {
            fill_namespace(value, &namespace);
        }
        let object = &object;
        match self {
            Self::Sim { live, .. } => {
                let write = match op {
                    Op::Create => Write::Create(ObjectSpec {
                        name: object.name.clone(),
                        namespace: Some(namespace),
                        labels: object.labels.clone().unwrap_or_default(),
                        body: Arc::new(object.body.clone()),
                    }),
                    Op::Update => Write::Update {
                        name: object.name.clone(),
                        namespace: Some(namespace),
                        labels: object.labels.clone(),
                        body: object.body.clone(),
                    },
                    Op::Delete => Write::Delete {
                        name: object.name.clone(),
                        namespace: Some(namespace),
                    },
                };
                live.server().write(&write);
                Ok(live.server().revision())
            }
            Self::Real { plane, .. } => {
                let (kind, version) = kind_of(&case.resource);
                let collection = format!("/api/{version}/namespaces/{namespace}/{}", case.resource);
                let request = match op {
                    Op::Create => {
                        let mut body = serde_json::Map::new();
                        body.insert("apiVersion".into(), version.into());
                        body.insert("kind".into(), kind.into());
                        body.insert(
                            "metadata".into(),
                            serde_json::json!({
                                "name": object.name,
                                "labels": object.labels.clone().unwrap_or_default(),
                            }),
                        );
                        for (k, v) in &object.body {
                            body.insert(k.clone(), v.clone());
                        }
                        Request::post(collection)
                            .header("content-type", "application/json")
                            .body(serde_json::to_vec(&body)?)?
                    }
                    Op::Update => {
                        let mut patch = serde_json::Map::new();
                        if let Some(labels) = &object.labels {
                            // A merge patch merges labels key by key: remove the ones that go.
                            let mut merged = serde_json::Map::new();
                            for old in labels_before.into_iter().flat_map(|l| l.keys()) {
                                merged.insert(old.clone(), serde_json::Value::Null);
                            }
                            for (k, v) in labels {
                                merged.insert(k.clone(), v.clone().into());
                            }
                            patch
                                .insert("metadata".into(), serde_json::json!({ "labels": merged }));
                        }
                        for (k, v) in &object.body {
                            patch.insert(k.clone(), v.clone());
                        }
                        Request::patch(format!("{collection}/{}", object.name))
                            .header("content-type", "application/merge-patch+json")
                            .body(serde_json::to_vec(&patch)?)?
                    }
                    Op::Delete => {
                        Request::delete(format!("{collection}/{}", object.name)).body(Vec::new())?
                    }
                };
                let response = self.send(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                anyhow::ensure!(
                    status.is_success(),
                    "{op:?} {} answered {status}: {}",
                    object.name,
                    String::from_utf8_lossy(&bytes)
                );
                // A create or update answers the object at its new revision. A delete answers a
                // Status, so its revision is etcd's right after: nothing else writes between
                // (no controllers run, no identity lease, and the fixture waited for the
                // bootstrap writes to settle).
                let written = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["metadata"]["resourceVersion"].as_str()?.parse().ok());
                match (op, written) {
                    (Op::Create | Op::Update, Some(rv)) => Ok(rv),
                    _ => Ok(plane.revision().await?),
                }
            }
        }
    }
}

/// A write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// POST.
    Create,
    /// PATCH (merge).
    Update,
    /// DELETE.
    Delete,
}

/// `{ns}` in a body's strings is the case's namespace (an Event's `involvedObject.namespace`
/// must be its own).
fn fill_namespace(value: &mut serde_json::Value, namespace: &str) {
    match value {
        serde_json::Value::String(s) if s.contains("{ns}") => *s = s.replace("{ns}", namespace),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| fill_namespace(v, namespace));
        }
        serde_json::Value::Object(map) => {
            map.values_mut().for_each(|v| fill_namespace(v, namespace));
        }
        _ => {}
    }
}
