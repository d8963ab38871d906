//! What a watch sent and how it ended.

use serde::Serialize;

use super::object_key::ObjectKey;
use crate::fault::{Cut, FaultKind};

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
    /// A `cut_stream` or `restart` fault cut it, or (behind `harness proxy`) the apiserver's
    /// connection broke.
    Cut {
        /// How.
        how: Cut,
        /// The kind of fault that cut it, as the server knew when it did; `None` when no fault
        /// of the harness's did, or the proxy cannot tell.
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<FaultKind>,
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
    /// Whether it ended with the server saying the history it resumed from is gone: an ERROR
    /// of code 410, or one whose Status lost its code but kept the reason (`Expired` or
    /// `Gone`, which apimachinery gives only with 410: `errors.go`).
    #[must_use]
    pub fn gone(&self) -> bool {
        match self {
            Self::Error { code: 410, .. } => true,
            Self::Error {
                code: 0, reason, ..
            } => reason == "Expired" || reason == "Gone",
            _ => false,
        }
    }

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
            Self::Cut { how, .. } => format!("cut ({how})"),
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
    /// The watch cache closed it as unresponsive: its buffer stayed full for the dispatch
    /// budget, as a client that reads too slowly leaves it (`Forcing ... watcher close due to
    /// unresponsiveness` in apiserver `storage/cacher/cache_watcher.go`).
    Unresponsive,
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
            Self::Unresponsive => {
                "the watch cache closed it as unresponsive: the client read too slowly"
            }
            Self::Upstream => "the apiserver behind the proxy ended it before its timeout",
        }
    }
}
