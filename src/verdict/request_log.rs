//! The request log as the verdict reads it: which requests (re)load the whole state, how each
//! watch ended, and whether the run was stopped as a request storm.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::apiserver::storm_words;
use crate::scenario::format_duration as fmt;
use crate::trace::{RequestRecord, Trace, TraceKind, Verb, WatchEnd};

/// The run stopped as a request storm (`apiserver/storm.rs`): when, after how many requests,
/// and in what burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StormStop {
    pub(crate) at: Duration,
    pub(crate) requests: u64,
    pub(crate) burst: Option<Duration>,
}

impl StormStop {
    /// The storm that stopped the run, if one did by `end`.
    pub(crate) fn in_trace(trace: &Trace, end: Duration) -> Option<Self> {
        trace.iter().find_map(|e| match e.kind {
            TraceKind::Storm { requests, burst } if e.at <= end => Some(Self {
                at: e.at,
                requests,
                burst,
            }),
            _ => None,
        })
    }

    /// `the run was stopped at 3m as a request storm: …`, against the server's bound.
    pub(crate) fn words(&self, max_requests: u64) -> String {
        format!(
            "the run was stopped at {} as a request storm: {}",
            fmt(self.at),
            storm_words(self.requests, self.burst, max_requests)
        )
    }
}

/// How each watch request ended, by request id.
#[must_use]
pub fn watch_ends(trace: &Trace) -> BTreeMap<u64, &WatchEnd> {
    trace
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::WatchEnded {
                request, reason, ..
            } => Some((*request, reason)),
            _ => None,
        })
        .collect()
}

/// A request that (re)loads the whole state: a first LIST page, or a streaming list.
#[must_use]
pub fn lists(request: &RequestRecord) -> bool {
    request.verb == Verb::List || request.streams_initial_events()
}
