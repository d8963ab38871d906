//! The scenario's workload, written to the upstream: each scenario namespace becomes a fresh
//! namespace of the run's own (`kwh-<tag>-<namespace>`, labelled so that it can be found), the
//! objects and writes go there as a client's would (POST, merge PATCH, DELETE), and the
//! namespaces are deleted at the end.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request};
use serde_json::{Map, Value, json};

use super::error::Error;
use super::shared::Shared;
use super::truth::Truth;
use super::upstream::Served;
use crate::scenario::{ObjectSpec, Scenario, Write, placeholder};

/// The label on every namespace a proxy creates: the run's tag.
pub const RUN_LABEL: &str = "kube-watch-harness/run";

/// Where the run's objects live upstream.
#[derive(Debug, Clone)]
pub(crate) struct Namespaces {
    /// Scenario namespace → the run's namespace.
    map: BTreeMap<String, String>,
    /// The run's tag.
    pub(crate) tag: String,
}

impl Namespaces {
    /// A namespace of the run's own for each namespace the scenario's objects use.
    pub(crate) fn for_scenario(scenario: &Scenario) -> Self {
        let tag = format!("{:06x}", fastrand::u32(..0x00ff_ffff));
        let mut used: Vec<String> = scenario
            .objects
            .iter()
            .filter_map(|o| o.namespace.clone())
            .chain(
                scenario
                    .timeline
                    .iter()
                    .filter_map(|step| match &step.action {
                        crate::scenario::Action::Write(
                            Write::Create(ObjectSpec { namespace, .. })
                            | Write::Update { namespace, .. }
                            | Write::Delete { namespace, .. },
                        ) => namespace.clone(),
                        crate::scenario::Action::Fault(_) => None,
                    }),
            )
            .collect();
        used.sort();
        used.dedup();
        if used.is_empty() {
            used.push("default".into());
        }
        let map = used
            .into_iter()
            .map(|ns| {
                let mut real = format!("kwh-{tag}-{ns}");
                real.truncate(63);
                let real = real.trim_end_matches('-').to_owned();
                (ns, real)
            })
            .collect();
        Self { map, tag }
    }

    /// The run's namespace for scenario namespace `ns`.
    pub(crate) fn real(&self, ns: &str) -> Option<&str> {
        self.map.get(ns).map(String::as_str)
    }

    /// Every namespace of the run's.
    pub(crate) fn all(&self) -> Vec<String> {
        self.map.values().cloned().collect()
    }

    /// The namespace a client starts in: the run's only one, or the first.
    pub(crate) fn first(&self) -> &str {
        self.map.values().next().map_or("default", String::as_str)
    }

    /// `value` with every `namespace` field inside it that names a scenario namespace (an
    /// Event's `involvedObject.namespace`, which the apiserver holds to the Event's own) naming
    /// the run's instead.
    pub(crate) fn rewrite_references(&self, value: &Value) -> Value {
        match value {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v.as_str().and_then(|ns| self.real(ns))) {
                            ("namespace", Some(real)) => Value::String(real.to_owned()),
                            _ => self.rewrite_references(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rewrite_references(v)).collect())
            }
            other => other.clone(),
        }
    }

    /// `text` with each `/namespaces/<ns>/` of the scenario's turned into the run's.
    pub(crate) fn rewrite_path(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (ns, real) in &self.map {
            out = out.replace(&format!("namespaces/{ns}/"), &format!("namespaces/{real}/"));
            if out.ends_with(&format!("namespaces/{ns}")) {
                out = format!("{}{real}", &out[..out.len() - ns.len()]);
            }
        }
        out
    }
}

