//! The validated scenario: what every module past `scenario/` sees.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::fault::Fault;

/// A validated scenario: the resource, the server's behaviour, the timeline, the watcher matrix
/// and what "recovered" means. Built by [`super::load`] or [`Scenario::from_yaml`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Scenario {
    /// Short name, from `name:` or the file stem.
    pub name: String,
    /// The real-world situation the scenario models.
    pub description: String,
    /// Seed for every random choice of a run (jitter, default watch timeouts).
    pub seed: u64,
    /// Virtual time the scenario covers.
    pub duration: Duration,
    /// The watched resource.
    pub resource: ResourceSpec,
    /// Objects present at time zero.
    pub objects: Vec<ObjectSpec>,
    /// How the simulated server behaves.
    pub server: ServerSpec,
    /// Workload writes and faults, in time order (repeated writes already expanded).
    pub timeline: Vec<Step>,
    /// The watcher set-ups; each runs in a fresh, isolated world.
    pub watchers: Vec<SetUp>,
    /// What "recovered" means.
    pub expect: Expect,
}

/// A group/version/kind with its plural, served as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceSpec {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Event`.
    pub kind: String,
    /// Plural resource name used in paths, e.g. `events`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

impl ResourceSpec {
    /// `v1` for the core group, `group/version` otherwise.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

#[cfg(test)]
impl ResourceSpec {
    /// core/v1 `events`, the resource unit tests use.
    pub(crate) fn core_events() -> Self {
        Self {
            group: String::new(),
            version: "v1".into(),
            kind: "Event".into(),
            plural: "events".into(),
            namespaced: true,
        }
    }
}

/// One object: identity, labels, and the fields besides `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectSpec {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; `None` for cluster-scoped resources.
    pub namespace: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Other top-level fields, copied into the object as they are.
    pub body: BTreeMap<String, serde_json::Value>,
}

/// Server behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSpec {
    /// Whether the resource has a watch cache. Default `true`. `false` models Events
    /// (kubernetes `DefaultWatchCacheSizes` sets them to 0): no bookmarks, and etcd's
    /// "too old" messages instead of the cache's.
    pub watch_cache: bool,
    /// Whether the `WatchList` feature gate is on. Default `true`, as on 1.34 (the version
    /// `/version` reports). Off, any `sendInitialEvents` gets 422 and clients fall back to
    /// LIST+WATCH; on, a watch from resourceVersion ""/"0" without watch-list parameters is
    /// quietly defaulted to one (reference §2.7, §3).
    pub watch_list: bool,
    /// How often an open watch gets a bookmark. Default 1 minute (`defaultBookmarkFrequency`
    /// in apiserver `cacher.go`).
    pub bookmark_interval: Duration,
    /// Background writes to other resources advance the global resourceVersion this often.
    /// Default: none.
    pub churn_interval: Option<Duration>,
    /// etcd-style periodic compaction: each run compacts up to the revision recorded at the
    /// previous run (apiserver `etcd3/compact.go`). Default: none (only `compact` faults).
    pub compaction_interval: Option<Duration>,
    /// Requests after which a run is stopped as a request storm. Default 10,000.
    pub max_requests: u64,
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Virtual time from the start of the run.
    pub at: Duration,
    /// What happens.
    pub action: Action,
}

/// A workload write or a fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A write to the watched resource.
    Write(Write),
    /// A fault.
    Fault(Fault),
}

/// A write to the watched resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Write {
    /// Create a new object.
    Create(ObjectSpec),
    /// Update an object: replace labels if given, merge `body` fields, bump its resourceVersion.
    Update {
        /// Name of the object.
        name: String,
        /// Namespace of the object.
        namespace: Option<String>,
        /// New labels, if they change.
        labels: Option<BTreeMap<String, String>>,
        /// Top-level fields to set.
        body: BTreeMap<String, serde_json::Value>,
    },
    /// Delete an object.
    Delete {
        /// Name of the object.
        name: String,
        /// Namespace of the object.
        namespace: Option<String>,
    },
}

/// A watcher set-up: kube-runtime `watcher::Config`, a backoff and where it sits, the kube
/// client's settings, and a consumer pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetUp {
    /// Unique name within the scenario.
    pub name: String,
    /// The `watcher::Config` fields.
    pub config: WatcherSettings,
    /// Backoff applied to the stream.
    pub backoff: Backoff,
    /// Where in the stream the backoff sits.
    pub backoff_on: BackoffOn,
    /// The kube client's settings.
    pub client: ClientSettings,
    /// How the stream is consumed.
    pub consumer: Consumer,
    /// What the scenario expects of this set-up.
    pub expected: Expected,
}

