//! `harness explain`: one set-up's verdict as a causal chain, and the slice of its trace around
//! the cause and the first divergence — the requests and their answers, the events the server
//! sent beside the events the watcher emitted, the errors — in virtual time, for a terminal
//! (or as JSON for tools).

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use serde::Serialize;

use crate::mechanism::Mechanism;
use crate::outcome::Outcome;
use crate::scenario::format_duration as fmt;
use crate::trace::{EventType, RequestRecord, SentEvent, TraceEvent, TraceKind, WatchEnd};
use crate::verdict::watch_ends;

/// How much of the trace a slice shows on each side of what the chain points at.
const MARGIN: Duration = Duration::from_secs(30);
/// Most trace lines shown; the middle of a longer slice is elided.
const MAX_LINES: usize = 60;

/// Which part of the trace to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    /// Around the chain and the first divergence.
    AroundTheCause,
    /// All of it.
    Whole,
}

/// The trace events to show for `outcome`, as `(index, event)`.
fn slice(outcome: &Outcome, which: Slice) -> Vec<&TraceEvent> {
    let trace = &outcome.trace;
    if which == Slice::Whole || outcome.verdict.chain.is_empty() {
        return trace.iter().collect();
    }
    let verdict = &outcome.verdict;
    let mut points: Vec<Duration> = verdict.chain.iter().map(|l| l.at).collect();
    points.extend(verdict.first_divergence.as_ref().map(|d| d.at));
    let start = points
        .iter()
        .min()
        .copied()
        .unwrap_or_default()
        .saturating_sub(MARGIN);
    let end = points.iter().max().copied().unwrap_or_default() + MARGIN;
    trace
        .iter()
        .filter(|e| e.at >= start && e.at <= end)
        .collect()
}

/// One trace event in words, as `(who, what)`.
fn line(
    event: &TraceEvent,
    ends: &std::collections::BTreeMap<u64, &WatchEnd>,
) -> (&'static str, String) {
    match &event.kind {
        TraceKind::Write {
            key,
            resource_version,
            exists,
            ..
        } => (
            "truth",
            if *exists {
                format!("{key} written at resourceVersion {resource_version}")
            } else {
                format!("{key} deleted at resourceVersion {resource_version}")
            },
        ),
        TraceKind::Fault { fault } => ("fault", fault.to_string()),
        TraceKind::Compacted { revision } => ("server", format!("etcd compacted at {revision}")),
        TraceKind::WatchCacheReset { revision } => (
            "server",
            format!("the watch cache re-listed at {revision}: older resumes are too old"),
        ),
        TraceKind::Request(r) => ("request", request(r, ends)),
        TraceKind::WatchOpened {
            request,
            from,
            floor,
            revision,
        } => (
            "server",
            match from {
                Some(rv) => format!(
                    "watch #{request} resumes from {rv} (the server resumes from {floor} on, and is at {revision})"
                ),
                None => {
                    format!("watch #{request} starts from the current state (revision {revision})")
                }
            },
        ),
        TraceKind::Sent { request, event } => ("server", sent(*request, event)),
        TraceKind::WatchEnded {
            request,
            reason,
            events,
        } => (
            "server",
            format!(
                "watch #{request} ended: {} ({events} events)",
                reason.describe()
            ),
        ),
        TraceKind::Client {
            read_timeout,
            retry,
        } => (
            "client",
            format!(
                "read timeout {}, retry of 429/503/504 {}",
                read_timeout.map_or_else(|| "none".to_owned(), fmt),
                if *retry { "on" } else { "off" }
            ),
        ),
        TraceKind::Init => ("watcher", "Init".to_owned()),
        TraceKind::InitApply {
            key,
            resource_version,
        } => ("watcher", format!("InitApply {key} at {resource_version}")),
        TraceKind::InitDone => ("watcher", "InitDone".to_owned()),
        TraceKind::Apply {
            key,
            resource_version,
        } => ("watcher", format!("Apply {key} at {resource_version}")),
        TraceKind::Delete {
            key,
            resource_version,
        } => ("watcher", format!("Delete {key} at {resource_version}")),
        TraceKind::WatcherError(f) => ("watcher", format!("error: {}", f.message)),
        TraceKind::StreamEnded { cause } => ("consumer", format!("stopped: {cause}")),
        TraceKind::FaultHit { request, fault } => {
            ("fault", format!("{fault} answers request #{request}"))
        }
        TraceKind::Storm { requests, burst } => ("harness", storm(*requests, *burst)),
        TraceKind::Store { objects } => (
            "watcher",
            format!(
                "the reflector's store at the end: {} objects",
                objects.len()
            ),
        ),
    }
}

/// A request in words, with its answer (and the ERROR event that ended it, for a watch).
fn request(r: &RequestRecord, ends: &std::collections::BTreeMap<u64, &WatchEnd>) -> String {
    let answer = match ends.get(&r.id) {
        _ if r.status == 0 => "never answered".to_owned(),
        Some(WatchEnd::Error { code, reason, .. }) => {
            format!("{} (then ERROR {code} {reason})", r.status)
        }
        _ => r.status.to_string(),
    };
    format!("#{} {} {}?{} → {answer}", r.id, r.method, r.path, r.query)
}

