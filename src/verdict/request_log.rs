//! The request log as the verdict reads it: which requests (re)load the whole state, and how
//! each watch ended.

use std::collections::BTreeMap;

use crate::trace::{RequestRecord, Trace, TraceKind, Verb, WatchEnd};

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
