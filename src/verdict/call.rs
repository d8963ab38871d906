//! The client's requests, each with what the server made of it: how its watch ended, where
//! it resumed from, what it was last sent.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::evidence::{resource_version, verb};
use super::request_log::watch_ends;
use crate::trace::{Asked, EventType, FaultKind, RequestRecord, Trace, TraceKind, Verb, WatchEnd};

/// One request of the client's, with what the server made of it.
pub(in crate::verdict) struct Call<'a> {
    pub(in crate::verdict) at: Duration,
    /// When the request reached the server: `at`, or earlier when a fault held its answer
    /// back (a `latency` on requests).
    pub(in crate::verdict) arrived: Duration,
    pub(in crate::verdict) record: &'a RequestRecord,
    /// For a watch: how it ended, and when; `None` while open at the end.
    pub(in crate::verdict) ended: Option<(Duration, &'a WatchEnd)>,
    /// For a watch: the resourceVersion it resumed from, the floor and the revision then.
    pub(in crate::verdict) opened: Option<(Option<u64>, u64, u64)>,
    /// For a watch: the last resourceVersion it sent, and when.
    pub(in crate::verdict) last_sent: Option<(Duration, u64)>,
    /// Whether a fault of the scenario's answered it or acted on it (a `latency` apart, which
    /// only delays the answer): the server says so when it answers.
    pub(in crate::verdict) faulted: bool,
    /// For a watch: how it ended, even after the end (a stalled watch ends when the client
    /// is stopped).
    pub(in crate::verdict) finally: Option<&'a WatchEnd>,
}

impl Call<'_> {
    pub(in crate::verdict) fn failed(&self) -> bool {
        self.record.status != 200
            || matches!(
                self.ended,
                Some((_, WatchEnd::Error { .. } | WatchEnd::Empty))
            )
    }

    /// A 410, as the answer or as the watch's ERROR event (its code lost or not), and when
    /// the client heard it.
    pub(in crate::verdict) fn gone(&self) -> Option<Duration> {
        match self.ended {
            _ if self.record.status == 410 => Some(self.at),
            Some((at, end)) if end.gone() => Some(at),
            _ => None,
        }
    }

    /// What it reads: its path and selectors. A client's requests that read the same are one
    /// line of lists and watches, each resuming where the one before left off; a client that
    /// watches two namespaces keeps two resume points.
    pub(in crate::verdict) fn reads(&self) -> (&str, Option<String>, Option<String>) {
        (
            self.record.path.as_str(),
            self.record.param("labelSelector").filter(|s| !s.is_empty()),
            self.record.param("fieldSelector").filter(|s| !s.is_empty()),
        )
    }

    /// Whether it (re)loads the whole state: a LIST's first page, a streaming list, or a
    /// watch from the server's current state (ADDED for every object first: doc §2.7).
    pub(in crate::verdict) fn relists(&self) -> bool {
        match self.record.verb {
            Verb::List => true,
            Verb::Watch => self.record.streams_initial_events() || self.record.asked().fresh(),
            _ => false,
        }
    }

    /// Whether it picks up where an earlier answer left off: a watch from a revision, or a
    /// LIST page from a `continue` token.
    pub(in crate::verdict) fn resumes(&self) -> bool {
        match self.record.verb {
            Verb::ListPage => true,
            Verb::Watch => {
                !self.record.streams_initial_events() && matches!(self.record.asked(), Asked::At(_))
            }
            _ => false,
        }
    }

    pub(in crate::verdict) fn describe(&self) -> String {
        let verb = match self.record.verb {
            Verb::List => "LIST",
            Verb::ListPage => "LIST page",
            Verb::Watch => "WATCH",
            Verb::Get => "GET",
            Verb::Other => "other",
        };
        let answer = match (self.record.status, self.ended) {
            (0, _) => "never answered".to_owned(),
            (200, Some((_, WatchEnd::Error { code, .. }))) => format!("200 + ERROR {code}"),
            (200, Some((_, WatchEnd::Empty))) => "200, empty".to_owned(),
            (status, _) => status.to_string(),
        };
        format!("{verb} → {answer}")
    }

    /// `list`, `list-page`, `watch`.
    pub(in crate::verdict) fn noun(&self) -> &'static str {
        verb(self.record)
    }

    /// The `resourceVersion` it asked for: `Some("")` when it sent it empty.
    pub(in crate::verdict) fn resource_version(&self) -> Option<String> {
        resource_version(self.record)
    }
}

/// `calls` in the order they reached the server (a fault can hold an answer back, so the
/// order of the answers is not it).
pub(in crate::verdict) fn by_arrival<'c, 'a>(calls: &'c [Call<'a>]) -> Vec<&'c Call<'a>> {
    let mut by_arrival: Vec<&Call<'a>> = calls.iter().collect();
    by_arrival.sort_by_key(|c| (c.arrived, c.record.id));
    by_arrival
}

/// The lists and watches of one client (the requests `sent` says it sent), up to `end`.
pub(in crate::verdict) fn calls<'t>(
    trace: &'t Trace,
    sent: impl Fn(&RequestRecord) -> bool,
    end: Duration,
) -> Vec<Call<'t>> {
    let ends = watch_ends(trace);
    let mut ended_at: BTreeMap<u64, Duration> = BTreeMap::new();
    let mut opened: BTreeMap<u64, (Option<u64>, u64, u64)> = BTreeMap::new();
    let mut last_sent: BTreeMap<u64, (Duration, u64)> = BTreeMap::new();
    let mut hit_at: BTreeMap<u64, Duration> = BTreeMap::new();
    let mut faulted: BTreeSet<u64> = BTreeSet::new();
    for event in trace {
        match &event.kind {
            TraceKind::FaultHit { request, fault } => {
                hit_at.entry(*request).or_insert(event.at);
                if *fault != FaultKind::Latency {
                    faulted.insert(*request);
                }
            }
            TraceKind::WatchEnded { request, .. } => {
                ended_at.insert(*request, event.at);
            }
            TraceKind::WatchOpened {
                request,
                from,
                floor,
                revision,
            } => {
                opened.insert(*request, (*from, *floor, *revision));
            }
            TraceKind::Sent { request, event: e } if e.type_ != EventType::Error => {
                if let Some(rv) = e.resource_version {
                    last_sent.insert(*request, (event.at, rv));
                }
            }
            _ => {}
        }
    }
    trace
        .iter()
        .filter(|e| e.at <= end)
        .filter_map(|e| match &e.kind {
            TraceKind::Request(r)
                if sent(r) && matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch) =>
            {
                Some(Call {
                    at: e.at,
                    arrived: hit_at.get(&r.id).map_or(e.at, |hit| e.at.min(*hit)),
                    record: r,
                    ended: ends
                        .get(&r.id)
                        .zip(ended_at.get(&r.id))
                        .filter(|(_, at)| **at <= end)
                        .map(|(reason, at)| (*at, *reason)),
                    opened: opened.get(&r.id).copied(),
                    last_sent: last_sent.get(&r.id).copied(),
                    faulted: faulted.contains(&r.id),
                    finally: ends.get(&r.id).copied(),
                })
            }
            _ => None,
        })
        .collect()
}