/// Mirrors kube-runtime's `watcher::Config`; each default is kube's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatcherSettings {
    /// `allowWatchBookmarks`. Default `true`.
    pub bookmarks: bool,
    /// Watch `timeoutSeconds`. Default `None` (kube sends 290).
    pub timeout: Option<u32>,
    /// LIST page size. Default `Some(500)`; `page_size: 0` in YAML means no limit.
    pub page_size: Option<u32>,
    /// `ListSemantic::Any` (resourceVersion=0) instead of `MostRecent`. Default `false`.
    pub any_semantic: bool,
    /// `InitialListStrategy::StreamingList`. Default `false`.
    pub streaming_lists: bool,
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// `metadata_watcher` (PartialObjectMetadata) instead of `watcher`. Default `false`.
    pub metadata_only: bool,
}

impl Default for WatcherSettings {
    fn default() -> Self {
        Self {
            bookmarks: true,
            timeout: None,
            page_size: Some(500),
            any_semantic: false,
            streaming_lists: false,
            label_selector: None,
            field_selector: None,
            metadata_only: false,
        }
    }
}

/// Backoff on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// No backoff: the watcher retries on the next poll.
    None,
    /// kube's `default_backoff()` parameters (800 ms → 30 s, factor 2, jitter, reset after
    /// 120 s), with the jitter seeded from the scenario seed.
    Default,
    /// Exponential from `initial` to `max` by `factor`, with seeded jitter and no reset.
    Exponential {
        /// The first delay.
        initial: Duration,
        /// The longest delay.
        max: Duration,
        /// The growth factor.
        factor: f64,
    },
}

/// Where the backoff sits: on the watcher's event stream, or after it is flattened to objects
/// (`watcher(..).applied_objects().backoff(..)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffOn {
    /// `watcher(..).backoff(..)`: the consumer reads events.
    Watcher,
    /// `watcher(..).applied_objects().backoff(..)`: the consumer reads applied objects.
    AppliedObjects,
    /// `watcher(..).touched_objects().backoff(..)`: the consumer reads touched objects.
    TouchedObjects,
}

/// The kube client settings that change recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientSettings {
    /// kube's retry layer for 429/503/504 (`Config::default_retry`). Default `true`.
    pub retry: bool,
    /// The read timeout (`Config::read_timeout`). Default kube's 295 s; `None` is no timeout.
    pub read_timeout: Option<Duration>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            retry: true,
            read_timeout: Some(Duration::from_secs(295)),
        }
    }
}

/// How the watcher stream is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumer {
    /// `reflector(writer, stream)`, errors logged and skipped: a controller's store.
    Reflector,
    /// Every item consumed, errors logged and skipped: the right way.
    ContinueOnError,
    /// `while let Some(e) = stream.try_next().await?`: the first error ends the consumer.
    StopOnError,
}

impl Consumer {
    /// The name used in YAML and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reflector => "reflector",
            Self::ContinueOnError => "continue_on_error",
            Self::StopOnError => "stop_on_error",
        }
    }
}

/// The outcome the scenario expects of a set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// It must recover.
    Recover,
    /// It must not recover.
    Fail,
}

/// What "recovered" means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expect {
    /// The watcher must be back in sync this long after the last fault.
    pub deadline: Duration,
    /// Most relists (full LISTs after the first) a recovered set-up may make.
    pub max_relists: Option<u32>,
    /// Most requests in any sliding minute of virtual time.
    pub max_requests_per_minute: Option<u32>,
    /// Instants at which the view must have no ghosts and no losses.
    pub checkpoints: Vec<Duration>,
}

impl Scenario {
    /// The time of the last fault on the timeline, counting a window fault's end.
    #[must_use]
    pub fn last_fault_end(&self) -> Option<Duration> {
        self.timeline
            .iter()
            .filter_map(|s| match &s.action {
                Action::Fault(f) => Some(s.at + f.duration()),
                Action::Write(_) => None,
            })
            .max()
    }

    /// The time of the first fault on the timeline.
    #[must_use]
    pub fn first_fault(&self) -> Option<Duration> {
        self.timeline
            .iter()
            .find(|s| matches!(s.action, Action::Fault(_)))
            .map(|s| s.at)
    }
}
