//! What happened in a run: a [`TraceEvent`] of some [`TraceKind`], in virtual time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::consumer_stop::ConsumerStop;
use super::object_key::ObjectKey;
use super::request::RequestRecord;
use super::watch::{SentEvent, WatchEnd};
use super::watcher_fault::WatcherFault;
use crate::fault::FaultKind;

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
fn no_fields(fields: &Arc<BTreeMap<String, String>>) -> bool {
    fields.is_empty()
}

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
        labels: Arc<BTreeMap<String, String>>,
        /// The values of the kind's own selectable fields after the write (before it, for a
        /// delete): a Pod's `spec.nodeName`, an Event's `reason`. Empty for a kind with none.
        /// Shared with the write before it when they did not change.
        #[serde(skip_serializing_if = "no_fields")]
        fields: Arc<BTreeMap<String, String>>,
        /// The revision of the write.
        resource_version: u64,
        /// `false` for a delete.
        exists: bool,
    },
    /// A fault started.
    Fault {
        /// Its kind.
        fault: FaultKind,
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
        /// The kind of the fault that acted on it.
        fault: FaultKind,
    },
    /// The consumer stopped: nothing more will be read from the watcher.
    StreamEnded {
        /// Why.
        cause: ConsumerStop,
    },
    /// The run was stopped early as a request storm: past the scenario's request cap, or
    /// [`STORM_BURST`](crate::apiserver::STORM_BURST) lists and watches within
    /// [`STORM_SPAN`](crate::apiserver::STORM_SPAN) of virtual time.
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

/// A run's events in the order they happened.
pub type Trace = Vec<TraceEvent>;
