//! One fault on a scenario's timeline ([`Fault`]): what each kind does, how long it lasts, whom
//! it hits, and whether it is one a server could be in ([`Fault::check`]); and its kind
//! ([`FaultKind`]), with the name `kind:` gives it.
//!
//! Each fault has one faithful wire form (shared/docs/k8s-watch-semantics.md §7).
//!
//! The kinds are one list, beside the faults they name. The file form's walk
//! ([`Fault::walk`]), the schema editors read, the loader's "expected one of", explore's budget
//! and draws all walk [`FaultKind::ALL`] or match on [`FaultKind`], so a new [`Fault`] variant
//! does not compile until it has a kind ([`Fault::kind_of`]), and a new kind does not compile
//! until the form and explore know it. The trace records the kind of each fault that plays.

use std::time::Duration;

use super::restart::Restart;
use super::target::{Target, TargetVerb};
use super::wire_shape::Cut;
use super::wire_shape::{ErrorBody, GoneForm, GoneMessage, LatencyOn, Malformed, StreamError};

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
    /// For `duration`, bookmarks run ahead of the events: each change reaches a watch `lag`
    /// after it was written, as from a backlog in etcd's watch stream, while each bookmark
    /// carries the revision the server has now. This is etcd's requested progress notification
    /// sent before the events it covers (etcd#15220, fixed in etcd#15237 for 3.4.25 and 3.5.8),
    /// which the watch cache takes as its revision and hands on in its bookmarks: an apiserver
    /// that asks etcd for progress without checking its version first (the version check,
    /// `storage/feature/feature_support_checker.go`, came later) against an etcd before the
    /// fix. The events still come, after the bookmark (`cacheWatcher.process` compares them
    /// only with where the watch started): a client that resumes from the bookmark before
    /// they do never gets them.
    EarlyBookmarks {
        /// How long bookmarks run ahead.
        duration: Duration,
        /// How late each change reaches the watch.
        lag: Duration,
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
    /// Matching watches that start are answered HTTP 200, one in-stream `ERROR` that is not a
    /// 410, and the end of the stream, as the server's `error` says and whom it says it to.
    WatchError {
        /// Which error, in the apiserver's words.
        error: StreamError,
        /// Which watches.
        target: Target,
    },
    /// The load balancer in front of `server.replicas` fails over to the replica `to`: its
    /// health checks fail every other one (a zone outage, a network partition), so from now on
    /// every connection and request goes to `to`, and the connections it held to the others
    /// are reset, open watches with them. The clients reconnect to `to`, whatever its watch
    /// cache has heard by then.
    Failover {
        /// The replica everything goes to.
        to: String,
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

    /// How late changes come under `early_bookmarks`, by default: long enough that a cut a
    /// few seconds after a bookmark finds events still owed.
    pub const EARLY_BOOKMARKS_LAG: Duration = Duration::from_secs(5);

    /// The HTTP errors a scenario may inject, each with its real Status (reference §4).
    pub const HTTP_ERRORS: &[u16] = &[403, 429, 500, 503, 504];

    /// Every `kind:` a fault can be written with, in [`FaultKind::ALL`]'s order.
    #[must_use]
    pub fn kinds() -> Vec<&'static str> {
        FaultKind::names().collect()
    }

    /// The `kind:` this fault is written with.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        self.kind_of().name()
    }

    /// Its kind: a new variant does not compile until it has one.
    #[must_use]
    pub fn kind_of(&self) -> FaultKind {
        match self {
            Fault::Idle { .. } => FaultKind::Idle,
            Fault::Compact { .. } => FaultKind::Compact,
            Fault::DropBookmarks { .. } => FaultKind::DropBookmarks,
            Fault::StaleBookmarks { .. } => FaultKind::StaleBookmarks,
            Fault::EmptyBookmarks { .. } => FaultKind::EmptyBookmarks,
            Fault::DropInitialEventsEnd { .. } => FaultKind::DropInitialEventsEnd,
            Fault::ExpireWatches => FaultKind::ExpireWatches,
            Fault::Watch410 { .. } => FaultKind::Watch410,
            Fault::EmptyWatch { .. } => FaultKind::EmptyWatch,
            Fault::CutStream { .. } => FaultKind::CutStream,
            Fault::StallStream { .. } => FaultKind::StallStream,
            Fault::HangHeaders { .. } => FaultKind::HangHeaders,
            Fault::HttpError { .. } => FaultKind::HttpError,
            Fault::Latency { .. } => FaultKind::Latency,
            Fault::MalformedEvent { .. } => FaultKind::MalformedEvent,
            Fault::ExpireContinue { .. } => FaultKind::ExpireContinue,
            Fault::Restart { .. } => FaultKind::Restart,
            Fault::WatchError { .. } => FaultKind::WatchError,
            Fault::EarlyBookmarks { .. } => FaultKind::EarlyBookmarks,
            Fault::Failover { .. } => FaultKind::Failover,
        }
    }

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
            Self::HttpError { status, .. } if !Self::HTTP_ERRORS.contains(status) => Err((
                "status",
                format!(
                    "{status} is not one of the errors the server can give: {}",
                    Self::HTTP_ERRORS
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
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
            Self::EarlyBookmarks { lag, .. } if lag.is_zero() => Err((
                "lag",
                "bookmarks run ahead only of events that come late: `lag` must be longer than 0s"
                    .into(),
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
            | Self::EmptyBookmarks { duration }
            | Self::EarlyBookmarks { duration, .. } => Some(*duration),
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
            | Self::ExpireContinue { target }
            | Self::WatchError { target, .. } => Some(target),
            Self::Idle { .. }
            | Self::Compact { .. }
            | Self::DropBookmarks { .. }
            | Self::StaleBookmarks { .. }
            | Self::EmptyBookmarks { .. }
            | Self::EarlyBookmarks { .. }
            | Self::ExpireWatches
            | Self::Restart { .. }
            | Self::Failover { .. } => None,
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
            | Self::ExpireContinue { target }
            | Self::WatchError { target, .. } => Some(target),
            Self::Idle { .. }
            | Self::Compact { .. }
            | Self::DropBookmarks { .. }
            | Self::StaleBookmarks { .. }
            | Self::EmptyBookmarks { .. }
            | Self::EarlyBookmarks { .. }
            | Self::ExpireWatches
            | Self::Restart { .. }
            | Self::Failover { .. } => None,
        }
    }

    /// How long the fault lasts: its window, zero for instant faults and for request faults
    /// without a window (those end when their count is used up, which the timeline cannot
    /// know).
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.duration_key().unwrap_or(Duration::ZERO)
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

/// Spells the list once: the enum, [`FaultKind::ALL`] in the same order, and each name, so that
/// no kind can be in one and missing from another.
macro_rules! fault_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal,)*) => {
        /// A kind of [`Fault`], as a scenario's `kind:` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FaultKind {
            $($(#[$doc])* $kind,)*
        }

        impl FaultKind {
            /// Every kind, in the order messages list them and explore draws from them (a
            /// seed's draws depend on it: append, never reorder).
            pub const ALL: &'static [Self] = &[$(Self::$kind,)*];

            /// The name `kind:` gives it.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$kind => $name,)*
                }
            }
        }
    };
}

