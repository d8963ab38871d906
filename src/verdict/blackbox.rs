//! The verdict on a client the harness did not build (`harness exec`): judged from what the
//! server saw it do — its lists and watches, where each watch resumed from, what it did after
//! each 410, whether it stormed, stopped or fell behind — and, when it wrote one, from the
//! cache it ended with. Pure: no I/O, no clock.
//!
//! A client is the requests that carry one `User-Agent`; the trace is the live server's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::judge::peak_per_minute;
use super::model::{Check, CheckName, Figures, Link, Marks, Verdict};
use super::requests::{lists, watch_ends};
use super::view::{Objects, apply_truth, describe_difference};
use crate::mechanism::Mechanism;
use crate::scenario::{Scenario, format_duration as fmt};
use crate::selector::Selector;
use crate::trace::{EventType, RequestRecord, Trace, TraceKind, Verb, WatchEnd, storm_words};

/// How the client's process ended, as `harness exec` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// When, in virtual time; `None`: it was still running at the end and was stopped.
    pub at: Option<Duration>,
    /// Its exit status in words: `exit 1`, `signal 15`.
    pub status: String,
}

/// What is known of one client besides the trace.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Its `User-Agent`.
    pub agent: &'a str,
    /// The cache it wrote at the end, when it wrote one.
    pub view: Option<&'a Objects>,
    /// How its process ended.
    pub exit: &'a Exit,
    /// The end of the timeline: the client is judged as of then.
    pub end: Duration,
    /// How many times faster than real time the timeline played: every wait of the client's
    /// own (its backoff, its timeouts) took that many times as long in virtual time.
    pub speed: u32,
}

/// The agents that made requests, in the order of their first.
#[must_use]
pub fn clients(trace: &Trace) -> Vec<String> {
    let mut agents: Vec<String> = Vec::new();
    for event in trace {
        if let TraceKind::Request(r) = &event.kind
            && matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch)
            && !agents.contains(&r.agent)
        {
            agents.push(r.agent.clone());
        }
    }
    agents
}

/// One request of the client's, with what the server made of it.
struct Call<'a> {
    at: Duration,
    record: &'a RequestRecord,
    /// For a watch: how it ended, and when; `None` while open at the end.
    ended: Option<(Duration, &'a WatchEnd)>,
    /// For a watch: the resourceVersion it resumed from, the floor and the revision then.
    opened: Option<(Option<u64>, u64, u64)>,
    /// For a watch: the last resourceVersion it sent, and when.
    last_sent: Option<(Duration, u64)>,
}

impl Call<'_> {
    fn failed(&self) -> bool {
        self.record.status != 200
            || matches!(
                self.ended,
                Some((_, WatchEnd::Error { .. } | WatchEnd::Empty))
            )
    }

    /// A 410, as the answer or as the watch's ERROR event, and when the client heard it.
    fn gone(&self) -> Option<Duration> {
        match self.ended {
            _ if self.record.status == 410 => Some(self.at),
            Some((at, WatchEnd::Error { code: 410, .. })) => Some(at),
            _ => None,
        }
    }

    fn describe(&self) -> String {
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

    fn noun(&self) -> &'static str {
        match self.record.verb {
            Verb::List => "list",
            Verb::ListPage => "list page",
            Verb::Watch => "watch",
            Verb::Get | Verb::Other => "request",
        }
    }

    fn resource_version(&self) -> Option<&str> {
        query_value(&self.record.query, "resourceVersion")
    }
}

fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

