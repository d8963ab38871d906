//! Faults: the typed spec a scenario names ([`Fault`]), whom it hits ([`Target`]), and the
//! rules the server consults while it serves ([`FaultRules`]).
//!
//! Each fault has one faithful wire form (shared/docs/k8s-watch-semantics.md §7). Three kinds:
//! - **instant** faults act on the server once, at their time (`compact`, `expire_watches`,
//!   `restart`), and `cut_stream` / `stall_stream` also hit the watches open at that moment;
//! - **window** faults on bookmarks (`idle`, `drop_bookmarks`, `stale_bookmarks`,
//!   `empty_bookmarks`) change every bookmark due inside `[at, at + for)`;
//! - **request** faults hit the requests that match their [`Target`]: verbs, a time window, a
//!   count, and substrings of the path and query.
//!
//! Rules are checked in declaration order and the first that applies wins (as in turmoil's
//! `rule.rs`). This module owns no I/O and never reads a clock: callers pass the virtual time.

mod form;
mod rule;

pub use form::{Field, FieldError, Form, KindSchema};
pub use rule::{
    BookmarkAction, FaultRules, OpenWatchHit, RequestFault, RequestFaults, RequestInfo,
    StreamFaults, TargetVerb,
};

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// HTTP errors a scenario may inject, each with its real Status (reference §4).
const HTTP_ERRORS: &[u16] = &[403, 429, 500, 503, 504];

/// Whom a request or stream fault hits. Every field narrows; none set means every request of
/// the fault's kind from its start on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The verbs it hits; empty means every verb the fault applies to.
    pub verbs: Vec<TargetVerb>,
    /// How long after its start it hits (`for:`); `None` means until the end of the run.
    pub window: Option<Duration>,
    /// How many matching requests (or, for instant stream faults, open watches) it hits.
    pub count: Option<u64>,
    /// A substring the request path must contain.
    pub path: Option<String>,
    /// A substring the raw query string must contain.
    pub query: Option<String>,
}

/// How a 410 at watch start is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoneForm {
    /// HTTP 200, one `ERROR` event, end of stream: what kube-apiserver does (reference §2.5).
    Event,
    /// An HTTP 410 response with a Status body, as proxies and aggregated API servers do.
    Http,
}

/// Whose words a 410 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoneMessage {
    /// The watch cache's `too old resource version: N (M)`.
    Cache,
    /// etcd's `The resourceVersion for the provided watch is too old.`
    Etcd,
}

/// How a watch stream is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// A clean end: the final zero-length chunk, as at a timeout.
    Clean,
    /// The connection closes in the middle of an event line, without the final chunk.
    MidChunk,
    /// The connection closes between events, without the final chunk.
    Reset,
}

/// How an error response is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// A `metav1.Status` JSON body, the apiserver's own form.
    Status,
    /// Plain text, as priority-and-fairness and Go's HTTP server write (reference §4, 429 (b)).
    Text,
}

/// What a `latency` fault slows down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyOn {
    /// Each matching request waits before it is answered.
    Requests,
    /// Each event on a matching watch arrives late.
    Events,
}

/// How an event line is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// The line is cut in half (then ends with its newline): invalid JSON.
    Truncated,
    /// Valid JSON of the wrong shape: the object without its `{"type","object"}` envelope.
    WrongShape,
}

/// What a restart does to the resourceVersion clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "revision", rename_all = "snake_case")]
pub enum Restart {
    /// The clock goes on; only the watch cache's history is lost (an apiserver restart).
    Keep,
    /// etcd starts afresh: every object is written again from revision 1.
    Reset,
    /// etcd is restored from a backup taken `by` revisions ago: the state of then comes back
    /// and the clock counts on from there, reusing revisions clients have already seen.
    Regress {
        /// How many revisions back.
        by: u64,
    },
}

/// What a restart does to the resourceVersion clock, as `revision:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Revision {
    /// See [`Restart::Keep`].
    Keep,
    /// See [`Restart::Reset`].
    Reset,
    /// See [`Restart::Regress`]; `by:` says how far.
    Regress,
}

