//! The client's requests, each with what the server made of it: how its watch ended, where
//! it resumed from, what it was last sent.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::apiserver::route::Route;
use crate::scenario::ResourceSpec;
use crate::selector::Selector;
use crate::trace::{EventType, RequestRecord, Trace, TraceKind, Verb, WatchEnd};
use crate::verdict::evidence::{resource_version, verb};
use crate::verdict::request_log::watch_ends;

use super::identity::ClientId;

/// One request of the client's, with what the server made of it.
pub(super) struct Call<'a> {
    pub(super) at: Duration,
    /// When the request reached the server: `at`, or earlier when a fault held its answer
    /// back (a `latency` on requests).
    pub(super) arrived: Duration,
    pub(super) record: &'a RequestRecord,
    /// For a watch: how it ended, and when; `None` while open at the end.
    pub(super) ended: Option<(Duration, &'a WatchEnd)>,
    /// For a watch: the resourceVersion it resumed from, the floor and the revision then.
    pub(super) opened: Option<(Option<u64>, u64, u64)>,
    /// For a watch: the last resourceVersion it sent, and when.
    pub(super) last_sent: Option<(Duration, u64)>,
    /// For a watch: how it ended, even after the end (a stalled watch ends when the client
    /// is stopped).
    pub(super) finally: Option<&'a WatchEnd>,
}

impl Call<'_> {
    pub(super) fn failed(&self) -> bool {
        self.record.status != 200
            || matches!(
                self.ended,
                Some((_, WatchEnd::Error { .. } | WatchEnd::Empty))
            )
    }

    /// A 410, as the answer or as the watch's ERROR event, and when the client heard it.
    pub(super) fn gone(&self) -> Option<Duration> {
        match self.ended {
            _ if self.record.status == 410 => Some(self.at),
            Some((at, WatchEnd::Error { code: 410, .. })) => Some(at),
            _ => None,
        }
    }

    pub(super) fn describe(&self) -> String {
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
    pub(super) fn noun(&self) -> &'static str {
        verb(self.record)
    }

    /// The `resourceVersion` it asked for: `Some("")` when it sent it empty.
    pub(super) fn resource_version(&self) -> Option<String> {
        resource_version(self.record)
    }
}

/// The lists and watches of `client`, up to `end`.
pub(super) fn calls<'t>(trace: &'t Trace, client: &ClientId, end: Duration) -> Vec<Call<'t>> {
    let ends = watch_ends(trace);
    let mut ended_at: BTreeMap<u64, Duration> = BTreeMap::new();
    let mut opened: BTreeMap<u64, (Option<u64>, u64, u64)> = BTreeMap::new();
    let mut last_sent: BTreeMap<u64, (Duration, u64)> = BTreeMap::new();
    let mut hit_at: BTreeMap<u64, Duration> = BTreeMap::new();
    for event in trace {
        match &event.kind {
            TraceKind::FaultHit { request, .. } => {
                hit_at.entry(*request).or_insert(event.at);
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
                if client.sent(r)
                    && matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch) =>
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
                    finally: ends.get(&r.id).copied(),
                })
            }
            _ => None,
        })
        .collect()
}

/// What a request for `resource` selects: its label and field selectors, and the namespace its
/// path names (`/api/v1/namespaces/NS/pods` sees only NS), as one selector.
pub(super) fn selector_of(record: &RequestRecord, resource: &ResourceSpec) -> Selector {
    let param = |key: &str| {
        form_urlencoded::parse(record.query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let namespace = match Route::of(&record.path, resource) {
        Route::Collection {
            namespace: Some(namespace),
            ..
        } => Some(format!("metadata.namespace={namespace}")),
        _ => None,
    };
    let fields = match (param("fieldSelector").filter(|f| !f.is_empty()), namespace) {
        (Some(fields), Some(namespace)) => Some(format!("{fields},{namespace}")),
        (fields, namespace) => fields.or(namespace),
    };
    Selector::parse_for(
        &resource.group,
        &resource.kind,
        param("labelSelector").as_deref(),
        fields.as_deref(),
    )
    .unwrap_or_default()
}