/// Judges one client from the live server's trace.
#[must_use]
pub fn judge_client(scenario: &Scenario, trace: &Trace, client: Client<'_>) -> Verdict {
    let end = client.end;
    let ends = watch_ends(trace);
    let mut ended_at: BTreeMap<u64, Duration> = BTreeMap::new();
    let mut opened: BTreeMap<u64, (Option<u64>, u64, u64)> = BTreeMap::new();
    let mut last_sent: BTreeMap<u64, (Duration, u64)> = BTreeMap::new();
    for event in trace {
        match &event.kind {
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
    let calls: Vec<Call<'_>> = trace
        .iter()
        .filter(|e| e.at <= end)
        .filter_map(|e| match &e.kind {
            TraceKind::Request(r)
                if r.agent == client.agent
                    && matches!(r.verb, Verb::List | Verb::ListPage | Verb::Watch) =>
            {
                Some(Call {
                    at: e.at,
                    record: r,
                    ended: ends
                        .get(&r.id)
                        .zip(ended_at.get(&r.id))
                        .filter(|(_, at)| **at <= end)
                        .map(|(reason, at)| (*at, *reason)),
                    opened: opened.get(&r.id).copied(),
                    last_sent: last_sent.get(&r.id).copied(),
                })
            }
            _ => None,
        })
        .collect();
    let mut found = Findings::default();
    let deadline = scenario.expect.deadline;
    let first_fault = scenario.first_fault();
    let last_fault = scenario.last_fault_end().unwrap_or(Duration::ZERO);

    // What it did after each 410.
    let mut after_gone = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let Some(heard) = call.gone() else { continue };
        let next = calls[i + 1..].iter().find(|c| c.at >= heard);
        let reaction = match next {
            None => Reaction::None,
            Some(next) if lists(next.record) => Reaction::Relisted,
            Some(next)
                if next.record.verb == Verb::Watch
                    && next.resource_version() == call.resource_version() =>
            {
                Reaction::SameResourceVersion(next.at)
            }
            Some(_) => Reaction::Other,
        };
        after_gone.push((heard, call, reaction));
    }
    // Where each watch resumed from.
    let mut resumes = Resumes::default();
    for (i, call) in calls.iter().enumerate() {
        if call.record.verb != Verb::Watch || call.record.status != 200 {
            continue;
        }
        let earlier_watch = calls[..i].iter().any(|c| c.record.verb == Verb::Watch);
        match (call.resource_version(), call.opened) {
            (Some(""), _) if earlier_watch => resumes.empty.push(call.at),
            (_, Some((Some(from), _, revision))) if from > revision => {
                resumes.future.push((call.at, from, revision));
            }
            (_, Some((Some(_), _, _))) => resumes.resumed += 1,
            _ => resumes.fresh += 1,
        }
    }

    let request_times: Vec<Duration> = calls.iter().map(|c| c.at).collect();
    let peak = peak_per_minute(&request_times);
    let relists = calls
        .iter()
        .filter(|c| lists(c.record))
        .count()
        .saturating_sub(1);
    let relists = u32::try_from(relists).unwrap_or(u32::MAX);
    let errors = u32::try_from(calls.iter().filter(|c| c.failed()).count()).unwrap_or(u32::MAX);
    let storm = trace.iter().find_map(|e| match e.kind {
        TraceKind::Storm { requests, burst } if e.at <= end => Some((e.at, requests, burst)),
        _ => None,
    });

    // Survived: at the end it still has a watch open or a request pending, or it made one
    // within the deadline; and its process did not exit before the end.
    let pending = calls.iter().find(|c| c.record.status == 0);
    let open = calls
        .iter()
        .rev()
        .find(|c| c.record.verb == Verb::Watch && c.record.status == 200 && c.ended.is_none());
    let last_call = calls.last();
    let quiet_since = calls
        .iter()
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .max();
    let active = open.is_some()
        || pending.is_some()
        || quiet_since.is_some_and(|at| end.saturating_sub(at) <= deadline);
    let survived_detail = match (&client.exit.at, active, last_call) {
        (Some(at), _, _) => format!(
            "the client exited ({}) at {}, before the end at {}",
            client.exit.status,
            fmt(*at),
            fmt(end)
        ),
        (None, true, _) => "still watching at the end".to_owned(),
        (None, false, None) => "it made no list or watch request".to_owned(),
        (None, false, Some(_)) => format!(
            "it had no open watch and made no request from {} to the end at {}",
            fmt(quiet_since.unwrap_or_default()),
            fmt(end)
        ),
    };
    let survived = client.exit.at.is_none() && active;
    found.check(CheckName::Survived, survived, survived_detail.clone());

    // Request rate, with the pattern it repeated.
    let bound = scenario.expect.max_requests_per_minute;
    let rate_ok = storm.is_none() && bound.is_none_or(|b| peak <= b);
    let pattern = repeated_pattern(&calls);
    let mut rate_detail = match bound {
        Some(b) => format!("peak {peak} requests in a minute (bound {b})"),
        None => format!("peak {peak} requests in a minute (no bound)"),
    };
    if let Some((_, requests, burst)) = storm {
        let _ = write!(
            rate_detail,
            "; stopped as a request storm: {}",
            storm_words(requests, burst, scenario.server.max_requests)
        );
    }
    if let Some(backoff) = backoff_words(&calls) {
        let _ = write!(rate_detail, "; {backoff}");
    }
    found.check(CheckName::RequestRate, rate_ok, rate_detail.clone());

    let relists_ok = scenario.expect.max_relists.is_none_or(|m| relists <= m);
    found.check(
        CheckName::Relists,
        relists_ok,
        format!(
            "{relists} relist{} ({}); it relisted after {} of the {} 410s it was sent",
            if relists == 1 { "" } else { "s" },
            scenario
                .expect
                .max_relists
                .map_or("no bound".to_owned(), |m| format!("bound {m}")),
            after_gone
                .iter()
                .filter(|(_, _, r)| matches!(r, Reaction::Relisted))
                .count(),
            after_gone.len()
        ),
    );

    // Deadline: after the last fault, a healthy list or watch within the deadline.
    let disrupted_at = calls
        .iter()
        .filter(|c| first_fault.is_some_and(|f| c.at >= f) && c.failed())
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .min();
    // Back: the first healthy list or watch after its last failed request (a watch counts once
    // it was sent something, or is still open).
    let last_failure = calls
        .iter()
        .filter(|c| first_fault.is_some_and(|f| c.at >= f) && c.failed())
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .max();
    let recovered_at = last_failure.and_then(|from| {
        calls
            .iter()
            .filter(|c| c.at >= from && !c.failed() && c.record.status == 200)
            .find(|c| c.record.verb != Verb::Watch || c.ended.is_none() || c.last_sent.is_some())
            .map(|c| c.at)
    });
    let deadline_ok = match (disrupted_at, recovered_at) {
        (None, _) => true,
        (Some(_), Some(at)) => at <= last_fault + deadline,
        (Some(_), None) => false,
    };
    found.check(
        CheckName::Deadline,
        deadline_ok,
        match (disrupted_at, recovered_at) {
            (None, _) => "no request of its failed after the first fault".to_owned(),
            (Some(_), Some(at)) => format!(
                "a healthy request at {}, {} after the last fault ended at {} (deadline {}){}",
                fmt(at),
                fmt(at.saturating_sub(last_fault)),
                fmt(last_fault),
                fmt(deadline),
                if client.speed > 1 && !deadline_ok {
                    format!(
                        "; at {}× every second the client waits of its own (backoff, timeouts) is {} of virtual time",
                        client.speed,
                        fmt(Duration::from_secs(u64::from(client.speed)))
                    )
                } else {
                    String::new()
                }
            ),
            (Some(from), None) => format!(
                "disrupted at {} and no healthy request after the last fault ended at {}",
                fmt(from),
                fmt(last_fault)
            ),
        },
    );

    // Kept up: every open watch sent the writes it selects, up to a deadline before the end.
    let behind = open.and_then(|watch| behind(trace, watch, end.saturating_sub(deadline)));
    found.check(
        CheckName::KeptUp,
        behind.is_none(),
        match &behind {
            None => "its open watch, if any, was sent every write it selects".to_owned(),
            Some(words) => words.clone(),
        },
    );

    // Converged: the cache it wrote against the truth it selects.
    if let Some(view) = client.view {
        let selector = calls
            .iter()
            .rev()
            .find(|c| c.record.status == 200)
            .map(|c| selector_of(&c.record.query))
            .unwrap_or_default();
        let mut truth = Objects::new();
        for event in trace.iter().filter(|e| e.at <= end) {
            apply_truth(&mut truth, &event.kind, &selector);
        }
        let difference = describe_difference(view, &truth);
        found.check(
            CheckName::Converged,
            difference.is_empty(),
            if difference.is_empty() {
                format!(
                    "the cache it wrote equals the truth ({} objects)",
                    truth.len()
                )
            } else {
                format!("the cache it wrote differs from the truth: {difference}")
            },
        );
    }

    // The mechanism: the first story that fits, in the order of how much it explains.
    let recovered = found.checks.iter().all(|c| c.passed);
    let mut chain: Vec<Link> = Vec::new();
    let mut link = |at: Duration, text: String| chain.push(Link { at, text });
    let mechanism = if recovered {
        None
    } else if !rate_ok {
        let at = storm.map_or(first_fault.unwrap_or_default(), |s| s.0);
        link(
            at,
            format!(
                "request storm: {rate_detail}{}",
                pattern.map_or(String::new(), |p| format!("; it repeated {p}"))
            ),
        );
        Some(Mechanism::HotLoopWithoutBackoff)
    } else if let Some(call) = pending {
        link(
            call.at,
            format!(
                "the {} request at {} was never answered: its response head never came, and the client waited on it to the end",
                call.noun(),
                fmt(call.at)
            ),
        );
        Some(Mechanism::NeverAnswered)
    } else if let Some((heard, call, Reaction::SameResourceVersion(at))) = after_gone
        .iter()
        .find(|(_, _, r)| matches!(r, Reaction::SameResourceVersion(_)))
    {
        link(
            *heard,
            format!(
                "the server answered the {} from resourceVersion={} at {} with a 410, and the client re-watched from the same resourceVersion at {} instead of relisting",
                call.describe(),
                call.resource_version().unwrap_or(""),
                fmt(*heard),
                fmt(*at)
            ),
        );
        Some(Mechanism::StaleResumePoint)
    } else if let Some(last) = calls
        .last()
        .filter(|last| !survived && (last.ended.is_some() || last.failed()))
    {
        // It stopped after its last request ended: every such end is one a client recovers
        // from, by re-watching, or by relisting after a 410.
        let (at, how) = match last.ended {
            Some((at, reason)) => (at, format!("ended: {}", reason.describe())),
            None => (last.at, format!("was answered {}", last.record.status)),
        };
        link(
            at,
            format!(
                "its {} from resourceVersion={} (request #{}) {how} at {}, and it made no request after it; {survived_detail}: a client recovers from that by {}",
                last.noun(),
                last.resource_version().unwrap_or(""),
                last.record.id,
                fmt(at),
                if last.gone().is_some() {
                    "relisting"
                } else {
                    "re-watching from its last resourceVersion"
                }
            ),
        );
        Some(Mechanism::StoppedOnRecoverableError)
    } else if let Some((at, from, revision)) = resumes.future.first() {
        link(
            *at,
            format!(
                "a watch at {} resumed from resourceVersion={from}, ahead of the server's revision {revision}: it waits for the clock and misses what is written meanwhile",
                fmt(*at)
            ),
        );
        Some(Mechanism::ResumedFromFuture)
    } else if let Some(at) = resumes.empty.first() {
        link(
            *at,
            format!(
                "a watch at {} resumed with resourceVersion= (empty): from \"now\", skipping whatever changed since its last event",
                fmt(*at)
            ),
        );
        Some(Mechanism::ResumedFromEmpty)
    } else if let Some(words) = open
        .filter(|w| matches!(ends.get(&w.record.id), Some(WatchEnd::Stalled)))
        .and(behind.as_ref())
    {
        link(
            open.map_or(end, |w| w.at),
            format!(
                "its watch went half-open (nothing more arrived) and it did not give up on it: {words}"
            ),
        );
        Some(Mechanism::HalfOpenWatch)
    } else {
        let failing: Vec<String> = found
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.clone())
            .collect();
        link(end, format!("no rule explains it: {}", failing.join("; ")));
        Some(Mechanism::Unknown)
    };
    let diagnosis = (!recovered).then(|| {
        let mut words: Vec<String> = chain.iter().map(|l| l.text.clone()).collect();
        if let Some(mechanism) = mechanism
            && mechanism != Mechanism::Unknown
        {
            words.extend(
                found
                    .checks
                    .iter()
                    .filter(|c| !c.passed && c.name != CheckName::RequestRate)
                    .filter(|c| !chain.iter().any(|l| l.text.contains(&c.detail)))
                    .map(|c| c.detail.clone()),
            );
        }
        words.dedup();
        words.join("; ")
    });
    Verdict {
        recovered,
        checks: found.checks,
        figures: Figures {
            requests: calls.len() as u64,
            relists,
            errors,
            peak_requests_per_minute: peak,
            disrupted_at,
            recovered_at,
            recovery_latency: disrupted_at
                .zip(recovered_at)
                .map(|(d, r)| r.saturating_sub(d)),
            blind_time: None,
        },
        mechanism,
        chain,
        first_divergence: None,
        diagnosis,
        marks: Marks::default(),
    }
}

