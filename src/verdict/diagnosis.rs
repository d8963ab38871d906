//! Diagnoses in words: what went wrong, when, and what the watcher did about it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::model::{Check, CheckName};
use crate::scenario::{Consumer, Scenario, SetUp, format_duration as fmt};
use crate::trace::{RequestRecord, Trace, TraceKind, Verb, WatchEnd, WatcherFault};

/// One sentence or two on why `setup` did not recover, from its first failing check.
pub(super) fn explain(
    scenario: &Scenario,
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
    let text = match failed.name {
        CheckName::Survived => {
            let mut text = failed.detail.clone();
            if last_error.is_none()
                && let Some(answer) = last_server_failure(trace, watch_ends)
            {
                text.push_str(&format!(
                    ", right after the server's {answer}; the stream never yielded that error"
                ));
            }
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
        CheckName::Converged
        | CheckName::Monotonic
        | CheckName::Resumable
        | CheckName::Checkpoints => {
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
    };
    let text = match stuck(setup, trace, watch_ends).or_else(|| read_timeouts(scenario, trace)) {
        Some(cause) => format!("{cause}; {text}"),
        None => text,
    };
    match faults(trace) {
        Some(faults) => format!("{text}; faults: {faults}"),
        None => text,
    }
}

/// Watches that kube's read timeout ended because it is shorter than the silence between
/// bookmarks: a quiet watch reads nothing for a bookmark interval at a time.
fn read_timeouts(scenario: &Scenario, trace: &Trace) -> Option<String> {
    let read_timeout = trace.iter().find_map(|e| match &e.kind {
        TraceKind::Client { read_timeout, .. } => *read_timeout,
        _ => None,
    })?;
    let interval = scenario.server.bookmark_interval;
    if read_timeout >= interval || !scenario.server.watch_cache {
        return None;
    }
    let timed_out: Vec<_> = trace
        .iter()
        .filter(|e| {
            matches!(&e.kind, TraceKind::WatcherError(f)
                if f.variant == "WatchFailed" && f.message.contains("timed out"))
        })
        .map(|e| e.at)
        .collect();
    let last = *timed_out.last()?;
    Some(format!(
        "kube's read timeout ({}) is shorter than the server's bookmark interval ({}), so a quiet watch reads nothing for longer than it and times out: {} watches ended this way, the last at {}",
        fmt(read_timeout),
        fmt(interval),
        timed_out.len(),
        fmt(last)
    ))
}

/// Why the watcher was still waiting at the end of the run, when it was: its last request was
/// never answered, or its last watch went half-open, and nothing on the client gave up.
fn stuck(setup: &SetUp, trace: &Trace, watch_ends: &BTreeMap<u64, &WatchEnd>) -> Option<String> {
    let (at, last) = trace.iter().rev().find_map(|e| match &e.kind {
        TraceKind::Request(r) => Some((e.at, r)),
        _ => None,
    })?;
    let read_timeout = trace.iter().find_map(|e| match &e.kind {
        TraceKind::Client { read_timeout, .. } => Some(*read_timeout),
        _ => None,
    })?;
    let no_read_timeout = match (read_timeout, setup.client.read_timeout) {
        (Some(_), _) => return None,
        (None, None) => {
            "kube's `Config` has no read timeout by default (kube 5.0: `read_timeout: None`)"
        }
        (None, Some(_)) => "the set-up turned kube's read timeout off",
    };
    if last.status == 0 {
        return Some(format!(
            "the {} request at {} was never answered (its response head never came) and {no_read_timeout}, so the watcher waited on it to the end of the run",
            verb(last),
            fmt(at)
        ));
    }
    let stall = trace.iter().rev().find_map(|e| match &e.kind {
        TraceKind::Fault { fault } if fault == "stall_stream" && e.at >= at => Some(e.at),
        _ => None,
    });
    if last.verb == Verb::Watch
        && last.status == 200
        && matches!(watch_ends.get(&last.id), None | Some(WatchEnd::Stalled))
        && setup.config.timeout == Some(0)
        && let Some(stalled) = stall
    {
        return Some(format!(
            "the watch opened at {} went half-open at {} (the connection stayed and nothing more arrived) and nothing gave up on it: the set-up's `timeout: 0` turns off kube's idle timeout, and {no_read_timeout}",
            fmt(at),
            fmt(stalled)
        ));
    }
    None
}

/// The last failure the server answered, in words: `ERROR 410 Expired on a watch at 5m`.
fn last_server_failure(trace: &Trace, watch_ends: &BTreeMap<u64, &WatchEnd>) -> Option<String> {
    trace.iter().rev().find_map(|e| match &e.kind {
        TraceKind::WatchEnded {
            reason: WatchEnd::Error { code, reason, .. },
            ..
        } => Some(format!("ERROR {code} {reason} on a watch at {}", fmt(e.at))),
        TraceKind::Request(r) if r.status >= 400 => Some(format!(
            "{} to a {} at {}",
            outcome(r, watch_ends),
            verb(r),
            fmt(e.at)
        )),
        _ => None,
    })
}

/// `watch_410 at 2m, compact at 4m`: the faults in the order they played.
fn faults(trace: &Trace) -> Option<String> {
    let played: Vec<String> = trace
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Fault { fault } => Some(format!("{fault} at {}", fmt(e.at))),
            _ => None,
        })
        .collect();
    (!played.is_empty()).then(|| played.join(", "))
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
    let relist = trace
        .iter()
        .filter(|e| e.at >= last)
        .find(|e| matches!(&e.kind, TraceKind::Request(r) if super::requests::lists(r)));
    let then = match relist {
        Some(e) => format!("; a relist followed at {}", fmt(e.at)),
        None => "; no relist followed".to_owned(),
    };
    Some(format!(
        "{count} {verb} requests{at} over {}, each answered {outcome}{then}",
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
        _ if r.status == 0 => "never (no response head)".to_owned(),
        Some(WatchEnd::Error { code, reason, .. }) if r.status == 200 => {
            format!("ERROR {code} {reason}")
        }
        Some(WatchEnd::Empty) => "200 and an immediate end, no event".to_owned(),
        Some(WatchEnd::Cut { how }) => format!("200, then cut ({how})"),
        Some(WatchEnd::Stalled) => "200, then nothing (half-open)".to_owned(),
        _ => r.status.to_string(),
    }
}