impl Restart {
    /// `revision:` and `by:`, as a file writes them.
    #[must_use]
    pub fn parts(self) -> (Revision, Option<u64>) {
        match self {
            Self::Keep => (Revision::Keep, None),
            Self::Reset => (Revision::Reset, None),
            Self::Regress { by } => (Revision::Regress, Some(by)),
        }
    }

    /// The restart that `revision:` and `by:` describe.
    ///
    /// # Errors
    /// The key at fault and why: `regress` without `by` (or `by: 0`), or `by` without it.
    pub fn from_parts(
        revision: Revision,
        by: Option<u64>,
    ) -> Result<Self, (&'static str, &'static str)> {
        match (revision, by) {
            (Revision::Regress, Some(by)) if by > 0 => Ok(Self::Regress { by }),
            (Revision::Regress, _) => Err((
                "by",
                "`revision: regress` needs `by`: how many revisions back (at least 1)",
            )),
            (_, Some(_)) => Err(("by", "`by` only applies to `revision: regress`")),
            (Revision::Keep, None) => Ok(Self::Keep),
            (Revision::Reset, None) => Ok(Self::Reset),
        }
    }
}

/// One fault on a scenario's timeline, written `kind:` first with the keys of its kind
/// ([`Fault::walk`] names them; `Serialize` and `Deserialize` write and read that form).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The watched resource goes quiet for `duration`: no writes to it (the scenario is checked
    /// for that) and no bookmarks, so open watch streams carry no bytes at all. Background churn
    /// goes on, so the global resourceVersion moves while the watcher's stays put.
    Idle {
        /// How long the quiet lasts.
        duration: Duration,
    },
    /// etcd compacts its history, as it does every 5 minutes: every revision taken before
    /// `now - retain` (all but the current one when `retain` is absent) is gone, and an exact
    /// LIST, a continue token or (without a watch cache) a watch from one gets `410 Expired`.
    /// A cached resource's watches are served from the watch cache and do not notice.
    Compact {
        /// How much recent history survives.
        retain: Option<Duration>,
    },
    /// Bookmarks are left out for `duration`: legal server behaviour
    /// (<https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks>), so the
    /// watcher's resume point goes stale.
    DropBookmarks {
        /// How long bookmarks are dropped.
        duration: Duration,
    },
    /// For `duration`, bookmarks carry the revision the server had when the fault began, not
    /// the current one: a lagging cache.
    StaleBookmarks {
        /// How long bookmarks are stale.
        duration: Duration,
    },
    /// For `duration`, bookmarks carry an empty `resourceVersion`.
    EmptyBookmarks {
        /// How long bookmarks are empty.
        duration: Duration,
    },
    /// Streaming lists never get their `k8s.io/initial-events-end` bookmark.
    DropInitialEventsEnd {
        /// Which watches.
        target: Target,
    },
    /// The history the open watches stand on is taken away, as when etcd compacts past
    /// watchers that fell behind: the cluster moves on, etcd compacts at the current revision,
    /// and without a watch cache every open watch whose client now holds a compacted
    /// resourceVersion gets one `ERROR` 410 and ends; with one, the cache's own etcd watch is
    /// compacted away, so it re-lists and ends every open watch cleanly, and a watch from
    /// before the re-list gets 200 and `ERROR` 410. The resourceVersions are too old from then
    /// on, for watches and exact LISTs alike.
    ExpireWatches,
    /// Matching watches get a 410 as soon as they start. In the apiserver's own form (an ERROR
    /// event) the 410 is true: the server first takes the history after the watch's
    /// resourceVersion away, as a compaction or a watch cache re-list would, so that
    /// resourceVersion stays too old; only watches from a resourceVersion are hit. As an HTTP
    /// 410 it is a proxy's answer, and the server behind it is not changed.
    Watch410 {
        /// ERROR event in a 200, or an HTTP 410.
        form: GoneForm,
        /// The cache's or etcd's words, for an HTTP 410; `None` (and always, for the ERROR
        /// event) the words of the server's own backend: the watch cache's for a cached
        /// resource, etcd's otherwise.
        message: Option<GoneMessage>,
        /// Whether the Status carries its `code` (some proxies and old servers leave it out).
        code: bool,
        /// Which watches.
        target: Target,
    },
    /// Matching watches get HTTP 200 and an immediate end of stream, with no event at all, as
    /// real servers do for stale Events watches (kubernetes#104171).
    EmptyWatch {
        /// Which watches.
        target: Target,
    },
    /// Watches open now are cut; with a window (`for:`), so are matching ones that start in it.
    CutStream {
        /// How.
        how: Cut,
        /// Which watches.
        target: Target,
    },
    /// Watches open now go half-open, and with a window (`for:`) so do matching ones that start
    /// in it: the connection stays and nothing more arrives, not even the end at the timeout.
    StallStream {
        /// Which watches.
        target: Target,
    },
    /// Matching requests are accepted and their response headers never come.
    HangHeaders {
        /// Which requests.
        target: Target,
    },
    /// Matching requests get an HTTP error.
    HttpError {
        /// 403, 429, 500, 503 or 504.
        status: u16,
        /// Status JSON or plain text.
        body: ErrorBody,
        /// `Retry-After` (and `retryAfterSeconds`), in whole seconds.
        retry_after: Option<u32>,
        /// Which requests.
        target: Target,
    },
    /// Matching requests, or the events of matching watches, are delayed.
    Latency {
        /// By how much.
        delay: Duration,
        /// Requests or events.
        on: LatencyOn,
        /// Which requests or watches.
        target: Target,
    },
    /// Event lines on matching watches are malformed; `target.count` counts lines.
    MalformedEvent {
        /// How.
        shape: Malformed,
        /// Which watches.
        target: Target,
    },
    /// The continue tokens of matching LIST pages have expired: etcd compacts just past the
    /// token's revision, so the page gets 410 with a replacement token, and an exact LIST at
    /// that revision is too old too. `count: 1` expires one attempt; no count expires every
    /// attempt.
    ExpireContinue {
        /// Which pages.
        target: Target,
    },
    /// The server restarts, as kube-apiserver does (measured on the anchor, README "The real
    /// thing beside the simulation"). On SIGTERM it stops listening at once (new connections
    /// are refused) and closes idle connections, while requests in flight, watches included,
    /// go on for `drain`, until the process exits. Then every open connection goes with it,
    /// the new process listens [`Fault::RESTART_LISTENS_AFTER`] later, and it serves
    /// `down` after the exit: a connection made before then is taken and waits for its answer.
    /// Its watch cache re-lists from etcd, so a watch from before the restart is too old for a
    /// cached resource.
    Restart {
        /// What happens to the resourceVersion clock.
        restart: Restart,
        /// From the old process's exit until the new one serves. Default
        /// [`Fault::RESTART_DOWN`]. `0s` keeps the connections open and only resets the
        /// watches (a restart no client sees at the transport).
        down: Duration,
        /// From SIGTERM until the process exits. `0s` (the default): it is killed (a crash, an
        /// OOM kill, SIGKILL). With watches open, kube-apiserver exits only when its shutdown
        /// timeout (60 s, `RequestTimeout`: genericapiserver.go) runs out or when it is killed,
        /// as kubelet does after the pod's `terminationGracePeriodSeconds` (default 30 s).
        drain: Duration,
    },
}

