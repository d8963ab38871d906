//! What a diagnosis reads off a trace, gathered once: the requests and how each was answered,
//! the watches and what the server sent on each, what the watcher emitted, its errors, the
//! faults, and how the run ended.

use std::collections::BTreeMap;
use std::time::Duration;

use super::answer::Answer;
use super::delivery_lag::DELIVERY_LAG;
use super::request_log::{StormStop, watch_ends};
use super::scorecard::Check;
use crate::check_name::CheckName;
use crate::scenario::{Scenario, SetUp, format_duration as fmt};
use crate::trace::{
    ConsumerStop, EventType, FaultKind, RequestRecord, SentEvent, Trace, TraceKind, Verb, WatchEnd,
    WatcherFault,
};

/// A watch request as the server saw it.
#[derive(Debug, Clone)]
pub(super) struct ServedWatch<'a> {
    /// When its 200 went out.
    pub(super) at: Duration,
    /// The resourceVersion it resumed from (`None`: from "now", or a streaming list).
    pub(super) from: Option<u64>,
    /// The lowest resourceVersion the server could resume from then.
    pub(super) floor: u64,
    /// The server's revision then.
    pub(super) revision: u64,
    /// What the server sent on it, in order.
    pub(super) sent: Vec<(Duration, &'a SentEvent)>,
}

