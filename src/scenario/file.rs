//! The raw scenario file, exactly as YAML spells it: strict serde types, no cross-checks.
//!
//! Everything here is `deny_unknown_fields`; [`super::model`] turns a [`ScenarioFile`] into a
//! validated [`super::Scenario`] and checks what serde cannot (order, references, bounds).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::duration::Span;
use crate::fault::{Cut, ErrorBody, GoneForm, GoneMessage, LatencyOn, Malformed, TargetVerb};
use crate::mechanism::Mechanism;

/// A kube-watch-harness scenario: a workload and faults on a timeline, the watcher set-ups to
/// test, and what "recovered" means.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// Short name; default: the file stem.
    pub(crate) name: Option<String>,
    /// The real-world situation the scenario models, with a link where one exists.
    pub(crate) description: Option<String>,
    /// Seeds every random choice of a run: backoff jitter, the server's default watch timeouts.
    pub(crate) seed: Option<u64>,
    /// Virtual time the run covers.
    #[schemars(with = "Span")]
    pub(crate) duration: Spanned<Span>,
    /// What is watched, and the objects it starts with.
    pub(crate) resource: ResourceFile,
    /// How the simulated API server behaves.
    #[serde(default)]
    pub(crate) server: ServerFile,
    /// Writes and faults, in time order, each named by `kind:`.
    #[serde(default)]
    pub(crate) timeline: Vec<StepFile>,
    /// The watcher set-ups to test; each runs in a fresh, isolated world.
    #[schemars(with = "Vec<WatcherFile>")]
    pub(crate) watchers: Spanned<Vec<WatcherFile>>,
    /// What "recovered" means, and which set-ups are expected to.
    pub(crate) expect: ExpectFile,
}

/// What is watched, and the objects it starts with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceFile {
    #[serde(default)]
    pub(crate) group: String,
    pub(crate) version: String,
    #[schemars(with = "String")]
    pub(crate) kind: Spanned<String>,
    #[schemars(with = "String")]
    pub(crate) plural: Spanned<String>,
    #[serde(default = "yes")]
    pub(crate) namespaced: bool,
    #[serde(default)]
    pub(crate) objects: Vec<ObjectFile>,
    /// Many objects alike, generated: for a large collection without a line per object.
    #[serde(default)]
    pub(crate) generate: Vec<GenerateFile>,
}

/// `count` objects named after a pattern, with the same labels and body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenerateFile {
    /// How many.
    #[schemars(with = "u32")]
    pub(crate) count: Spanned<u32>,
    /// The name, with `{i}` standing for the object's number, from 0: `pod-{i}`.
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    /// The namespace of every one; none for a cluster-scoped resource.
    pub(crate) namespace: Option<String>,
    /// `metadata.labels` of every one.
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    /// The fields besides `metadata` of every one (`spec`, `status`, `data`, ...).
    #[serde(default)]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

/// One object of the watched resource.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectFile {
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    /// Top-level fields besides `metadata` (`spec`, `data`, `reason`, ...), copied as they are.
    #[serde(default)]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

/// How the simulated API server behaves.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerFile {
    pub(crate) watch_cache: Option<bool>,
    #[schemars(with = "Option<Span>")]
    pub(crate) watch_cache_window: Option<Spanned<Span>>,
    pub(crate) watch_cache_init: Option<Span>,
    pub(crate) watch_list: Option<bool>,
    pub(crate) bookmark_interval: Option<Span>,
    pub(crate) churn_interval: Option<Span>,
    pub(crate) compaction_interval: Option<Span>,
    pub(crate) max_requests: Option<u64>,
}

/// One timeline entry: a workload write or a fault, named by `kind:`. One flat struct, so that
/// serde still rejects keys no kind has; the loader rejects keys this entry's kind does not
/// take, naming both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepFile {
    #[schemars(with = "Span")]
    pub(crate) at: Spanned<Span>,
    pub(crate) kind: StepKind,
    pub(crate) every: Option<Span>,
    pub(crate) until: Option<Span>,
    pub(crate) name: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Option<BTreeMap<String, String>>,
    pub(crate) body: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "for")]
    pub(crate) window: Option<Span>,
    pub(crate) retain: Option<Span>,
    pub(crate) count: Option<u64>,
    pub(crate) verbs: Option<Vec<TargetVerb>>,
    pub(crate) path: Option<String>,
    pub(crate) query: Option<String>,
    pub(crate) form: Option<GoneForm>,
    pub(crate) message: Option<GoneMessage>,
    pub(crate) code: Option<bool>,
    pub(crate) how: Option<Cut>,
    pub(crate) status: Option<u16>,
    pub(crate) format: Option<ErrorBody>,
    pub(crate) retry_after: Option<Span>,
    pub(crate) delay: Option<Span>,
    pub(crate) slows: Option<LatencyOn>,
    pub(crate) shape: Option<Malformed>,
    pub(crate) revision: Option<RestartFile>,
    pub(crate) by: Option<u64>,
}

/// The `kind:` of a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepKind {
    Create,
    Update,
    Delete,
    Idle,
    Compact,
    DropBookmarks,
    StaleBookmarks,
    EmptyBookmarks,
    DropInitialEventsEnd,
    ExpireWatches,
    #[serde(rename = "watch_410")]
    Watch410,
    EmptyWatch,
    CutStream,
    StallStream,
    HangHeaders,
    HttpError,
    Latency,
    MalformedEvent,
    ExpireContinue,
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RestartFile {
    Keep,
    Reset,
    Regress,
}

/// One watcher set-up of the matrix.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherFile {
    #[schemars(with = "String")]
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) config: WatcherConfigFile,
    pub(crate) backoff: Option<BackoffFile>,
    pub(crate) backoff_on: Option<BackoffOnFile>,
    pub(crate) consumer: Option<ConsumerFile>,
    #[serde(default)]
    pub(crate) client: ClientFile,
}

/// The kube client settings that change recovery.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientFile {
    pub(crate) retry: Option<bool>,
    pub(crate) read_timeout: Option<Span>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackoffOnFile {
    Watcher,
    AppliedObjects,
    TouchedObjects,
}

/// The fields of kube-runtime's `watcher::Config`; each absent one keeps kube's default.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherConfigFile {
    pub(crate) bookmarks: Option<bool>,
    pub(crate) timeout: Option<Span>,
    pub(crate) page_size: Option<u32>,
    pub(crate) list_semantic: Option<ListSemanticFile>,
    pub(crate) streaming_lists: Option<bool>,
    pub(crate) label_selector: Option<String>,
    pub(crate) field_selector: Option<String>,
    pub(crate) metadata_only: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListSemanticFile {
    MostRecent,
    Any,
}

/// `none`, `default`, or `{ exponential: { initial, max, factor } }`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackoffFile {
    None,
    Default,
    Exponential(ExponentialFile),
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsumerFile {
    Reflector,
    ContinueOnError,
    StopOnError,
}

/// What "recovered" means for this scenario.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    pub(crate) deadline: Span,
    pub(crate) max_relists: Option<u32>,
    pub(crate) max_requests_per_minute: Option<u32>,
    #[serde(default)]
    #[schemars(with = "Vec<Span>")]
    pub(crate) checkpoints: Vec<Spanned<Span>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(crate) recover: Vec<Spanned<String>>,
    /// Each set-up expected not to recover, with the mechanism it is expected to fail by.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Mechanism>")]
    pub(crate) fail: BTreeMap<String, Spanned<Mechanism>>,
}