#[derive(Default)]
struct Findings {
    checks: Vec<Check>,
}

impl Findings {
    fn check(&mut self, name: CheckName, passed: bool, detail: String) {
        self.checks.push(Check {
            name,
            passed,
            detail,
        });
    }
}

/// What a client did after it was told 410.
enum Reaction {
    /// Nothing: no request after it (yet).
    None,
    /// A list (or streaming list) from scratch.
    Relisted,
    /// A watch from the very resourceVersion it was told is gone, at.
    SameResourceVersion(Duration),
    /// Something else.
    Other,
}

/// Where the client's watches resumed from.
#[derive(Default)]
struct Resumes {
    fresh: usize,
    resumed: usize,
    empty: Vec<Duration>,
    future: Vec<(Duration, u64, u64)>,
}

/// The selector a request carried.
fn selector_of(query: &str) -> Selector {
    let decoded: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Selector::parse(
        decoded.get("labelSelector").map(String::as_str),
        decoded.get("fieldSelector").map(String::as_str),
    )
    .unwrap_or_default()
}

/// Whether an open watch fell behind: a write it selects, made by `by`, that it never sent.
fn behind(trace: &Trace, watch: &Call<'_>, by: Duration) -> Option<String> {
    let selector = selector_of(&watch.record.query);
    let sent = watch.last_sent.map_or(0, |(_, rv)| rv);
    let start = watch
        .opened
        .map_or(0, |(from, _, revision)| from.unwrap_or(revision));
    let missed: Vec<(Duration, u64)> = trace
        .iter()
        .filter(|e| e.at <= by && e.at >= watch.at)
        .filter_map(|e| match &e.kind {
            TraceKind::Write {
                key,
                labels,
                resource_version,
                ..
            } if *resource_version > sent.max(start) => {
                let (namespace, name) = match key.split_once('/') {
                    Some((ns, name)) => (Some(ns), name),
                    None => (None, key.as_str()),
                };
                selector
                    .matches(name, namespace, labels)
                    .then_some((e.at, *resource_version))
            }
            _ => None,
        })
        .collect();
    let (first_at, first_rv) = *missed.first()?;
    Some(format!(
        "watch #{} (open since {}) was never sent {} write{} it selects, the first at {} (resourceVersion {first_rv}); the last event it was sent carried resourceVersion {sent}",
        watch.record.id,
        fmt(watch.at),
        missed.len(),
        if missed.len() == 1 { "" } else { "s" },
        fmt(first_at),
    ))
}

