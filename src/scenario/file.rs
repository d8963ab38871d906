//! The raw scenario file, exactly as YAML spells it: strict serde types, no cross-checks.
//!
//! Everything here is `deny_unknown_fields`; `validate/` turns a [`ScenarioFile`] into a
//! validated [`super::Scenario`] and checks what serde cannot (order, references, bounds).
//! [`json_schema`] describes these types for editors.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_saphyr::{Location as Place, Spanned};

use super::spec::Write;
use super::topology::Balance;
use crate::check_name::CheckName;
use crate::fault::Fault;
use crate::mechanism::Mechanism;
use crate::span::Span;

/// The JSON Schema of scenario files, generated from the types the loader parses with, for
/// editors (`scenario.schema.json` in the repository is this, kept current by a test).
#[must_use]
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(ScenarioFile);
    schema.insert("title".into(), "kube-watch-harness scenario".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// The keys that repeat a timeline entry: every kind but `create` and `delete` takes them.
pub(super) const REPEAT: [&str; 2] = ["every", "until"];

/// A kube-watch-harness scenario: a workload and faults on a timeline, the watcher set-ups to
/// test, and what "recovered" means.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// Short name; default: the file stem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The real-world situation the scenario models, with a link where one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// Seeds every random choice of a run: backoff jitter, the server's default watch timeouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    /// Virtual time the run covers.
    #[schemars(with = "Span")]
    pub(crate) duration: Spanned<Span>,
    /// What is watched, and the objects it starts with.
    pub(crate) resource: ResourceFile,
    /// How the simulated API server behaves.
    #[serde(default)]
    #[serde(skip_serializing_if = "is_default")]
    pub(crate) server: ServerFile,
    /// Writes and faults, in time order, each named by `kind:`.
    #[serde(default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) timeline: Vec<StepFile>,
    /// The watcher set-ups to test; each runs in a fresh, isolated world.
    #[schemars(with = "Vec<WatcherFile>")]
    pub(crate) watchers: Spanned<Vec<WatcherFile>>,
    /// What "recovered" means, and which set-ups are expected to.
    pub(crate) expect: ExpectFile,
}

/// What is watched, and the objects it starts with.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceFile {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) group: String,
    pub(crate) version: String,
    #[schemars(with = "String")]
    pub(crate) kind: Spanned<String>,
    #[schemars(with = "String")]
    pub(crate) plural: Spanned<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub(crate) namespaced: bool,
    #[serde(default)]
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "flow_items")]
    pub(crate) objects: Vec<ObjectFile>,
    /// Many objects alike, generated: for a large collection without a line per object.
    #[serde(default)]
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "flow_items")]
    pub(crate) generate: Vec<GenerateFile>,
}

/// `count` objects named after a pattern, with the same labels and body.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenerateFile {
    /// How many.
    #[schemars(with = "u32")]
    pub(crate) count: Spanned<u32>,
    /// The name, with `{i}` standing for the object's number, from 0: `pod-{i}`.
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    /// The namespace of every one; none for a cluster-scoped resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    /// `metadata.labels` of every one.
    #[serde(default)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
    /// The fields besides `metadata` of every one (`spec`, `status`, `data`, ...).
    #[serde(default)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// A list written one item a line: `- { name: a, namespace: default }`.
fn flow_items<T: Serialize, S: Serializer>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(serde_saphyr::FlowMap))
}

/// A list written on one line: `[a, b]`.
fn flow_list<T: Serialize, S: Serializer>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serde_saphyr::FlowSeq(items).serialize(serializer)
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// One object of the watched resource.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectFile {
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
    /// Top-level fields besides `metadata` (`spec`, `data`, `reason`, ...), copied as they are.
    #[serde(default)]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

/// How the simulated API server behaves.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_cache: Option<bool>,
    #[schemars(with = "Option<Span>")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_cache_window: Option<Spanned<Span>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_cache_init: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_list: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_list_compression: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bookmark_interval: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) churn_interval: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) compaction_interval: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_requests: Option<u64>,
    /// Several apiservers behind a load balancer, each with its own watch cache.
    #[serde(default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) replicas: Vec<ReplicaFile>,
    /// `sticky` (each connection to one replica, new ones in turn) or `round_robin` (each
    /// request to the next replica); only with `replicas`.
    #[schemars(with = "Option<Balance>")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) load_balancer: Option<Spanned<Balance>>,
}

/// One apiserver behind the load balancer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplicaFile {
    /// A DNS-1123 label, unique among the replicas.
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    /// How far its watch cache lags etcd (nothing without `watch_cache`). Default 0s.
    #[schemars(with = "Option<Span>")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache_lag: Option<Spanned<Span>>,
    /// Its watch cache's history window; default: the server's.
    #[schemars(with = "Option<Span>")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) watch_cache_window: Option<Spanned<Span>>,
}

/// One timeline entry: `at`, `kind`, `every`/`until` for a repeat, and the other keys with the
/// place of each value. Read kind-first: the other keys are typed once `kind` says what they
/// are (`write_form.rs`, [`crate::fault::Fault::read`]), so an error names the key and points at its
/// value; serde's internally tagged enums would buffer the entry and lose both.
#[derive(Debug, Clone)]
pub(crate) struct StepFile {
    pub(crate) at: Spanned<Span>,
    pub(crate) kind: Spanned<String>,
    pub(crate) every: Option<Spanned<Span>>,
    pub(crate) until: Option<Spanned<Span>>,
    /// The other keys, in file order.
    pub(crate) keys: Vec<(String, serde_json::Value, Place)>,
}

