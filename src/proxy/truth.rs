//! The truth behind the proxy: every write to the scenario's resource, in every namespace, as
//! the upstream apiserver reports it. The proxy's own writes are recorded from their answers
//! (the exact time and revision); a watch of its own, straight to the upstream and never
//! faulted, adds what anyone else wrote (a controller, the client under test); a LIST at the
//! end settles what that watch may have missed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use super::shared::Shared;
use crate::trace::TraceKind;

/// What the proxy knows of each object: its last revision, and whether it exists.
#[derive(Debug, Default)]
pub(super) struct Truth {
    known: Mutex<BTreeMap<String, (u64, bool)>>,
}

impl Truth {
    /// Records a write of `object` (an object as the apiserver serves it) once: a revision
    /// already recorded for its key, or an older one, is not a new write.
    pub(super) fn observe(&self, shared: &Shared, object: &Value, exists: bool) {
        self.observe_at(shared, object, exists, None);
    }

    /// As [`Truth::observe`], recorded at `at` (default: now).
    fn observe_at(&self, shared: &Shared, object: &Value, exists: bool, at: Option<Duration>) {
        let Some((key, revision)) = key_and_revision(object) else {
            return;
        };
        shared.saw_revision(revision);
        {
            let mut known = self.known.lock().expect("no lock holder panics");
            if known.get(&key).is_some_and(|(seen, was)| {
                *seen > revision || (*seen == revision && *was == exists)
            }) {
                return;
            }
            known.insert(key.clone(), (revision, exists));
        }
        let body: BTreeMap<String, Value> = object
            .as_object()
            .map(|o| o.clone().into_iter().collect())
            .unwrap_or_default();
        let labels: std::collections::BTreeMap<String, String> = object["metadata"]["labels"]
            .as_object()
            .map(|labels| {
                labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let resource = &shared.resource;
        let write = TraceKind::Write {
            key,
            labels: labels.into(),
            fields: crate::field_label::values(&resource.group, &resource.kind, &body).into(),
            resource_version: revision,
            exists,
        };
        match at {
            Some(at) => shared.recorder.record_at(at, write),
            None => shared.recorder.record(write),
        }
    }

    /// Objects known to exist now.
    fn existing(&self) -> Vec<String> {
        self.known
            .lock()
            .expect("no lock holder panics")
            .iter()
            .filter(|(_, (_, exists))| *exists)
            .map(|(key, _)| key.clone())
            .collect()
    }
}

/// `namespace/name` and `metadata.resourceVersion` of an object.
fn key_and_revision(object: &Value) -> Option<(String, u64)> {
    let metadata = &object["metadata"];
    let name = metadata["name"].as_str()?;
    let revision = metadata["resourceVersion"].as_str()?.parse().ok()?;
    let key = match metadata["namespace"].as_str() {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    };
    Some((key, revision))
}

/// The resource in every namespace: a client that watches them all is judged against them all,
/// and one that watches one namespace against that one (the verdict scopes the truth by the
/// client's own path).
fn api(shared: &Shared) -> Api<DynamicObject> {
    let resource = &shared.resource;
    let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
    let api_resource = ApiResource::from_gvk_with_plural(&gvk, &resource.plural);
    Api::all_with(shared.upstream.client.clone(), &api_resource)
}

/// Watches the resource for as long as the returned task runs, recording what others wrote.
pub(super) fn watch(shared: Arc<Shared>, truth: Arc<Truth>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let stream = watcher::watcher(api(&shared), watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Apply(object) | Event::InitApply(object)) => {
                    if let Ok(value) = serde_json::to_value(&object) {
                        truth.observe(&shared, &value, true);
                    }
                }
                Ok(Event::Delete(object)) => {
                    if let Ok(value) = serde_json::to_value(&object) {
                        truth.observe(&shared, &value, false);
                    }
                }
                Ok(Event::Init | Event::InitDone) => {}
                Err(error) => tracing::debug!(%error, "the proxy's own watch of the truth"),
            }
        }
    })
}

/// Lists the resource once more at the end and records what the watch missed, as of `at` (the
/// end the clients are judged at): a write it had not yet delivered, an object gone that it
/// never saw go.
pub(super) async fn settle(shared: &Shared, truth: &Truth, at: Duration) {
    let mut listed = Vec::new();
    {
        let listing = tokio::time::timeout(
            super::upstream::CALL_TIMEOUT,
            api(shared).list(&ListParams::default()),
        )
        .await;
        match listing {
            Err(_) => {
                tracing::warn!("the proxy's list of the truth at the end was not answered");
                return;
            }
            Ok(listing) => match listing {
                Ok(list) => {
                    if let Some(revision) = list
                        .metadata
                        .resource_version
                        .as_deref()
                        .and_then(|r| r.parse().ok())
                    {
                        shared.saw_revision(revision);
                    }
                    for object in list.items {
                        if let Ok(value) = serde_json::to_value(&object) {
                            if let Some((key, _)) = key_and_revision(&value) {
                                listed.push(key);
                            }
                            truth.observe_at(shared, &value, true, Some(at));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the proxy could not list the truth at the end");
                    return;
                }
            },
        }
    }
    let revision = shared.revision();
    for key in truth.existing() {
        if !listed.contains(&key) {
            let (namespace, name) = key.split_once('/').unwrap_or(("", &key));
            let gone = serde_json::json!({
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "resourceVersion": revision.to_string(),
                }
            });
            truth.observe_at(shared, &gone, false, Some(at));
        }
    }
}