/// The cycle of requests the client repeated most at its end, when it repeated one at least
/// three times: `LIST → 200, WATCH → 410 (×120)`.
fn repeated_pattern(calls: &[Call<'_>]) -> Option<String> {
    let words: Vec<String> = calls.iter().map(Call::describe).collect();
    let mut best: Option<(usize, usize, usize)> = None; // (period, start, repeats)
    for period in 1..=4 {
        // The longest run of repeats of one cycle of `period` requests.
        let mut i = 0;
        while i + period <= words.len() {
            let mut repeats = 1;
            while i + (repeats + 1) * period <= words.len()
                && words[i + repeats * period..i + (repeats + 1) * period] == words[i..i + period]
            {
                repeats += 1;
            }
            if repeats >= 3 && best.is_none_or(|(p, _, r)| repeats * period > r * p) {
                best = Some((period, i, repeats));
            }
            i += if repeats > 1 { repeats * period } else { 1 };
        }
    }
    let (period, start, repeats) = best?;
    Some(format!(
        "{} (×{repeats}, from {})",
        words[start..start + period].join(", "),
        fmt(calls[start].at)
    ))
}

/// How the client paced its retries after failures, in words, when it retried at least three
/// times in a row.
fn backoff_words(calls: &[Call<'_>]) -> Option<String> {
    let mut longest: &[Call<'_>] = &[];
    let mut start = 0;
    for i in 0..=calls.len() {
        if i == calls.len() || !calls[i].failed() {
            if i - start > longest.len() {
                longest = &calls[start..i];
            }
            start = i + 1;
        }
    }
    if longest.len() < 3 {
        return None;
    }
    let gaps: Vec<Duration> = longest.windows(2).map(|w| w[1].at - w[0].at).collect();
    let (first, last) = (gaps[0], gaps[gaps.len() - 1]);
    let growing = last >= first * 2 && last > Duration::ZERO;
    Some(format!(
        "{} failed requests in a row from {}, {} apart at first and {} at last: {}",
        longest.len(),
        fmt(longest[0].at),
        fmt(first),
        fmt(last),
        if growing {
            "it backs off"
        } else {
            "it does not back off"
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{SentEvent, TraceEvent};

    fn scenario() -> Scenario {
        Scenario::from_yaml(
            "duration: 10m\n\
             resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
               objects: [{ name: a, namespace: default }] }\n\
             timeline: [{ at: 1m, kind: expire_watches }]\n\
             watchers: [{ name: any }]\n\
             expect: { deadline: 1m, max_requests_per_minute: 30, recover: [any] }\n",
        )
        .expect("the scenario loads")
    }

    fn request(at: u64, id: u64, verb: Verb, query: &str, status: u16) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: query.into(),
                status,
                verb,
                agent: "kubectl/v1.33".into(),
            }),
        }
    }

    fn opened(at: u64, request: u64, from: Option<u64>) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::WatchOpened {
                request,
                from,
                floor: 1,
                revision: 5,
            },
        }
    }

    fn gone(at: u64, request: u64) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::WatchEnded {
                request,
                reason: WatchEnd::Error {
                    code: 410,
                    reason: "Expired".into(),
                    message: "too old resource version: 2 (5)".into(),
                },
                events: 1,
            },
        }
    }

    fn sent(at: u64, request: u64, rv: u64) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::Sent {
                request,
                event: SentEvent {
                    type_: EventType::Modified,
                    key: Some("default/a".into()),
                    resource_version: Some(rv),
                    damaged: None,
                },
            },
        }
    }

    fn judged(trace: &Trace, exit: Option<u64>) -> Verdict {
        let exit = Exit {
            at: exit.map(Duration::from_secs),
            status: "exit 1".into(),
        };
        judge_client(
            &scenario(),
            trace,
            Client {
                agent: "kubectl/v1.33",
                view: None,
                exit: &exit,
                end: Duration::from_secs(600),
                speed: 1,
            },
        )
    }

    #[test]
    fn a_client_that_relists_after_the_410_and_watches_on_recovered() {
        let trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
            gone(60, 2),
            request(61, 3, Verb::List, "", 200),
            request(61, 4, Verb::Watch, "watch=true&resourceVersion=5", 200),
            opened(61, 4, Some(5)),
        ];
        let verdict = judged(&trace, None);
        assert!(verdict.recovered, "{:?}", verdict.checks);
        assert_eq!(verdict.figures.relists, 1);
    }

    #[test]
    fn a_client_that_exits_at_the_410_stopped_on_a_recoverable_error() {
        let trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
            gone(60, 2),
        ];
        let verdict = judged(&trace, Some(60));
        assert!(!verdict.recovered);
        assert_eq!(
            verdict.mechanism,
            Some(Mechanism::StoppedOnRecoverableError)
        );
        let diagnosis = verdict.diagnosis.unwrap();
        assert!(
            diagnosis.contains("the client exited (exit 1) at 1m"),
            "{diagnosis}"
        );
    }

    #[test]
    fn a_client_that_relists_in_a_tight_loop_after_an_http_410_is_a_storm_with_its_pattern() {
        let mut trace = Vec::new();
        for i in 0..40 {
            trace.push(request(60 + i, 2 * i + 1, Verb::List, "", 200));
            trace.push(request(
                60 + i,
                2 * i + 2,
                Verb::Watch,
                "watch=true&resourceVersion=2",
                410,
            ));
        }
        let verdict = judged(&trace, None);
        assert_eq!(verdict.mechanism, Some(Mechanism::HotLoopWithoutBackoff));
        let diagnosis = verdict.diagnosis.unwrap();
        assert!(
            diagnosis.contains("it repeated LIST → 200, WATCH → 410 (×40, from 1m)"),
            "{diagnosis}"
        );
    }

    #[test]
    fn a_client_that_re_watches_from_the_expired_resource_version_resumed_from_a_stale_point() {
        let mut trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
            gone(60, 2),
        ];
        for (i, at) in (61..600).step_by(60).enumerate() {
            trace.push(request(
                at,
                3 + i as u64,
                Verb::Watch,
                "watch=true&resourceVersion=2",
                410,
            ));
        }
        let verdict = judged(&trace, None);
        assert_eq!(verdict.mechanism, Some(Mechanism::StaleResumePoint));
    }

    #[test]
    fn an_open_watch_that_was_never_sent_a_write_it_selects_did_not_keep_up() {
        let write = |at: u64, rv: u64| TraceEvent {
            at: Duration::from_secs(at),
            kind: TraceKind::Write {
                key: "default/a".into(),
                labels: BTreeMap::new(),
                resource_version: rv,
                exists: true,
            },
        };
        let kept_up = |trace: &Trace| {
            judged(trace, None)
                .checks
                .into_iter()
                .find(|c| c.name == CheckName::KeptUp)
                .unwrap()
        };
        let mut trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
            write(100, 6),
            sent(100, 2, 6),
        ];
        assert!(kept_up(&trace).passed);
        trace.push(write(200, 7));
        let check = kept_up(&trace);
        assert!(!check.passed);
        assert!(
            check
                .detail
                .contains("never sent 1 write it selects, the first at 3m20s"),
            "{}",
            check.detail
        );
    }
}