/// Writes the workload to the upstream.
#[derive(Debug)]
pub(super) struct Workload {
    shared: Arc<Shared>,
    truth: Arc<Truth>,
    namespaces: Namespaces,
    served: Served,
    /// Each object's labels now, so that an update that replaces them can remove the old.
    labels: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl Workload {
    pub(super) fn new(
        shared: Arc<Shared>,
        truth: Arc<Truth>,
        namespaces: Namespaces,
        served: Served,
    ) -> Self {
        Self {
            shared,
            truth,
            namespaces,
            served,
            labels: BTreeMap::new(),
        }
    }

    /// This writer, recording on `shared` from now on.
    pub(super) fn on(mut self, shared: Arc<Shared>) -> Self {
        self.shared = shared;
        self
    }

    /// Creates the run's namespaces.
    ///
    /// # Errors
    /// [`Error::Upstream`] when one is refused; those made before it are deleted again.
    pub(super) async fn create_namespaces(&self) -> Result<(), Error> {
        for namespace in self.namespaces.all() {
            let body = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": { "name": namespace, "labels": { RUN_LABEL: self.namespaces.tag } },
            });
            if let Err(error) = self
                .send(Method::POST, "/api/v1/namespaces".into(), &body, "")
                .await
            {
                self.delete_namespaces().await;
                return Err(error);
            }
        }
        Ok(())
    }

    /// Deletes the run's namespaces (and with them every object in them); failures are
    /// reported, not raised: this runs on the way out.
    pub(super) async fn delete_namespaces(&self) -> Vec<String> {
        let mut failed = Vec::new();
        for namespace in self.namespaces.all() {
            let path = format!("/api/v1/namespaces/{namespace}");
            match self
                .shared
                .upstream
                .call(Request::delete(&path), Bytes::new())
                .await
            {
                Ok((status, _)) if status.is_success() || status == 404 => {}
                Ok((status, body)) => failed.push(format!(
                    "namespace {namespace}: {status} {}",
                    String::from_utf8_lossy(&body).trim()
                )),
                Err(reason) => failed.push(format!("namespace {namespace}: {reason}")),
            }
        }
        failed
    }

    /// Applies one write of the scenario's.
    ///
    /// # Errors
    /// [`Error::Upstream`] when the apiserver refuses it.
    pub(super) async fn apply(&mut self, write: &Write) -> Result<(), Error> {
        match write {
            Write::Create(spec) => {
                let namespace = self.namespace(spec.namespace.as_deref());
                let mut object: Map<String, Value> = spec
                    .body
                    .iter()
                    .map(|(k, v)| (k.clone(), self.namespaces.rewrite_references(v)))
                    .collect();
                let resource = &self.shared.resource;
                object.insert("apiVersion".into(), resource.api_version().into());
                object.insert("kind".into(), resource.kind.clone().into());
                let metadata = object
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(metadata) = metadata {
                    metadata.insert("name".into(), spec.name.clone().into());
                    metadata.insert("namespace".into(), namespace.clone().into());
                    if !spec.labels.is_empty() {
                        metadata.insert("labels".into(), json!(spec.labels));
                    }
                }
                let answer = self
                    .send(
                        Method::POST,
                        self.collection(&namespace),
                        &Value::Object(object),
                        "",
                    )
                    .await?;
                self.labels
                    .insert((namespace, spec.name.clone()), spec.labels.clone());
                self.truth.observe(&self.shared, &answer, true);
            }
            Write::Update {
                name,
                namespace,
                labels,
                body,
            } => {
                let namespace = self.namespace(namespace.as_deref());
                let now = placeholder::micro_time(jiff::Timestamp::now());
                let mut patch: Map<String, Value> = placeholder::fill(body, placeholder::NOW, &now)
                    .into_iter()
                    .map(|(k, v)| (k, self.namespaces.rewrite_references(&v)))
                    .collect();
                if let Some(labels) = labels {
                    let key = (namespace.clone(), name.clone());
                    let mut change: Map<String, Value> = self
                        .labels
                        .get(&key)
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| !labels.contains_key(*k))
                        .map(|(k, _)| (k.clone(), Value::Null))
                        .collect();
                    change.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone().into())));
                    let metadata = patch
                        .entry("metadata")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(metadata) = metadata {
                        metadata.insert("labels".into(), Value::Object(change));
                    }
                    self.labels.insert(key, labels.clone());
                }
                // `status` goes to the status subresource where there is one: the object's own
                // endpoint ignores it there, and the update would write nothing.
                let status = if self.served.status_subresource {
                    patch.remove("status")
                } else {
                    None
                };
                let object = format!("{}/{name}", self.collection(&namespace));
                for (path, patch) in [
                    (
                        object.clone(),
                        (!patch.is_empty()).then_some(Value::Object(patch)),
                    ),
                    (
                        format!("{object}/status"),
                        status.map(|s| json!({ "status": s })),
                    ),
                ] {
                    if let Some(patch) = patch {
                        let answer = self.send(Method::PATCH, path, &patch, "").await?;
                        self.truth.observe(&self.shared, &answer, true);
                    }
                }
            }
            Write::Delete { name, namespace } => {
                let namespace = self.namespace(namespace.as_deref());
                // NB: at once, as the scenario's delete is; a Pod on a node would otherwise
                // wait for its kubelet.
                let path = format!("{}/{name}", self.collection(&namespace));
                let answer = self
                    .send(Method::DELETE, path, &Value::Null, "gracePeriodSeconds=0")
                    .await?;
                self.labels.remove(&(namespace, name.clone()));
                // A delete answers the object as of its deletion (etcd3 `conditionalDelete`);
                // a Status when the object went at once without one.
                if answer["kind"] != "Status" {
                    self.truth.observe(&self.shared, &answer, false);
                }
            }
        }
        Ok(())
    }

    fn namespace(&self, ns: Option<&str>) -> String {
        self.namespaces
            .real(ns.unwrap_or("default"))
            .unwrap_or(self.namespaces.first())
            .to_owned()
    }

    fn collection(&self, namespace: &str) -> String {
        let resource = &self.shared.resource;
        let root = if resource.group.is_empty() {
            format!("/api/{}", resource.version)
        } else {
            format!("/apis/{}/{}", resource.group, resource.version)
        };
        format!("{root}/namespaces/{namespace}/{}", resource.plural)
    }

    /// Sends one write and returns what the apiserver answered.
    async fn send(
        &self,
        method: Method,
        path: String,
        body: &Value,
        query: &str,
    ) -> Result<Value, Error> {
        let content_type = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let uri = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let what = format!("{method} {path}");
        let bytes = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(serde_json::to_vec(body).expect("a JSON value always serializes"))
        };
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::CONTENT_TYPE, content_type);
        let (status, answer) =
            self.shared
                .upstream
                .call(request, bytes)
                .await
                .map_err(|reason| Error::Upstream {
                    what: what.clone(),
                    reason,
                })?;
        let value: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Error::Upstream {
                what,
                reason: format!(
                    "{status}: {}",
                    value["message"].as_str().map_or_else(
                        || String::from_utf8_lossy(&answer).into_owned(),
                        str::to_owned
                    )
                ),
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespaces() -> Namespaces {
        let scenario = Scenario::from_yaml(
            "duration: 10m\n\
             resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
               objects: [{ name: a, namespace: shop }, { name: b, namespace: db }] }\n\
             watchers: [{ name: any }]\n\
             expect: { deadline: 1m, recover: [any] }\n",
        )
        .expect("the scenario loads");
        Namespaces::for_scenario(&scenario)
    }

    #[test]
    fn each_scenario_namespace_gets_one_of_the_run_s_own() {
        let ns = namespaces();
        let shop = ns.real("shop").expect("shop is mapped");
        assert_eq!(shop, format!("kwh-{}-shop", ns.tag));
        assert_eq!(ns.all().len(), 2);
        assert_eq!(ns.first(), format!("kwh-{}-db", ns.tag));
    }

    #[test]
    fn a_fault_s_path_follows_its_namespace() {
        let ns = namespaces();
        let shop = ns.real("shop").expect("shop is mapped").to_owned();
        assert_eq!(
            ns.rewrite_path("/api/v1/namespaces/shop/configmaps"),
            format!("/api/v1/namespaces/{shop}/configmaps")
        );
        assert_eq!(
            ns.rewrite_path("namespaces/shop"),
            format!("namespaces/{shop}")
        );
        assert_eq!(ns.rewrite_path("/api/v1/configmaps"), "/api/v1/configmaps");
    }

    #[test]
    fn an_event_s_involved_object_follows_its_namespace() {
        let ns = namespaces();
        let shop = ns.real("shop").expect("shop is mapped").to_owned();
        let body = json!({ "involvedObject": { "kind": "Pod", "name": "a", "namespace": "shop" }, "reason": "Started" });
        assert_eq!(
            ns.rewrite_references(&body),
            json!({ "involvedObject": { "kind": "Pod", "name": "a", "namespace": shop }, "reason": "Started" })
        );
    }
}