impl Fault {
    /// How long after the old process exits the new one serves, by default: kube-apiserver
    /// 1.37.2 on the anchor control plane answered its first request 0.98 s after the old
    /// process exited (measured; README "The real thing beside the simulation"). A real
    /// cluster's, with a kubelet restarting a static pod, is longer.
    pub const RESTART_DOWN: Duration = Duration::from_secs(1);

    /// How long after the old process exits the new one listens (65 ms on the anchor): until
    /// then a connection is refused; after, it is taken and waits for the new process to serve.
    pub const RESTART_LISTENS_AFTER: Duration = Duration::from_millis(60);
}

impl Fault {
    /// Whether the fault is one a server could be in, as the file form can say more than that:
    /// windows that last, counts of at least one, verbs the kind can hit, errors the server
    /// gives, a proxy's wording only on a proxy's 410.
    ///
    /// # Errors
    /// The key at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.duration_key().is_some_and(|d| d.is_zero()) {
            return Err(("for", "a window fault must last longer than 0s".into()));
        }
        if let Some(target) = self.target() {
            if target.count == Some(0) {
                return Err((
                    "count",
                    "must be at least 1 (leave it out to hit every matching request)".into(),
                ));
            }
            let verbs = self.applicable_verbs();
            if let Some(bad) = target.verbs.iter().find(|v| !verbs.contains(v)) {
                return Err((
                    "verbs",
                    format!(
                        "`kind: {}` cannot hit `{}` requests; it hits {}",
                        self.kind(),
                        bad.name(),
                        verbs
                            .iter()
                            .map(|v| v.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        match self {
            Self::HttpError { status, .. } if !HTTP_ERRORS.contains(status) => Err((
                "status",
                format!(
                    "{status} is not one of the errors the server can give: 403, 429, 500, 503, 504"
                ),
            )),
            Self::Watch410 {
                form: GoneForm::Event,
                message: Some(_),
                ..
            } => Err((
                "message",
                "`message` applies to `form: http` (a proxy's 410); the apiserver's own ERROR event speaks for its backend: the watch cache's words for a cached resource, etcd's otherwise".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The window a fault's `for:` gives, where it has one.
    fn duration_key(&self) -> Option<Duration> {
        match self {
            Self::Idle { duration }
            | Self::DropBookmarks { duration }
            | Self::StaleBookmarks { duration }
            | Self::EmptyBookmarks { duration } => Some(*duration),
            other => other.target().and_then(|t| t.window),
        }
    }

    /// Who it hits, for request and stream faults.
    #[must_use]
    pub fn target(&self) -> Option<&Target> {
        match self {
            Self::DropInitialEventsEnd { target }
            | Self::Watch410 { target, .. }
            | Self::EmptyWatch { target }
            | Self::CutStream { target, .. }
            | Self::StallStream { target }
            | Self::HangHeaders { target }
            | Self::HttpError { target, .. }
            | Self::Latency { target, .. }
            | Self::MalformedEvent { target, .. }
            | Self::ExpireContinue { target } => Some(target),
            Self::Idle { .. }
            | Self::Compact { .. }
            | Self::DropBookmarks { .. }
            | Self::StaleBookmarks { .. }
            | Self::EmptyBookmarks { .. }
            | Self::ExpireWatches
            | Self::Restart { .. } => None,
        }
    }

    /// Who it hits, to change.
    pub fn target_mut(&mut self) -> Option<&mut Target> {
        match self {
            Self::DropInitialEventsEnd { target }
            | Self::Watch410 { target, .. }
            | Self::EmptyWatch { target }
            | Self::CutStream { target, .. }
            | Self::StallStream { target }
            | Self::HangHeaders { target }
            | Self::HttpError { target, .. }
            | Self::Latency { target, .. }
            | Self::MalformedEvent { target, .. }
            | Self::ExpireContinue { target } => Some(target),
            Self::Idle { .. }
            | Self::Compact { .. }
            | Self::DropBookmarks { .. }
            | Self::StaleBookmarks { .. }
            | Self::EmptyBookmarks { .. }
            | Self::ExpireWatches
            | Self::Restart { .. } => None,
        }
    }

    /// How long the fault lasts: its window, zero for instant faults and for request faults
    /// without a window (those end when their count is used up, which the timeline cannot
    /// know).
    #[must_use]
    pub fn duration(&self) -> Duration {
        match self {
            Self::Idle { duration }
            | Self::DropBookmarks { duration }
            | Self::StaleBookmarks { duration }
            | Self::EmptyBookmarks { duration } => *duration,
            other => other
                .target()
                .and_then(|t| t.window)
                .unwrap_or(Duration::ZERO),
        }
    }

    /// The verbs a fault can hit at all.
    #[must_use]
    pub fn applicable_verbs(&self) -> &'static [TargetVerb] {
        const WATCH: &[TargetVerb] = &[TargetVerb::Watch];
        const ANY: &[TargetVerb] = &[TargetVerb::List, TargetVerb::Watch, TargetVerb::Get];
        match self {
            Self::ExpireContinue { .. } => &[TargetVerb::List],
            Self::HttpError { .. } | Self::HangHeaders { .. } => ANY,
            Self::Latency { on, .. } => match on {
                LatencyOn::Requests => ANY,
                LatencyOn::Events => WATCH,
            },
            _ => WATCH,
        }
    }
}
