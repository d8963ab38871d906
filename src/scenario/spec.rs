//! The validated scenario: what every module past `scenario/` sees. The resource, its objects,
//! the server's behaviour, the timeline and what "recovered" means are here; the watcher matrix's
//! set-ups are in `setup.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::setup::SetUp;
use super::topology::{Balance, ReplicaSpec};
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
    /// Whether the `WatchListCompression` feature gate is on. Default `true`, as on 1.37
    /// (beta). On, a watch-list response (`sendInitialEvents` with bookmarks, asked or
    /// defaulted) to a client whose `Accept-Encoding` names `gzip` is gzipped, one gzip member
    /// per flush (apiserver `endpoints/handlers/watch.go`, `perFlushGzipWriter`).
    pub watch_list_compression: bool,
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
    /// The apiservers behind a load balancer, when there are several (at least two); empty for
    /// one apiserver without one.
    pub replicas: Vec<ReplicaSpec>,
    /// How the load balancer spreads clients over `replicas`. Default `sticky`.
    pub load_balancer: Balance,
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