fault_kinds! {
    /// [`Fault::Idle`].
    Idle => "idle",
    /// [`Fault::Compact`].
    Compact => "compact",
    /// [`Fault::DropBookmarks`].
    DropBookmarks => "drop_bookmarks",
    /// [`Fault::StaleBookmarks`].
    StaleBookmarks => "stale_bookmarks",
    /// [`Fault::EmptyBookmarks`].
    EmptyBookmarks => "empty_bookmarks",
    /// [`Fault::DropInitialEventsEnd`].
    DropInitialEventsEnd => "drop_initial_events_end",
    /// [`Fault::ExpireWatches`].
    ExpireWatches => "expire_watches",
    /// [`Fault::Watch410`].
    Watch410 => "watch_410",
    /// [`Fault::EmptyWatch`].
    EmptyWatch => "empty_watch",
    /// [`Fault::CutStream`].
    CutStream => "cut_stream",
    /// [`Fault::StallStream`].
    StallStream => "stall_stream",
    /// [`Fault::HangHeaders`].
    HangHeaders => "hang_headers",
    /// [`Fault::HttpError`].
    HttpError => "http_error",
    /// [`Fault::Latency`].
    Latency => "latency",
    /// [`Fault::MalformedEvent`].
    MalformedEvent => "malformed_event",
    /// [`Fault::ExpireContinue`].
    ExpireContinue => "expire_continue",
    /// [`Fault::Restart`].
    Restart => "restart",
    /// [`Fault::WatchError`].
    WatchError => "watch_error",
    /// [`Fault::EarlyBookmarks`].
    EarlyBookmarks => "early_bookmarks",
    /// [`Fault::Failover`].
    Failover => "failover",
}

impl FaultKind {
    /// The kind `kind:` names `name`, if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Every name, in [`FaultKind::ALL`]'s order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|k| k.name())
    }
}

/// Its name, as `kind:` writes it (in a trace's JSON too).
impl serde::Serialize for FaultKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Its name, as `kind:` writes it.
impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_kind_is_named_once_and_found_by_its_name() {
        let names: BTreeSet<_> = FaultKind::names().collect();
        assert_eq!(names.len(), FaultKind::ALL.len());
        for &kind in FaultKind::ALL {
            assert_eq!(FaultKind::named(kind.name()), Some(kind));
        }
        assert_eq!(FaultKind::named("expire_watchs"), None);
    }

    /// The README's table is prose no code can walk, so this holds it to the list.
    #[test]
    fn the_readme_s_fault_table_has_a_row_for_every_kind_in_order() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split_once("### Faults")
            .and_then(|(_, after)| after.split_once("\n\n|"))
            .map(|(_, table)| table.split("\n\n").next().unwrap_or_default())
            .expect("README has a fault table under `### Faults`");
        let rows: Vec<&str> = table
            .lines()
            .filter_map(|row| row.strip_prefix("| `")?.split_once('`'))
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(rows, FaultKind::names().collect::<Vec<_>>());
    }
}