/// The facts of one run, for the rules.
pub(super) struct Evidence<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) setup: &'a SetUp,
    pub(super) trace: &'a Trace,
    pub(super) checks: &'a [Check],
    pub(super) requests: Vec<(Duration, &'a RequestRecord)>,
    pub(super) watch_ends: BTreeMap<u64, &'a WatchEnd>,
    pub(super) watches: BTreeMap<u64, ServedWatch<'a>>,
    pub(super) errors: Vec<(Duration, &'a WatcherFault)>,
    pub(super) faults: Vec<(Duration, FaultKind)>,
    /// The kinds of fault the server says acted on each request, in the order they acted.
    pub(super) hits: BTreeMap<u64, Vec<FaultKind>>,
    /// How the consumer stopped, if it did.
    pub(super) stream_end: Option<(Duration, &'a ConsumerStop)>,
    /// When the run was stopped as a request storm.
    pub(super) storm: Option<StormStop>,
    /// The client's read timeout, as the run built it.
    pub(super) read_timeout: Option<Duration>,
    /// Whether kube-client's retry of 429/503/504 was on, as the run built the client.
    pub(super) retry: bool,
    /// The delivery lag the checks forgave ([`super::delivery_lag::DELIVERY_LAG`] unless the
    /// judge was told otherwise).
    pub(super) lag: Duration,
}

impl<'a> Evidence<'a> {
    pub(super) fn gather(
        scenario: &'a Scenario,
        setup: &'a SetUp,
        trace: &'a Trace,
        checks: &'a [Check],
    ) -> Self {
        let mut watches: BTreeMap<u64, ServedWatch<'a>> = BTreeMap::new();
        let mut requests = Vec::new();
        let mut errors = Vec::new();
        let mut faults = Vec::new();
        let mut hits: BTreeMap<u64, Vec<FaultKind>> = BTreeMap::new();
        let mut stream_end = None;
        let mut storm = None;
        let mut read_timeout = None;
        let mut retry = false;
        for event in trace {
            match &event.kind {
                TraceKind::Request(r) => requests.push((event.at, r)),
                TraceKind::WatchOpened {
                    request,
                    from,
                    floor,
                    revision,
                } => {
                    watches.insert(
                        *request,
                        ServedWatch {
                            at: event.at,
                            from: *from,
                            floor: *floor,
                            revision: *revision,
                            sent: Vec::new(),
                        },
                    );
                }
                TraceKind::Sent { request, event: e } => {
                    if let Some(watch) = watches.get_mut(request) {
                        watch.sent.push((event.at, e));
                    }
                }
                TraceKind::WatcherError(f) => errors.push((event.at, f)),
                TraceKind::Fault { fault } => faults.push((event.at, *fault)),
                TraceKind::FaultHit { request, fault } => {
                    hits.entry(*request).or_default().push(*fault);
                }
                TraceKind::StreamEnded { cause } if stream_end.is_none() => {
                    stream_end = Some((event.at, cause));
                }
                TraceKind::Storm { requests, burst } => {
                    storm = Some(StormStop {
                        at: event.at,
                        requests: *requests,
                        burst: *burst,
                    });
                }
                TraceKind::Client {
                    read_timeout: timeout,
                    retry: on,
                } => (read_timeout, retry) = (*timeout, *on),
                _ => {}
            }
        }
        Self {
            scenario,
            setup,
            trace,
            checks,
            requests,
            watch_ends: watch_ends(trace),
            watches,
            errors,
            faults,
            hits,
            stream_end,
            storm,
            read_timeout,
            retry,
            lag: DELIVERY_LAG,
        }
    }

    /// Whether `check` failed.
    pub(super) fn failed(&self, check: CheckName) -> bool {
        self.failure(check).is_some()
    }

    /// The replica that served `request` and how far its watch cache lags etcd, when it lags
    /// (`server.replicas`; without a watch cache none does).
    pub(super) fn lagging_replica(&self, request: &RequestRecord) -> Option<(&'a str, Duration)> {
        let server = &self.scenario.server;
        let name = request.replica.as_deref().filter(|_| server.watch_cache)?;
        let replica = (server.replicas.iter()).find(|r| r.name == name)?;
        (!replica.cache_lag.is_zero()).then_some((replica.name.as_str(), replica.cache_lag))
    }

    /// Whether request `id` was served by a replica whose watch cache lags etcd.
    pub(super) fn served_lagging(&self, id: u64) -> bool {
        (self.requests.iter()).any(|(_, r)| r.id == id && self.lagging_replica(r).is_some())
    }

    /// `check`, if it failed.
    pub(super) fn failure(&self, check: CheckName) -> Option<&'a Check> {
        self.checks.iter().find(|c| c.name == check && !c.passed)
    }

    /// The first check that failed.
    pub(super) fn first_failure(&self) -> Option<&'a Check> {
        self.checks.iter().find(|c| !c.passed)
    }

    /// The last fault that played at or before `at`, in words: `expire_watches at 5m`.
    pub(super) fn fault_before(&self, at: Duration) -> Option<String> {
        self.cause(at, &[])
    }

    /// The fault behind an answer at `at`: the last of the kinds that can give such an answer,
    /// or else the last fault of all, in words.
    pub(super) fn cause(&self, at: Duration, kinds: &[FaultKind]) -> Option<String> {
        let before = || self.faults.iter().rev().filter(|(t, _)| *t <= at);
        before()
            .find(|(_, kind)| kinds.contains(kind))
            .or_else(|| before().next())
            .map(|(t, kind)| format!("{kind} at {}", fmt(*t)))
    }

    /// The fault behind the `answer` `request` got, by `at`: the one the server said acted on
    /// it when it answered (a request fault, or what cut its watch), or else the last of the
    /// kinds that answer so.
    pub(super) fn cause_of(
        &self,
        at: Duration,
        request: &RequestRecord,
        answer: &Answer,
    ) -> Option<String> {
        let answered_by = self
            .hits
            .get(&request.id)
            .and_then(|kinds| kinds.iter().rev().find(|k| **k != FaultKind::Latency))
            .copied();
        let cut_by = match self.watch_ends.get(&request.id) {
            Some(WatchEnd::Cut { by, .. }) => *by,
            _ => None,
        };
        match answered_by.or(cut_by) {
            Some(kind) => self.cause(at, &[kind]),
            None => self.cause(at, answer.faults_that_give_it(request.verb)),
        }
    }

    /// The first fault of `kind` that played, in words.
    pub(super) fn fault(&self, kind: FaultKind) -> Option<String> {
        self.faults
            .iter()
            .find(|(_, k)| *k == kind)
            .map(|(t, kind)| format!("{kind} at {}", fmt(*t)))
    }

    /// How the server answered a request.
    pub(super) fn answer(&self, request: &RequestRecord) -> Answer {
        Answer::of(request, self.watch_ends.get(&request.id).copied())
    }

    /// Whether the server answered `request` 200 and then nothing but an ERROR: a watch it
    /// turned away in the stream, before any event.
    pub(super) fn only_an_error(&self, request: &RequestRecord) -> bool {
        matches!(self.answer(request), Answer::InStreamError { .. })
            && self.watches.get(&request.id).is_none_or(|w| {
                w.sent
                    .iter()
                    .all(|(_, sent)| sent.type_ == EventType::Error)
            })
    }

    /// Whether the set-up's backoff is off.
    pub(super) fn no_backoff(&self) -> bool {
        self.setup.backoff == crate::scenario::Backoff::None
    }
}

