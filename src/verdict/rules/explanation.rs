//! What a rule finds: the [`Mechanism`] it recognises and the causal chain that shows it, and
//! the words the chains share (a watcher error, the fault behind an answer).

use std::time::Duration;

use crate::mechanism::Mechanism;
use crate::trace::{RequestRecord, WatcherFault};
use crate::verdict::answer::Answer;
use crate::verdict::evidence::Evidence;
use crate::verdict::scorecard::Link;

/// A mechanism and the chain that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::verdict) struct Explanation {
    pub(in crate::verdict) mechanism: Mechanism,
    pub(in crate::verdict) chain: Vec<Link>,
}

pub(super) fn link(at: Duration, text: impl Into<String>) -> Link {
    Link::new(at, text)
}

pub(super) fn found(mechanism: Mechanism, chain: Vec<Link>) -> Option<Explanation> {
    Some(Explanation { mechanism, chain })
}

/// `WatchError (410 Expired: "…")`.
pub(super) fn describe(fault: &WatcherFault) -> String {
    let status = match (fault.code, &fault.reason) {
        (Some(code), Some(reason)) => format!("{code} {reason}"),
        (Some(code), None) => code.to_string(),
        (None, _) => String::new(),
    };
    match (&fault.status_message, status.is_empty()) {
        (Some(message), false) => format!("{:?} ({status}: {message:?})", fault.variant),
        (Some(message), true) => format!("{:?} ({message:?})", fault.variant),
        (None, false) => format!("{:?} ({status}: {})", fault.variant, fault.message),
        (None, true) => format!("{:?} ({})", fault.variant, fault.message),
    }
}

/// ` (expire_watches at 5m)`, or nothing when no fault played before `at`.
pub(super) fn after_fault(e: &Evidence, at: Duration) -> String {
    e.fault_before(at)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}

/// As [`after_fault`], for a request answered `answer`: the fault that answers so.
pub(super) fn caused(
    e: &Evidence,
    at: Duration,
    request: &RequestRecord,
    answer: &Answer,
) -> String {
    e.cause_of(at, request, answer)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}