/// An event the server sent on watch `request`, in words.
fn sent(request: u64, event: &SentEvent) -> String {
    let what = match event.type_ {
        EventType::Added => "ADDED",
        EventType::Modified => "MODIFIED",
        EventType::Deleted => "DELETED",
        EventType::Bookmark => "BOOKMARK",
        EventType::InitialEventsEnd => "BOOKMARK k8s.io/initial-events-end",
        EventType::Error => "ERROR",
    };
    let mut text = format!("sent on #{request}: {what}");
    if let Some(key) = &event.key {
        text.push_str(&format!(" {key}"));
    }
    match (event.type_, event.resource_version) {
        (EventType::Error, _) => {}
        (_, Some(rv)) => text.push_str(&format!(" at {rv}")),
        (_, None) => text.push_str(" with an empty resourceVersion"),
    }
    if let Some(damage) = event.damaged {
        text.push_str(&format!(" ({damage:?}, damaged)").to_lowercase());
    }
    text
}

/// Why the harness stopped a run as a request storm, in words.
fn storm(requests: u64, burst: Option<Duration>) -> String {
    format!(
        "stopped as a request storm after {requests} requests{}",
        burst
            .map(|span| format!(
                ", {} lists and watches within {}",
                crate::apiserver::STORM_BURST,
                crate::span::format(span)
            ))
            .unwrap_or_default()
    )
}

/// Writes `outcome` of `scenario` for a terminal.
///
/// # Errors
/// Any error of `out`.
pub fn write_text(
    scenario: &str,
    outcome: &Outcome,
    which: Slice,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let verdict = &outcome.verdict;
    let mut text = String::new();
    let result = if verdict.recovered {
        "recovered".to_owned()
    } else {
        format!(
            "NOT recovered: {}",
            verdict.mechanism.unwrap_or(Mechanism::Unknown)
        )
    };
    let _ = writeln!(text, "{scenario} / {}: {result}", outcome.setup);
    if let Some(expected) = outcome.expected_mechanism
        && verdict.mechanism != Some(expected)
    {
        let _ = writeln!(text, "  expected to fail by {expected}: UNEXPECTED");
    }
    let _ = writeln!(text);
    for (i, link) in verdict.chain.iter().enumerate() {
        let _ = writeln!(text, "  {}. {:>10}  {}", i + 1, fmt(link.at), link.text);
    }
    if let Some(d) = &verdict.first_divergence {
        let _ = writeln!(
            text,
            "  first divergence at {}: {}",
            fmt(d.at),
            d.difference
        );
    }
    if let Some(check) = verdict.checks.iter().find(|c| !c.passed) {
        let tolerated = if verdict.tolerated.contains(&check.name) {
            " (tolerated by `expect.tolerate`)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "  failed {:?}{tolerated}: {}",
            check.name, check.detail
        );
    }
    let events = slice(outcome, which);
    let ends = watch_ends(&outcome.trace);
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        let _ = writeln!(
            text,
            "\ntrace, {} to {} ({} events):",
            fmt(first.at),
            fmt(last.at),
            events.len()
        );
        // Around the cause, a long slice keeps its two ends; the whole trace is whole.
        let elide = which == Slice::AroundTheCause && events.len() > MAX_LINES;
        let shown: Vec<&TraceEvent> = if elide {
            events[..MAX_LINES / 2]
                .iter()
                .chain(&events[events.len() - MAX_LINES / 2..])
                .copied()
                .collect()
        } else {
            events.clone()
        };
        for (i, event) in shown.iter().enumerate() {
            if elide && i == MAX_LINES / 2 {
                let _ = writeln!(
                    text,
                    "  {:>10}  … {} more events …",
                    "",
                    events.len() - MAX_LINES
                );
            }
            let (who, what) = line(event, &ends);
            let _ = writeln!(text, "  {:>10}  {who:<8}  {what}", fmt(event.at));
        }
    }
    out.write_all(text.as_bytes())
}

/// The JSON form of [`write_text`].
#[derive(Serialize)]
struct Explained<'a> {
    scenario: &'a str,
    setup: &'a str,
    recovered: bool,
    mechanism: Option<Mechanism>,
    expected_mechanism: Option<Mechanism>,
    chain: Vec<JsonLink<'a>>,
    first_divergence: Option<JsonLink<'a>>,
    diagnosis: Option<&'a str>,
    trace: Vec<serde_json::Value>,
}

#[derive(Serialize)]
struct JsonLink<'a> {
    at_ms: u64,
    text: &'a str,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Writes `outcome` of `scenario` as one JSON document and a newline.
///
/// # Errors
/// Any error of `out`.
pub fn write_json(
    scenario: &str,
    outcome: &Outcome,
    which: Slice,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let verdict = &outcome.verdict;
    let doc = Explained {
        scenario,
        setup: &outcome.setup,
        recovered: verdict.recovered,
        mechanism: verdict.mechanism,
        expected_mechanism: outcome.expected_mechanism,
        chain: verdict
            .chain
            .iter()
            .map(|l| JsonLink {
                at_ms: ms(l.at),
                text: &l.text,
            })
            .collect(),
        first_divergence: verdict.first_divergence.as_ref().map(|d| JsonLink {
            at_ms: ms(d.at),
            text: &d.difference,
        }),
        diagnosis: verdict.diagnosis.as_deref(),
        trace: slice(outcome, which)
            .into_iter()
            .map(|e| {
                let mut value = serde_json::to_value(&e.kind).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("at_ms".into(), ms(e.at).into());
                }
                value
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
