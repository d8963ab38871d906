//! The one vocabulary every module shares: a [`Trace`] of [`TraceEvent`]s in virtual time.
//!
//! The server records the truth (writes, faults, requests and how each watch ended); the subject
//! records what the watcher emitted. The verdict reads nothing else. A [`Recorder`] stamps
//! events with virtual time since the start of the run; it must be created inside the run's
//! (paused) tokio runtime.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

pub use crate::watcher_fault::{WatcherErrorVariant, WatcherFault};

/// One thing that happened, at a virtual time since the start of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEvent {
    /// Virtual time since the start of the run.
    pub at: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// Whether a write carries no selectable fields (its kind has none): left out of the JSON.
fn no_fields(fields: &Arc<std::collections::BTreeMap<String, String>>) -> bool {
    fields.is_empty()
}

/// An object's identity: `namespace/name`, or `name` when cluster-scoped.
pub type ObjectKey = String;

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TraceKind {
    /// The server wrote the watched resource (the truth changed).
    Write {
        /// Which object.
        key: ObjectKey,
        /// Its labels after the write (before it, for a delete), shared with the server's copy.
        labels: Arc<std::collections::BTreeMap<String, String>>,
        /// The values of the kind's own selectable fields after the write (before it, for a
        /// delete): a Pod's `spec.nodeName`, an Event's `reason`. Empty for a kind with none.
        /// Shared with the write before it when they did not change.
        #[serde(skip_serializing_if = "no_fields")]
        fields: Arc<std::collections::BTreeMap<String, String>>,
        /// The revision of the write.
        resource_version: u64,
        /// `false` for a delete.
        exists: bool,
    },
    /// A fault started.
    Fault {
        /// Its `kind:`.
        fault: String,
    },
    /// History was compacted: revisions below `revision` are gone.
    Compacted {
        /// The first revision still servable.
        revision: u64,
    },
    /// The watch cache re-listed at `revision` (a restart, or its own etcd watch was
    /// compacted away): a watch from an older resourceVersion is too old from now on.
    WatchCacheReset {
        /// The revision of its new list.
        revision: u64,
    },
    /// The server answered a request (for a watch: the response head was sent).
    Request(RequestRecord),
    /// A watch request got its 200 (reference §2.2): from which resourceVersion it asked to
    /// resume, and the lowest one the server could resume a watch from then.
    WatchOpened {
        /// The watch request's sequence number.
        request: u64,
        /// The resourceVersion it resumes from; `None` for a watch from "now" (unset or `0`)
        /// or a streaming list.
        from: Option<u64>,
        /// The lowest resourceVersion a watch could start from: below it, a 410.
        floor: u64,
        /// The server's current revision: above it, the watch waits for the clock.
        revision: u64,
    },
    /// The server sent an event on a watch: what went on the wire, beside what the watcher then
    /// emitted.
    Sent {
        /// The watch request's sequence number.
        request: u64,
        /// The event.
        event: SentEvent,
    },
    /// A watch response ended.
    WatchEnded {
        /// The request's sequence number.
        request: u64,
        /// How it ended.
        reason: WatchEnd,
        /// Events sent, bookmarks included.
        events: u64,
    },
    /// The kube client the watcher ran on, as built: kube's own settings with the set-up's
    /// on top.
    Client {
        /// Its read timeout, in virtual time; `None`: none at all.
        read_timeout: Option<Duration>,
        /// Whether kube's retry of 429/503/504 is on.
        retry: bool,
    },
    /// The watcher emitted `Event::Init`.
    Init,
    /// The watcher emitted `Event::InitApply`.
    InitApply {
        /// Which object.
        key: ObjectKey,
        /// Its resourceVersion as the watcher saw it.
        resource_version: u64,
    },
    /// The watcher emitted `Event::InitDone`.
    InitDone,
    /// The watcher emitted `Event::Apply`.
    Apply {
        /// Which object.
        key: ObjectKey,
        /// Its resourceVersion as the watcher saw it.
        resource_version: u64,
    },
    /// The watcher emitted `Event::Delete`.
    Delete {
        /// Which object.
        key: ObjectKey,
        /// The deletion's resourceVersion as the watcher saw it.
        resource_version: u64,
    },
    /// The watcher emitted an error.
    WatcherError(WatcherFault),
    /// A request fault answered (or delayed) request `request` in the server's place: the fault
    /// acted then, which for one aimed by a count is later than it was put in place.
    FaultHit {
        /// The request's sequence number.
        request: u64,
    },
    /// The consumer stopped: nothing more will be read from the watcher.
    StreamEnded {
        /// Why, in words.
        cause: String,
    },
    /// The run was stopped early as a request storm: past the scenario's request cap, or
    /// [`STORM_BURST`] lists and watches within [`STORM_SPAN`] of virtual time.
    Storm {
        /// Requests made by then.
        requests: u64,
        /// For a burst, the virtual time its lists and watches took; `None` for the cap.
        burst: Option<Duration>,
    },
    /// The reflector's store at the end of the run.
    Store {
        /// Each object with its resourceVersion.
        objects: Vec<(ObjectKey, u64)>,
    },
}