/// A request's verb in words: `watch`, `list`, `list-page`.
pub(super) fn verb(r: &RequestRecord) -> &'static str {
    verb_words(r.verb)
}

/// A verb in words: `watch`, `list`, `list-page`.
pub(super) fn verb_words(verb: Verb) -> &'static str {
    match verb {
        Verb::List => "list",
        Verb::ListPage => "list-page",
        Verb::Watch => "watch",
        Verb::Get => "get",
        Verb::Other => "other",
    }
}

/// The `resourceVersion` a request asked for, as written (empty when unset).
pub(super) fn resource_version(r: &RequestRecord) -> Option<String> {
    r.param("resourceVersion")
}

/// The most repeated request that was not answered 200: what a loop looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern<'a> {
    pub(super) count: usize,
    pub(super) verb: Verb,
    /// The first of the requests.
    pub(super) request: &'a RequestRecord,
    /// The resourceVersion it asked for, as written.
    pub(super) resource_version: Option<String>,
    pub(super) answer: Answer,
    pub(super) first: Duration,
    pub(super) last: Duration,
}

impl Pattern<'_> {
    /// `19 watch requests at resourceVersion=10 over 10m50s, each answered ERROR 410 Expired`.
    pub(super) fn describe(&self) -> String {
        let at = match self.resource_version.as_deref() {
            None => String::new(),
            Some("") => " at resourceVersion=\"\"".to_owned(),
            Some(rv) => format!(" at resourceVersion={rv}"),
        };
        format!(
            "{} {} requests{at} from {} over {}, each answered {}",
            self.count,
            verb_words(self.verb),
            fmt(self.first),
            fmt(self.last - self.first),
            self.answer
        )
    }
}

impl<'a> Evidence<'a> {
    /// The most repeated request shape among those not answered 200, when it repeats at least
    /// three times.
    pub(super) fn pattern(&self) -> Option<Pattern<'a>> {
        self.pattern_since(Duration::ZERO)
    }

    /// As [`Self::pattern`], among the requests sent at `since` or later: what a loop that
    /// began then was answered, not what earlier requests were.
    pub(super) fn pattern_since(&self, since: Duration) -> Option<Pattern<'a>> {
        self.pattern_among(since, |_| true)
    }

    /// As [`Self::pattern_since`], among the requests whose answer is one `kept`: the most
    /// repeated refusal, say, when something else was answered more often.
    pub(super) fn pattern_among(
        &self,
        since: Duration,
        kept: impl Fn(&Answer) -> bool,
    ) -> Option<Pattern<'a>> {
        // Requests by (verb, resourceVersion, answer), keyed by their words so that ties fall
        // the same way in every run: how many, the first and the last.
        type Shape = (&'static str, Option<String>, String);
        let mut groups: BTreeMap<Shape, (&RequestRecord, Answer, usize, Duration, Duration)> =
            BTreeMap::new();
        for (at, r) in self.requests.iter().filter(|(at, _)| *at >= since) {
            let answer = self.answer(r);
            let key = (verb(r), resource_version(r), answer.to_string());
            let entry = groups.entry(key).or_insert((*r, answer, 0, *at, *at));
            entry.2 += 1;
            entry.4 = *at;
        }
        let ((_, resource_version, _), (request, answer, count, first, last)) = groups
            .into_iter()
            .filter(|(_, (_, answer, ..))| *answer != Answer::Status(200) && kept(answer))
            .max_by_key(|(_, (_, _, count, first, _))| (*count, std::cmp::Reverse(*first)))?;
        (count >= 3).then_some(Pattern {
            count,
            verb: request.verb,
            request,
            resource_version,
            answer,
            first,
            last,
        })
    }
}
