//! The validated scenario: what every module past `scenario/` sees.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::fault::Fault;
use crate::mechanism::Mechanism;
use crate::selector::Selector;

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
    /// Other top-level fields, copied into the object as they are. Shared, not copied, by the
    /// objects of one `generate` entry and by the server's versions of the object until an
    /// update changes it.
    pub body: Arc<BTreeMap<String, serde_json::Value>>,
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
    /// How much history the watch cache keeps for watches to resume from
    /// (`EventsHistoryWindow`, the cache's `eventFreshDuration`). Default and minimum 75 s
    /// (`DefaultEventFreshDuration` in apiserver `cacher.go`, which refuses a shorter one).
    /// The cache's ring of events grows while it holds less than this, up to 102,400 events
    /// (more for a longer window), so a busy resource keeps about this much and a quiet one
    /// much more (reference §5.1).
    pub watch_cache_window: Duration,
    /// How long the watch cache takes to (re)initialize after the server starts, restarts or
    /// re-lists. Meanwhile watches and LISTs get 429 `storage is (re)initializing`, except a
    /// LIST with a limit and no selector, which etcd answers (ResilientWatchCacheInitialization;
    /// reference §5.1). Default 0s: at once.
    pub watch_cache_init: Duration,
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

impl ServerSpec {
    /// The default and shortest watch cache window: the bookmark frequency (1 min) plus 15 s
    /// (`DefaultEventFreshDuration` in apiserver `storage/cacher/cacher.go`).
    pub const MIN_WATCH_CACHE_WINDOW: Duration = Duration::from_secs(75);
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
    /// Update an object: replace its labels if given, apply `body` to it as a JSON merge patch
    /// (RFC 7386, `kubectl patch --type merge`: objects merge key by key, `null` removes a
    /// field, anything else replaces it), and bump its resourceVersion.
    Update {
        /// Name of the object.
        name: String,
        /// Namespace of the object.
        namespace: Option<String>,
        /// New labels, if they change.
        labels: Option<BTreeMap<String, String>>,
        /// The merge patch.
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
    /// What the consumer sees of the watcher, and so what its view is judged by.
    pub shape: Shape,
    /// What the scenario expects of this set-up.
    pub expected: Expected,
    /// The mechanism it is expected to fail by; `Some` exactly when it is expected to fail.
    pub expected_mechanism: Option<Mechanism>,
}

/// The `watcher::Config` fields a set-up sets. Every field left `None` keeps what kube-runtime's
/// own `watcher::Config::default()` has, read from kube when the watcher is built, so a kube
/// upgrade that changes a default changes the harness with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatcherSettings {
    /// `allowWatchBookmarks` (`Config::bookmarks`).
    pub bookmarks: Option<bool>,
    /// Watch `timeoutSeconds` (`Config::timeout`); `Some(0)` asks for none.
    pub timeout: Option<u32>,
    /// LIST page size (`Config::page_size`).
    pub page_size: Option<PageSize>,
    /// `Config::list_semantic`.
    pub list_semantic: Option<ListSemantic>,
    /// `InitialListStrategy::StreamingList` when `true`, `ListWatch` when `false`.
    pub streaming_lists: Option<bool>,
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Both selectors, parsed once: what the set-up's truth is filtered by.
    #[serde(skip)]
    pub selector: Selector,
    /// `metadata_watcher` (PartialObjectMetadata) instead of `watcher`. Default `false`.
    pub metadata_only: bool,
}

/// A LIST page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageSize {
    /// No `limit`: the whole collection in one response (`page_size: 0` in YAML).
    Unlimited,
    /// `limit=N`.
    Of(u32),
}

/// kube-runtime's `ListSemantic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSemantic {
    /// No resourceVersion: a consistent read of the latest state.
    MostRecent,
    /// `resourceVersion=0`: any state the server has, possibly stale, from its cache.
    Any,
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

/// The kube client settings a set-up sets. Every one left `None` keeps what kube's own
/// `kube::Config::new` has, read from kube when the client is built; see
/// [`ClientSettings::apply`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClientSettings {
    /// kube's retry layer for 429/503/504 (`Config::default_retry`).
    pub retry: Option<bool>,
    /// The read timeout (`Config::read_timeout`). kube 5.0 has none by default: a request
    /// whose response head never comes waits forever (kube-rs#1945 moved the watch's
    /// protection to the watcher's idle timeout around `stream.next()`).
    pub read_timeout: Option<Timeout>,
}

/// A client timeout as a set-up sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeout {
    /// No timeout (`0s` in YAML).
    Never,
    /// This long.
    After(Duration),
}

impl ClientSettings {
    /// Sets on `config` what this names and leaves the rest as it is; `real` turns a virtual
    /// duration into the run's tokio time (a live run sped up N× waits 1/N as long).
    pub fn apply(&self, config: &mut kube::Config, real: impl Fn(Duration) -> Duration) {
        if let Some(retry) = self.retry {
            config.default_retry = retry;
        }
        match self.read_timeout {
            None => {}
            Some(Timeout::Never) => config.read_timeout = None,
            Some(Timeout::After(t)) => config.read_timeout = Some(real(t)),
        }
    }
}

/// What a consumer sees of the watcher, and so what its view is judged by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Every `watcher::Event`: the matrix's set-ups, and `Scenario::run_with`.
    #[default]
    Events,
    /// Objects as `applied_objects()` yields them: every version, and no delete, so an object
    /// deleted in the truth may stay at its last version.
    AppliedObjects,
    /// Objects as `touched_objects()` yields them: a delete yields the deleted object, so an
    /// object deleted in the truth may stay at its deletion's resourceVersion.
    TouchedObjects,
    /// A reflector store's contents over time, sampled as they change (a `Controller`'s
    /// `store()` too): states, not every change.
    Store,
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

    /// Keeps only set-up `name` of the matrix.
    ///
    /// # Errors
    /// When the scenario has no such set-up: the message names the ones it has.
    pub fn only(&mut self, name: &str) -> Result<(), String> {
        if !self.watchers.iter().any(|w| w.name == name) {
            return Err(format!(
                "scenario {} has no set-up `{name}`; its set-ups: {}",
                self.name,
                self.watchers
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.watchers.retain(|w| w.name == name);
        Ok(())
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
