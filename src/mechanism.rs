//! The mechanisms by which a watch client fails: what the verdict's diagnosis names, and what a
//! scenario's `expect.fail` says a set-up is expected to fail by. Each is one causal story from
//! a state of the server to a reaction of the watcher; `verdict` holds the rule that recognises
//! it in a trace.

use serde::{Deserialize, Serialize};

/// How a set-up failed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mechanism {
    /// The consumer stopped on an error that kube's watcher recovers from by itself (the
    /// `try_next()?` of kube-rs#1615).
    StoppedOnRecoverableError,
    /// A request's response head never came, and nothing on the client timed it out.
    NeverAnswered,
    /// A watch went half-open and neither the watcher's idle timeout nor a read timeout gave up
    /// on it.
    HalfOpenWatch,
    /// kube's read timeout is shorter than the silence between bookmarks, or the server sends
    /// none (no watch cache), so every quiet watch times out and the watcher is blind while it
    /// backs off.
    ReadTimeoutBelowBookmarks,
    /// The watcher never emitted `InitDone` (a streaming list that never got its
    /// `k8s.io/initial-events-end` bookmark): its store never became ready.
    StoreNeverReady,
    /// A streaming list lost its `k8s.io/initial-events-end` bookmark after the store had been
    /// ready: kube's watcher held every change in its initial state until the server ended
    /// that watch at its timeout, and the store caught up only then, past the deadline.
    InitDoneLate,
    /// The server refused the watcher's request as invalid, with no fault of the harness's
    /// behind it (a streaming list where the WatchList feature is off), and the watcher
    /// repeated it unchanged: the set-up asks for what the server will not give.
    RequestRefused,
    /// An event went out on the wire and never came out of the watcher: kube dropped the line,
    /// and nothing relisted.
    EventDropped,
    /// A bookmark ran ahead of events still owed to its watch (etcd's progress notification
    /// overtaking its events, etcd#15220), the watch ended before they were sent, and the
    /// watcher resumed from the bookmark, past them: they never came.
    BookmarkAheadOfEvents,
    /// The watcher resumed from an empty resourceVersion (a bookmark that carried `""`) and
    /// skipped what happened in between.
    ResumedFromEmpty,
    /// Behind a load balancer, a replica whose watch cache lags etcd served the watcher: a
    /// relist at `resourceVersion=0` it answered took the view back to older versions than the
    /// watcher had seen from another replica, or a watch it served delivered every change as
    /// late as the cache heard it (kubernetes#59848).
    LaggingReplica,
    /// The watcher resumed from a resourceVersion ahead of the server (etcd reset or restored):
    /// the watch waits for the clock, and the writes made meanwhile never come.
    ResumedFromFuture,
    /// The consumer read its watch slower than the server wrote to it and fell behind past
    /// the deadline: the watch cache closed the watch as unresponsive and the events already
    /// sent took so long to read that the resume point left the window (a 410, a relist), or,
    /// without a watch cache, etcd held the watch back and the consumer was still reading.
    SlowConsumer,
    /// The watcher's resume point fell out of the server's history, again or too late: a 410
    /// and a relist each time, as nothing kept the resume point fresh.
    StaleResumePoint,
    /// The server said the history the watcher resumed from was gone (a 410 at connect, which
    /// kube's watcher does not read as a reason to relist), and it resumed from the same
    /// resourceVersion again instead of listing: a breach of the protocol, whatever the view
    /// showed.
    ResumedAfterGone,
    /// A watch resumed from a resourceVersion behind the last one the client had been sent:
    /// it asks again for changes it has already seen.
    ResumedFromBehind,
    /// The server answered with a `Retry-After` and the client asked again sooner: kube's
    /// watcher backoff retried, as kube-client's retry layer (the one part of kube that reads
    /// `Retry-After`) was off or had given up.
    RetryAfterIgnored,
    /// Watches ended cleanly at once and kube's watcher re-watched with no backoff, as it does
    /// after a clean end: a request storm.
    HotLoopOnCleanEnds,
    /// Errors were retried at once, with no backoff: a request storm.
    HotLoopWithoutBackoff,
    /// kube's watcher emits `Init` as it starts each relist, before its list request, and that
    /// resets a backoff on its stream, so a relist that keeps failing (refused, or further on)
    /// is retried every first step of the backoff (0.8–1.6 s for kube's default).
    BackoffResetByInit,
    /// An in-stream 410 whose Status lacks its `code`: kube relists only on code 410, so it
    /// re-watched from the same resourceVersion.
    GoneWithoutCode,
    /// kube-client's retry layer (on by default) retried a 429, 503 or 504 inside one request,
    /// the watcher seeing no error, and its sleep, doubled with each try, ran past the fault's
    /// end by more than the deadline.
    RetryLayerOverslept,
    /// The consumer panicked.
    ConsumerPanicked,
    /// Not a failure shown: the run ended while a fault was still answering the watcher's
    /// requests, less than a deadline after it last acted, so recovery could not be shown.
    EndedUnderFault,
    /// The run did not finish: a loop that never lets virtual time pass, or a consumer that
    /// ignored the stop.
    Hung,
    /// No known mechanism fits the trace; the diagnosis names the failing check instead.
    Unknown,
}