/// Lists and watches started within [`STORM_SPAN`] of virtual time that make a request storm:
/// no controller needs a thousand in a second, and a real apiserver's priority and fairness
/// would be queueing and rejecting them long before. Continue pages of one LIST do not count.
pub const STORM_BURST: usize = 1_000;

/// See [`STORM_BURST`].
pub const STORM_SPAN: Duration = Duration::from_secs(1);

/// Why a run was stopped as a storm, in words: `1000 lists and watches within 0s of virtual
/// time`, or `10001 requests, past the cap of 10000`.
#[must_use]
pub fn storm_words(requests: u64, burst: Option<Duration>, cap: u64) -> String {
    match burst {
        Some(span) => format!(
            "{STORM_BURST} lists and watches within {} of virtual time, by request #{requests}",
            crate::span::format(span)
        ),
        None => format!("{requests} requests, past the cap of {cap}"),
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Sequence number within the run, from 1.
    pub id: u64,
    /// `GET`, ...
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The HTTP status sent.
    pub status: u16,
    /// What kind of request the server took it for.
    pub verb: Verb,
    /// Its `User-Agent`, which tells one client from another in live mode; empty when it
    /// sent none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agent: String,
    /// The local process that opened its connection, when the live server was asked to tell
    /// (`harness exec`, [`crate::peer`]): clients are told apart by it before their agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<u32>,
}

/// What kind of request the server took a request for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// A LIST (first page: no `continue`).
    List,
    /// A later LIST page (with `continue`).
    ListPage,
    /// A WATCH.
    Watch,
    /// A GET of one object.
    Get,
    /// Discovery or anything else.
    Other,
}

impl Verb {
    /// The verb kube-apiserver's authorizer names it by, as a 403's message does: `list` (a
    /// continue page is one), `watch`, `get` (discovery is one) (apiserver
    /// `endpoints/request/requestinfo.go`).
    #[must_use]
    pub fn authorizer_verb(self) -> &'static str {
        match self {
            Self::List | Self::ListPage => "list",
            Self::Watch => "watch",
            Self::Get | Self::Other => "get",
        }
    }

    /// The `verb` label kube-apiserver's request metrics give it: the authorizer's, in
    /// capitals (apiserver `endpoints/metrics/metrics.go`, `CleanVerb`).
    #[must_use]
    pub fn metric_verb(self) -> &'static str {
        match self {
            Self::List | Self::ListPage => "LIST",
            Self::Watch => "WATCH",
            Self::Get | Self::Other => "GET",
        }
    }
}

/// One event a watch sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentEvent {
    /// Its `type`.
    #[serde(rename = "type")]
    pub type_: EventType,
    /// The object's key, for an object event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ObjectKey>,
    /// The resourceVersion it carried; `None` for an ERROR, or a bookmark sent with an empty one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<u64>,
    /// How the line was damaged on its way out, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<Damage>,
}

/// The `type` of a watch event, with the end of a streaming list's initial events apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
    /// `BOOKMARK`.
    Bookmark,
    /// The `BOOKMARK` annotated `k8s.io/initial-events-end` that ends a streaming list's
    /// initial events.
    InitialEventsEnd,
    /// `ERROR`, carrying a Status.
    Error,
}

impl EventType {
    /// The `type` an event of this kind carries on the wire (`metav1.WatchEvent`); the end of a
    /// streaming list's initial events is a `BOOKMARK` there.
    #[must_use]
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Bookmark | Self::InitialEventsEnd => "BOOKMARK",
            Self::Error => "ERROR",
        }
    }
}

