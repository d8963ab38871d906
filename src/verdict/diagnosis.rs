//! Diagnoses in words: what went wrong, when, and what the watcher did about it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{Check, CheckName};
use crate::scenario::{Consumer, SetUp, format_duration as fmt};
use crate::trace::{RequestRecord, Trace, TraceKind, Verb, WatchEnd, WatcherFault};

/// One sentence or two on why `setup` did not recover, from its first failing check.
pub(super) fn explain(
    setup: &SetUp,
    trace: &Trace,
    checks: &[Check],
    watch_ends: &BTreeMap<u64, &WatchEnd>,
) -> String {
    let Some(failed) = checks.iter().find(|c| !c.passed) else {
        return String::new();
    };
    let last_error = trace.iter().rev().find_map(|e| match &e.kind {
        TraceKind::WatcherError(f) => Some((e.at, f)),
        _ => None,
    });
    let pattern = request_pattern(trace, watch_ends);
    match failed.name {
        CheckName::Survived => {
            let mut text = failed.detail.clone();
            if let Some((at, fault)) = last_error {
                text = format!("the stream ended at {} after {}", fmt(at), describe(fault));
                if setup.consumer == Consumer::StopOnError {
                    let remedy = if fault.code == Some(410) {
                        "relisted"
                    } else {
                        "retried"
                    };
                    text.push_str(&format!(
                        "; the consumer ({}) stopped on an error that kube's watcher recovers from by itself: it would have {remedy}",
                        setup.consumer.as_str()
                    ));
                }
            }
            with_pattern(text, pattern)
        }
        CheckName::Converged => {
            let mut text = failed.detail.clone();
            if let Some((at, fault)) = last_error {
                text.push_str(&format!(
                    "; last watcher error at {}: {}",
                    fmt(at),
                    describe(fault)
                ));
            }
            with_pattern(text, pattern)
        }
        CheckName::Deadline | CheckName::Relists | CheckName::RequestRate => {
            with_pattern(failed.detail.clone(), pattern)
        }
    }
}

fn with_pattern(text: String, pattern: Option<String>) -> String {
    match pattern {
        Some(p) => format!("{text}; {p}"),
        None => text,
    }
}

/// `WatchError (410 Expired: "…")`.
fn describe(fault: &WatcherFault) -> String {
    let status = match (fault.code, &fault.reason) {
        (Some(code), Some(reason)) => format!("{code} {reason}"),
        (Some(code), None) => code.to_string(),
        (None, _) => String::new(),
    };
    match (&fault.status_message, status.is_empty()) {
        (Some(message), false) => format!("{} ({status}: {message:?})", fault.variant),
        (Some(message), true) => format!("{} ({message:?})", fault.variant),
        (None, false) => format!("{} ({status}: {})", fault.variant, fault.message),
        (None, true) => format!("{} ({})", fault.variant, fault.message),
    }
}

/// The most repeated request shape, when one repeats: "19 watch requests at
/// resourceVersion=10 over 10m50s, each answered ERROR 410 Expired".
fn request_pattern(trace: &Trace, watch_ends: &BTreeMap<u64, &WatchEnd>) -> Option<String> {
    let mut groups: BTreeMap<(String, String, String), (usize, Duration, Duration)> =
        BTreeMap::new();
    for event in trace {
        let TraceKind::Request(r) = &event.kind else {
            continue;
        };
        let key = (
            verb(r).to_owned(),
            resource_version(r),
            outcome(r, watch_ends),
        );
        let entry = groups.entry(key).or_insert((0, event.at, event.at));
        entry.0 += 1;
        entry.2 = event.at;
    }
    let ((verb, rv, outcome), (count, first, last)) = groups
        .into_iter()
        .filter(|((_, _, outcome), _)| outcome != "200")
        .max_by_key(|(_, (count, first, _))| (*count, std::cmp::Reverse(*first)))?;
    if count < 3 {
        return None;
    }
    let at = if rv.is_empty() {
        String::new()
    } else {
        format!(" at resourceVersion={rv}")
    };
    Some(format!(
        "{count} {verb} requests{at} over {}, each answered {outcome}",
        fmt(last - first)
    ))
}

fn verb(r: &RequestRecord) -> &'static str {
    match r.verb {
        Verb::List => "list",
        Verb::ListPage => "list-page",
        Verb::Watch => "watch",
        Verb::Get => "get",
        Verb::Other => "other",
    }
}

fn resource_version(r: &RequestRecord) -> String {
    form_urlencoded::parse(r.query.as_bytes())
        .find(|(k, _)| k == "resourceVersion")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn outcome(r: &RequestRecord, watch_ends: &BTreeMap<u64, &WatchEnd>) -> String {
    match watch_ends.get(&r.id) {
        Some(WatchEnd::Error { code, reason, .. }) if r.status == 200 => {
            format!("ERROR {code} {reason}")
        }
        _ => r.status.to_string(),
    }
}
