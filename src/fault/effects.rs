//! What the server tells the rules about a request ([`RequestInfo`]), and what they tell it to
//! do: with a bookmark ([`BookmarkAction`]), a request ([`RequestFaults`], [`RequestFault`]), a
//! watch that starts ([`StreamFaults`]) or one already open ([`OpenWatchHit`]).

use std::time::Duration;

use super::faults::FaultKind;
use super::wire_shape::Cut;
use super::wire_shape::{ErrorBody, GoneForm, GoneMessage, StreamError};
use crate::trace::Verb;

/// What the server knows about a request when it asks the rules.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// The verb the server took it for.
    pub verb: Verb,
    /// The path.
    pub path: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// The `resourceVersion` it asks for, when that names a revision (not unset, `""` or `"0"`).
    pub resource_version: Option<u64>,
    /// The watch cache answers it without asking etcd: a watch from a revision or from `"0"`,
    /// a LIST at `"0"`, of a resource with a ready watch cache.
    pub from_watch_cache: bool,
}

/// A watch request as the rules see it, owned: what serves an open watch keeps it for the
/// rules the watch meets while it is open.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The resourceVersion it was asked from, when it names one.
    pub resource_version: Option<u64>,
    /// The watch cache serves it: etcd's errors never reach it.
    pub from_watch_cache: bool,
}

impl WatchRequest {
    /// The watch `info` describes.
    #[must_use]
    pub fn of(info: &RequestInfo<'_>) -> Self {
        Self {
            path: info.path.to_owned(),
            query: info.query.to_owned(),
            resource_version: info.resource_version,
            from_watch_cache: info.from_watch_cache,
        }
    }

    /// What the rules know of it.
    #[must_use]
    pub fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            verb: Verb::Watch,
            path: &self.path,
            query: &self.query,
            resource_version: self.resource_version,
            from_watch_cache: self.from_watch_cache,
        }
    }
}

/// What to do with a bookmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookmarkAction {
    /// Send it as usual.
    Pass,
    /// Leave it out; the `&str` names the fault that dropped it.
    Drop(&'static str),
    /// Send it with this old revision instead of the current one.
    Stale(u64),
    /// Send it with an empty `resourceVersion`.
    Empty,
    /// Send it with the server's revision now, ahead of events still owed.
    Early,
}

/// How a request fault answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    /// A 410 at watch start.
    Gone {
        /// Event or HTTP.
        form: GoneForm,
        /// Whose words; `None`: the server's own backend's.
        message: Option<GoneMessage>,
        /// Whether the Status carries `code`.
        code: bool,
    },
    /// 200 and an immediate end of stream.
    EmptyWatch,
    /// No response head, ever.
    HangHeaders,
    /// An HTTP error.
    HttpError {
        /// The status code.
        status: u16,
        /// Status JSON or text.
        body: ErrorBody,
        /// Retry-After seconds.
        retry_after: Option<u32>,
    },
    /// The continue token is treated as expired.
    ExpireContinue,
}

impl RequestFault {
    /// The kind of fault that answers so.
    #[must_use]
    pub fn kind(&self) -> FaultKind {
        match self {
            Self::Gone { .. } => FaultKind::Watch410,
            Self::EmptyWatch => FaultKind::EmptyWatch,
            Self::HangHeaders => FaultKind::HangHeaders,
            Self::HttpError { .. } => FaultKind::HttpError,
            Self::ExpireContinue => FaultKind::ExpireContinue,
        }
    }
}

/// What the rules say about one request: wait first, then answer with a fault or normally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFaults {
    /// Wait this long before anything else.
    pub delay: Option<Duration>,
    /// Answer with this instead of serving.
    pub answer: Option<RequestFault>,
}

impl RequestFaults {
    /// The kinds of fault that act on the request: `latency` if it waits, then the one that
    /// answers it.
    pub fn kinds(&self) -> impl Iterator<Item = FaultKind> {
        let delayed = self.delay.map(|_| FaultKind::Latency);
        delayed.into_iter().chain(self.answer.map(|a| a.kind()))
    }
}

/// What an instant stream fault does to an open watch it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenWatchHit {
    /// Cut it.
    Cut(Cut),
    /// Leave it half-open.
    Stall,
}

/// What the rules say about a watch that starts now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFaults {
    /// Cut right after it starts.
    pub cut: Option<Cut>,
    /// Half-open from the start.
    pub stall: bool,
    /// A streaming list's end marker is never sent.
    pub drop_end_marker: bool,
    /// Answered with this in-stream `ERROR` and the end, before any event.
    pub error: Option<StreamError>,
}

impl StreamFaults {
    /// The faults that hit a watch as it starts, `send_initial` when it is a streaming list:
    /// the server says so, for the verdict cannot tell them from the timeline alone.
    #[must_use]
    pub fn hit_at_start(&self, send_initial: bool) -> Vec<FaultKind> {
        [
            (self.stall, FaultKind::StallStream),
            (self.cut.is_some(), FaultKind::CutStream),
            (
                self.drop_end_marker && send_initial,
                FaultKind::DropInitialEventsEnd,
            ),
        ]
        .into_iter()
        .filter_map(|(hit, fault)| hit.then_some(fault))
        .collect()
    }
}