/// How an event line was damaged on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// Cut in half, then ended with its newline: invalid JSON.
    Truncated,
    /// Valid JSON without its `{"type","object"}` envelope.
    WrongShape,
    /// Half of it went out, then the connection was cut.
    Cut,
}

/// How a watch response ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum WatchEnd {
    /// `timeoutSeconds` ran out: clean end of stream.
    Timeout,
    /// An ERROR event was sent, then the stream ended.
    Error {
        /// The Status code.
        code: u16,
        /// The Status reason.
        reason: String,
        /// The Status message.
        message: String,
    },
    /// The client went away (or the run ended).
    ClientGone,
    /// An `empty_watch` fault: 200 and an immediate end, no event.
    Empty,
    /// A `cut_stream` or `restart` fault cut it: `clean`, `mid_chunk` or `reset`.
    Cut {
        /// How.
        how: String,
    },
    /// A `stall_stream` fault left it half-open until the client went away.
    Stalled,
    /// The server ended it cleanly, with no ERROR event, before its timeout.
    Closed {
        /// Why.
        why: ClosedWhy,
    },
}

impl WatchEnd {
    /// In words, for reports: `timeout`, `ERROR 410 Expired: ...`, `cut (reset)`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Timeout => "timeout".to_owned(),
            Self::Error {
                code,
                reason,
                message,
            } => format!("ERROR {code} {reason}: {message}"),
            Self::ClientGone => "closed by the client".to_owned(),
            Self::Empty => "at once, with no event".to_owned(),
            Self::Cut { how } => format!("cut ({how})"),
            Self::Stalled => "half-open until the client left".to_owned(),
            Self::Closed { why } => format!("closed by the server: {}", why.describe()),
        }
    }
}

/// Why the server ended a watch cleanly before its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedWhy {
    /// The watch cache re-listed and ended every watch (`Terminating all watchers from
    /// cacher` in apiserver `storage/cacher/cacher.go`).
    CacheReset,
    /// The history it was still catching up on left the watch cache's window: the cacher ends
    /// such a watch without an ERROR event and lets the re-watch hear the 410
    /// (`processInterval` in apiserver `storage/cacher/cache_watcher.go`).
    OutOfWindow,
    /// A real apiserver behind `harness proxy` ended it cleanly before its timeout: the proxy
    /// sees the end, not why.
    Upstream,
}

impl ClosedWhy {
    /// In words, for reports.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::CacheReset => "the watch cache re-listed",
            Self::OutOfWindow => "its backlog left the watch cache's window",
            Self::Upstream => "the apiserver behind the proxy ended it before its timeout",
        }
    }
}

/// Where a simulated run's virtual time zero falls on the wall: 2026-01-01T00:00:00Z.
pub const SIMULATED_EPOCH: jiff::Timestamp = jiff::Timestamp::constant(1_767_225_600, 0);

/// A run's events in the order they happened.
pub type Trace = Vec<TraceEvent>;

/// Appends events stamped with virtual time, and is the run's clock. Cheap to clone; clones
/// share one trace.
///
/// Virtual time is tokio time multiplied by `speed`: 1 in simulated mode (where tokio's clock is
/// paused and jumps), N in a live server sped up N× (where tokio's clock is the wall clock).
/// Everything on the server that waits converts through [`Recorder::instant`], so both modes
/// share one notion of "when".
#[derive(Debug, Clone)]
pub struct Recorder {
    start: tokio::time::Instant,
    epoch: jiff::Timestamp,
    speed: u32,
    events: Arc<Mutex<Log>>,
}

/// Where recorded events go: kept for the verdict, or folded into a summary as they come, so
/// that a server which runs for hours (`harness serve`, `harness proxy`) holds no more for a
/// million requests than for one; a folding log still keeps the kinds of event its server reads
/// back (the proxy's writes, for `compact` with `retain`).
enum Log {
    Kept(Trace),
    Folded {
        kept: Trace,
        keep: fn(&TraceKind) -> bool,
        fold: Box<dyn FnMut(&TraceEvent) + Send>,
    },
}