impl<'de> Deserialize<'de> for StepFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = StepFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a timeline entry: a mapping with `at`, `kind` and its keys")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<StepFile, M::Error> {
                let (mut at, mut kind, mut every, mut until) = (None, None, None, None);
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "at" => at = Some(map.next_value()?),
                        "kind" => kind = Some(map.next_value()?),
                        "every" => every = Some(map.next_value()?),
                        "until" => until = Some(map.next_value()?),
                        _ => {
                            let value: Spanned<serde_json::Value> = map.next_value()?;
                            keys.push((key, value.value, value.referenced));
                        }
                    }
                }
                Ok(StepFile {
                    at: at.ok_or_else(|| de::Error::missing_field("at"))?,
                    kind: kind.ok_or_else(|| de::Error::missing_field("kind"))?,
                    every,
                    until,
                    keys,
                })
            }
        }
        deserializer.deserialize_map(Entry)
    }
}

/// `{ at: 2m, kind: http_error, status: 503, for: 3m }`: on one line, in the order read.
impl Serialize for StepFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&str, serde_json::Value)> = vec![
            ("at", serde_json::Value::String(self.at.value.to_string())),
            ("kind", serde_json::Value::String(self.kind.value.clone())),
        ];
        entries.extend(self.keys.iter().map(|(k, v, _)| (k.as_str(), v.clone())));
        for (key, span) in [("every", &self.every), ("until", &self.until)] {
            if let Some(span) = span {
                entries.push((key, serde_json::Value::String(span.value.to_string())));
            }
        }
        serde_saphyr::FlowMap(Ordered(entries)).serialize(serializer)
    }
}

/// Entries serialized as a mapping in their own order.
struct Ordered<'a>(Vec<(&'a str, serde_json::Value)>);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// For editors: one object per `kind`, with exactly the keys that kind takes.
impl JsonSchema for StepFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimelineEntry".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let span = generator.subschema_for::<Span>();
        let object = |kind: &str,
                      mut properties: Vec<(&str, schemars::Schema)>,
                      required: Vec<&str>,
                      repeats: bool| {
            properties.insert(0, ("at", span.clone()));
            properties.insert(1, ("kind", schemars::json_schema!({ "const": kind })));
            if repeats {
                properties.extend(REPEAT.map(|key| (key, span.clone())));
            }
            let properties: serde_json::Map<String, serde_json::Value> = properties
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_value()))
                .collect();
            let mut required: Vec<&str> = required;
            required.splice(0..0, ["at", "kind"]);
            serde_json::json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            })
        };
        let mut kinds: Vec<serde_json::Value> = Write::schemas(generator)
            .into_iter()
            .map(|(k, repeats)| object(k.kind, k.properties, k.required, repeats))
            .collect();
        for k in Fault::schemas(generator) {
            kinds.push(object(k.kind, k.properties, k.required, true));
        }
        let writes: Vec<String> = Write::kinds().iter().map(|k| format!("`{k}`")).collect();
        let description = format!(
            "A workload write ({}) or a fault, named by `kind`.",
            writes.join(", ")
        );
        schemars::json_schema!({
            "description": description,
            "oneOf": kinds,
        })
    }
}

/// One watcher set-up of the matrix.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherFile {
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    #[serde(skip_serializing_if = "is_default")]
    pub(crate) config: WatcherConfigFile,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backoff: Option<BackoffFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backoff_on: Option<BackoffOnFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) consumer: Option<ConsumerFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Span>")]
    pub(crate) work_per_item: Option<Spanned<Span>>,
    #[serde(default)]
    #[serde(skip_serializing_if = "is_default")]
    pub(crate) client: ClientFile,
}

/// The kube client settings that change recovery.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retry: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) read_timeout: Option<Span>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackoffOnFile {
    Watcher,
    AppliedObjects,
    TouchedObjects,
}

/// The fields of kube-runtime's `watcher::Config`; each absent one keeps kube's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bookmarks: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<Span>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) list_semantic: Option<ListSemanticFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) streaming_lists: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) label_selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field_selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata_only: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListSemanticFile {
    MostRecent,
    Any,
}

/// `none`, `default`, or `{ exponential: { initial, max, factor } }`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackoffFile {
    None,
    Default,
    Exponential(ExponentialFile),
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExponentialFile {
    pub(crate) initial: Span,
    pub(crate) max: Span,
    #[serde(default = "two")]
    pub(crate) factor: f64,
}

fn two() -> f64 {
    2.0
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsumerFile {
    Reflector,
    ContinueOnError,
    StopOnError,
}

/// What "recovered" means for this scenario.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    pub(crate) deadline: Span,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_relists: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_requests_per_minute: Option<u32>,
    #[serde(default)]
    #[schemars(with = "Vec<Span>")]
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "flow_list")]
    pub(crate) checkpoints: Vec<Spanned<Span>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    #[serde(serialize_with = "flow_list")]
    pub(crate) recover: Vec<Spanned<String>>,
    /// Each set-up expected not to recover, with the mechanism it is expected to fail by.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Mechanism>")]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) fail: BTreeMap<String, Spanned<Mechanism>>,
    /// Each set-up whose breaches of these protocol checks do not fail it.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<CheckName>>")]
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) tolerate: BTreeMap<String, Spanned<Vec<Spanned<CheckName>>>>,
}