impl Mechanism {
    /// Every mechanism, in the order the verdict tries them.
    pub const ALL: &'static [Mechanism] = &[
        Self::Hung,
        Self::ConsumerPanicked,
        Self::StoppedOnRecoverableError,
        Self::NeverAnswered,
        Self::HalfOpenWatch,
        Self::StoreNeverReady,
        Self::InitDoneLate,
        Self::RequestRefused,
        Self::EventDropped,
        Self::BookmarkAheadOfEvents,
        Self::LaggingReplica,
        Self::ResumedFromFuture,
        Self::ResumedFromEmpty,
        Self::GoneWithoutCode,
        Self::HotLoopOnCleanEnds,
        Self::HotLoopWithoutBackoff,
        Self::BackoffResetByInit,
        Self::SlowConsumer,
        Self::StaleResumePoint,
        Self::ResumedAfterGone,
        Self::ResumedFromBehind,
        Self::RetryAfterIgnored,
        Self::ReadTimeoutBelowBookmarks,
        Self::RetryLayerOverslept,
        Self::EndedUnderFault,
        Self::Unknown,
    ];

    /// The name scenarios and reports use: `stopped_on_recoverable_error`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::StoppedOnRecoverableError => "stopped_on_recoverable_error",
            Self::NeverAnswered => "never_answered",
            Self::HalfOpenWatch => "half_open_watch",
            Self::ReadTimeoutBelowBookmarks => "read_timeout_below_bookmarks",
            Self::StoreNeverReady => "store_never_ready",
            Self::InitDoneLate => "init_done_late",
            Self::RequestRefused => "request_refused",
            Self::EventDropped => "event_dropped",
            Self::BookmarkAheadOfEvents => "bookmark_ahead_of_events",
            Self::ResumedFromEmpty => "resumed_from_empty",
            Self::LaggingReplica => "lagging_replica",
            Self::ResumedFromFuture => "resumed_from_future",
            Self::SlowConsumer => "slow_consumer",
            Self::StaleResumePoint => "stale_resume_point",
            Self::ResumedAfterGone => "resumed_after_gone",
            Self::ResumedFromBehind => "resumed_from_behind",
            Self::RetryAfterIgnored => "retry_after_ignored",
            Self::HotLoopOnCleanEnds => "hot_loop_on_clean_ends",
            Self::HotLoopWithoutBackoff => "hot_loop_without_backoff",
            Self::BackoffResetByInit => "backoff_reset_by_init",
            Self::GoneWithoutCode => "gone_without_code",
            Self::ConsumerPanicked => "consumer_panicked",
            Self::Hung => "hung",
            Self::EndedUnderFault => "ended_under_fault",
            Self::RetryLayerOverslept => "retry_layer_overslept",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Mechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mechanism_is_listed_once_and_named_as_serde_writes_it() {
        let mut names: Vec<&str> = Mechanism::ALL.iter().map(|m| m.name()).collect();
        for mechanism in Mechanism::ALL {
            let json = serde_json::to_string(mechanism).unwrap();
            assert_eq!(json, format!("\"{}\"", mechanism.name()));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mechanism::ALL.len());
    }
}