impl Default for Log {
    fn default() -> Self {
        Self::Kept(Trace::new())
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kept(trace) => write!(f, "Kept({} events)", trace.len()),
            Self::Folded { kept, .. } => write!(f, "Folded(kept {} events)", kept.len()),
        }
    }
}

impl Log {
    fn push(&mut self, event: TraceEvent) {
        match self {
            Self::Kept(trace) => trace.push(event),
            Self::Folded { kept, keep, fold } => {
                fold(&event);
                if keep(&event.kind) {
                    kept.push(event);
                }
            }
        }
    }
}

impl Recorder {
    /// A simulated run's recorder: time zero is now, at tokio's speed, and on the wall it is
    /// [`SIMULATED_EPOCH`], so timestamps are the same in every run. Must be called inside the
    /// run's tokio runtime.
    #[must_use]
    pub fn start() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            epoch: SIMULATED_EPOCH,
            speed: 1,
            events: Arc::default(),
        }
    }

    /// A live run's recorder: time zero is now on the wall clock, and virtual time runs
    /// `speed` times faster than it (0 counts as 1). Must be called inside the run's tokio
    /// runtime.
    #[must_use]
    pub fn start_live(speed: u32) -> Self {
        Self {
            start: tokio::time::Instant::now(),
            epoch: jiff::Timestamp::now(),
            speed: speed.max(1),
            events: Arc::default(),
        }
    }

    /// A live run's recorder, as [`Recorder::start_live`], that keeps only the events `keep`
    /// says to: each event is handed to `fold` as it is recorded, and [`Recorder::snapshot`]
    /// holds only those kept.
    #[must_use]
    pub fn start_live_folding(
        speed: u32,
        keep: fn(&TraceKind) -> bool,
        fold: impl FnMut(&TraceEvent) + Send + 'static,
    ) -> Self {
        Self {
            events: Arc::new(Mutex::new(Log::Folded {
                kept: Trace::new(),
                keep,
                fold: Box::new(fold),
            })),
            ..Self::start_live(speed)
        }
    }

    /// Virtual time zero on the wall (for `creationTimestamp`s).
    #[must_use]
    pub fn epoch(&self) -> jiff::Timestamp {
        self.epoch
    }

    /// How many virtual seconds pass per second of tokio time.
    #[must_use]
    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// Virtual time since the start.
    #[must_use]
    pub fn now(&self) -> Duration {
        tokio::time::Instant::now().duration_since(self.start) * self.speed
    }

    /// The tokio instant at which virtual time `at` is reached.
    #[must_use]
    pub fn instant(&self, at: Duration) -> tokio::time::Instant {
        self.start + at / self.speed
    }

    /// Sleeps until virtual time `at`.
    pub async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep_until(self.instant(at)).await;
    }

    /// The tokio duration a virtual span takes.
    #[must_use]
    pub fn real(&self, span: Duration) -> Duration {
        span / self.speed
    }

    /// Records `kind` at the current virtual time.
    pub fn record(&self, kind: TraceKind) {
        let event = TraceEvent {
            at: self.now(),
            kind,
        };
        self.events
            .lock()
            .expect("trace lock is never poisoned: pushes cannot panic")
            .push(event);
    }

    /// Records `kind` at virtual time `at`, for what is learnt later of an earlier moment (the
    /// truth a proxy settles at the end of a run).
    pub fn record_at(&self, at: Duration, kind: TraceKind) {
        self.events
            .lock()
            .expect("trace lock is never poisoned: pushes cannot panic")
            .push(TraceEvent { at, kind });
    }

    /// A copy of everything recorded so far; for a recorder that folds, of what it kept.
    #[must_use]
    pub fn snapshot(&self) -> Trace {
        match &*self.events.lock().expect("trace lock is never poisoned") {
            Log::Kept(trace) | Log::Folded { kept: trace, .. } => trace.clone(),
        }
    }

    /// The events recorded so far, taken out: what [`snapshot`](Self::snapshot) would return,
    /// without copying a long trace, for its last reader. The recorder keeps recording from
    /// an empty trace.
    #[must_use]
    pub fn take(&self) -> Trace {
        match &mut *self.events.lock().expect("trace lock is never poisoned") {
            Log::Kept(trace) | Log::Folded { kept: trace, .. } => std::mem::take(trace),
        }
    }
}
