//! The watcher matrix of a validated scenario: each set-up's kube-runtime `watcher::Config`
//! fields, its backoff and where it sits, the kube client's settings, how its stream is consumed,
//! and what the scenario expects of it.

use std::time::Duration;

use serde::Serialize;

use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::selector::Selector;

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
    /// How long the consumer works on each item before it reads the next (a reconcile that
    /// blocks its stream); `None` reads at once.
    pub work_per_item: Option<Duration>,
    /// What the consumer sees of the watcher, and so what its view is judged by.
    pub shape: Shape,
    /// What the scenario expects of this set-up.
    pub expected: Expected,
    /// The mechanism it is expected to fail by; `Some` exactly when it is expected to fail.
    pub expected_mechanism: Option<Mechanism>,
    /// The protocol checks whose failure does not fail it (`expect.tolerate`).
    pub tolerate: Vec<CheckName>,
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
    /// kube's `default_backoff()` parameters
    /// ([`KUBE_DEFAULT_BACKOFF`](crate::subject::KUBE_DEFAULT_BACKOFF)), with the jitter seeded
    /// from the scenario seed.
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
