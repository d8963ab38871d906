//! One rule per [`Mechanism`]: each recognises its causal story in a failed run's evidence and
//! tells it as a chain of links — the fault, what the server answered or sent, what the watcher
//! did with it, and the state that followed. Rules are tried in the order of
//! [`Mechanism::ALL`] and the first that fits wins; when none fits, the diagnosis says so
//! ([`Mechanism::Unknown`]) rather than guess.

use std::time::Duration;

use super::evidence::{Evidence, ServedWatch, resource_version, verb};
use super::scorecard::{CheckName, Link};
use crate::mechanism::Mechanism;
use crate::scenario::{Consumer, format_duration as fmt};
use crate::subject::DRIVER_RETURNED;
use crate::trace::{Damage, EventType, TraceKind, Verb, WatchEnd, WatcherFault, storm_words};

/// A mechanism and the chain that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Explanation {
    pub(super) mechanism: Mechanism,
    pub(super) chain: Vec<Link>,
}

fn link(at: Duration, text: impl Into<String>) -> Link {
    Link {
        at,
        text: text.into(),
    }
}

fn found(mechanism: Mechanism, chain: Vec<Link>) -> Option<Explanation> {
    Some(Explanation { mechanism, chain })
}

/// The mechanism behind a failed run.
pub(super) fn diagnose(e: &Evidence) -> Explanation {
    let rules: [fn(&Evidence) -> Option<Explanation>; 16] = [
        hung,
        consumer_panicked,
        stopped_on_recoverable_error,
        never_answered,
        half_open_watch,
        store_never_ready,
        event_dropped,
        resumed_from_future,
        resumed_from_empty,
        gone_without_code,
        hot_loop_on_clean_ends,
        hot_loop_without_backoff,
        backoff_reset_by_init,
        stale_resume_point,
        replayed_from_behind,
        read_timeout_below_bookmarks,
    ];
    rules
        .iter()
        .find_map(|rule| rule(e))
        .unwrap_or_else(|| unknown(e))
}

/// `WatchError (410 Expired: "…")`.
pub(super) fn describe(fault: &WatcherFault) -> String {
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

/// ` (expire_watches at 5m)`, or nothing when no fault played before `at`.
fn after_fault(e: &Evidence, at: Duration) -> String {
    e.fault_before(at)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}

/// As [`after_fault`], for a request answered `answer`: the fault that answers so.
fn caused(e: &Evidence, at: Duration, verb: &str, answer: &str) -> String {
    e.cause_of(at, verb, answer)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}

fn hung(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    cause.starts_with("hung").then(|| Explanation {
        mechanism: Mechanism::Hung,
        chain: vec![link(at, format!("the run did not finish: {cause}"))],
    })
}

fn consumer_panicked(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    (cause == "the consumer panicked").then(|| Explanation {
        mechanism: Mechanism::ConsumerPanicked,
        chain: vec![link(
            at,
            format!(
                "the consumer panicked at {}: a bug in the code that reads the stream, not a state of the server",
                fmt(at)
            ),
        )],
    })
}

fn stopped_on_recoverable_error(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    if cause == DRIVER_RETURNED {
        return driver_stopped_on_an_error(e, at);
    }
    if !cause.starts_with("the consumer returned the watcher's error") {
        return None;
    }
    let (error_at, error) = e.errors.iter().rev().find(|(t, _)| *t <= at)?;
    let mut chain = Vec::new();
    if let Some((request_at, request)) = e.requests.iter().rev().find(|(t, _)| t <= error_at) {
        chain.push(link(
            *request_at,
            format!(
                "the server answered the {} at {}{} with {}{}",
                verb(request),
                fmt(*request_at),
                resource_version(request)
                    .filter(|rv| !rv.is_empty())
                    .map(|rv| format!(" from resourceVersion={rv}"))
                    .unwrap_or_default(),
                e.answer(request),
                caused(e, *request_at, verb(request), &e.answer(request))
            ),
        ));
    }
    // An attempt the server never saw: a restart between the last request it answered and
    // the error had it down, refusing connections.
    let last_request = e
        .requests
        .iter()
        .rev()
        .find(|(t, _)| t <= error_at)
        .map_or(Duration::ZERO, |(t, _)| *t);
    let restart = e
        .faults
        .iter()
        .rev()
        .find(|(t, kind)| *kind == "restart" && *t > last_request && t <= error_at);
    if let Some((restart_at, _)) = restart {
        chain.push(link(
            *restart_at,
            format!(
                "its next attempt reached no server: the apiserver was down (restart at {})",
                fmt(*restart_at)
            ),
        ));
    }
    chain.push(link(
        *error_at,
        format!("the watcher emitted {}", describe(error)),
    ));
    // kube-runtime relists on an in-stream 410 and retries everything else, from the same
    // resourceVersion (an HTTP 410 at watch start included).
    let remedy = if error.variant == "WatchError" && error.code == Some(410) {
        "relisted"
    } else {
        "retried"
    };
    let consumer = match e.setup.consumer {
        Consumer::StopOnError => "the consumer (stop_on_error)".to_owned(),
        other => format!("the consumer ({})", other.as_str()),
    };
    chain.push(link(
        at,
        format!(
            "{consumer} stopped on it at {}: kube's watcher recovers from that error by itself, and would have {remedy}",
            fmt(at)
        ),
    ));
    found(Mechanism::StoppedOnRecoverableError, chain)
}

/// A store's driver that returned the instant the server answered with an error: the
/// watcher's errors are not seen from a store, but a driver that ends right on one ended on it
/// (a `try_for_each`, or `?`, on the reflector's stream).
fn driver_stopped_on_an_error(e: &Evidence, at: Duration) -> Option<Explanation> {
    let (answered, request, answer) = e
        .trace
        .iter()
        .take_while(|event| event.at <= at)
        .filter_map(|event| match &event.kind {
            TraceKind::Request(r) if r.status >= 400 => {
                Some((event.at, r.id, r.status.to_string()))
            }
            TraceKind::WatchEnded {
                request,
                reason: WatchEnd::Error { code, reason, .. },
                ..
            } => Some((event.at, *request, format!("ERROR {code} {reason}"))),
            _ => None,
        })
        .last()?;
    if at.saturating_sub(answered) > super::DELIVERY_LAG {
        return None;
    }
    let (requested, r) = e.requests.iter().find(|(_, r)| r.id == request)?;
    let remedy = if answer.starts_with("ERROR 410") {
        "relisted"
    } else {
        "retried"
    };
    found(
        Mechanism::StoppedOnRecoverableError,
        vec![
            link(
                answered,
                format!(
                    "the server answered the {} at {}{} with {answer}{}",
                    verb(r),
                    fmt(*requested),
                    resource_version(r)
                        .filter(|rv| !rv.is_empty())
                        .map(|rv| format!(" from resourceVersion={rv}"))
                        .unwrap_or_default(),
                    caused(e, answered, verb(r), &answer)
                ),
            ),
            link(
                at,
                format!(
                    "the future driving the store returned at {}, as that answer came: the watcher's error ended it (a `try_for_each` or `?` on the reflector's stream), so the store was never updated again; kube's watcher recovers from that error by itself, and would have {remedy}",
                    fmt(at)
                ),
            ),
        ],
    )
}

/// `kube's Config has no read timeout by default`, or why the set-up has none.
fn no_read_timeout(e: &Evidence) -> Option<&'static str> {
    match (e.read_timeout, e.setup.client.read_timeout) {
        (Some(_), _) => None,
        (None, None) => {
            Some("kube's `Config` has no read timeout by default (kube 5.0: `read_timeout: None`)")
        }
        (None, Some(_)) => Some("the set-up turned kube's read timeout off"),
    }
}

fn never_answered(e: &Evidence) -> Option<Explanation> {
    let (at, last) = e.requests.last()?;
    if last.status != 0 {
        return None;
    }
    let why = no_read_timeout(e)?;
    found(
        Mechanism::NeverAnswered,
        vec![
            link(
                *at,
                format!(
                    "the {} request at {} was never answered: its response head never came{}",
                    verb(last),
                    fmt(*at),
                    after_fault(e, *at)
                ),
            ),
            link(
                *at,
                format!("{why}, so the watcher waited on it to the end of the run"),
            ),
        ],
    )
}

fn half_open_watch(e: &Evidence) -> Option<Explanation> {
    stalled_to_the_end(e).or_else(|| stalled_past_the_deadline(e))
}

/// A watch stalled, and the client gave up on it only at its own timeout, past the deadline.
fn stalled_past_the_deadline(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Deadline) {
        return None;
    }
    let (ended, request) = e.trace.iter().find_map(|event| match &event.kind {
        TraceKind::WatchEnded {
            request,
            reason: WatchEnd::Stalled,
            ..
        } => Some((event.at, *request)),
        _ => None,
    })?;
    let (opened, _) = e.requests.iter().find(|(_, r)| r.id == request)?;
    let stalled = e
        .faults
        .iter()
        .rev()
        .find(|(t, kind)| *kind == "stall_stream" && *t <= ended)?
        .0
        .max(*opened);
    let waited = ended - stalled;
    if waited <= e.scenario.expect.deadline {
        return None;
    }
    found(
        Mechanism::HalfOpenWatch,
        vec![
            link(
                stalled,
                format!(
                    "the watch opened at {} went half-open at {} (stall_stream): the connection stayed and nothing more arrived",
                    fmt(*opened),
                    fmt(stalled)
                ),
            ),
            link(
                ended,
                format!(
                    "the client gave up on it only at {}, {} later: kube notices a silent watch by its idle timeout (the watch's timeout + 5 s) or a read timeout, and that is longer than the scenario's deadline ({})",
                    fmt(ended),
                    fmt(waited),
                    fmt(e.scenario.expect.deadline)
                ),
            ),
        ],
    )
}

/// A watch stalled and nothing ever gave up on it.
fn stalled_to_the_end(e: &Evidence) -> Option<Explanation> {
    let (at, last) = e.requests.last()?;
    let why = no_read_timeout(e)?;
    let stalled = e
        .faults
        .iter()
        .rev()
        .find(|(t, kind)| *kind == "stall_stream" && t >= at)?
        .0;
    let open = last.verb == Verb::Watch
        && last.status == 200
        && matches!(e.watch_ends.get(&last.id), None | Some(WatchEnd::Stalled));
    if !open || e.setup.config.timeout != Some(0) {
        return None;
    }
    found(
        Mechanism::HalfOpenWatch,
        vec![
            link(
                stalled,
                format!(
                    "the watch opened at {} went half-open (stall_stream at {}): the connection stayed and nothing more arrived",
                    fmt(*at),
                    fmt(stalled)
                ),
            ),
            link(
                stalled,
                format!(
                    "nothing gave up on it: the set-up's `timeout: 0` turns off kube's idle timeout (timeout + 5 s), and {why}"
                ),
            ),
        ],
    )
}

fn store_never_ready(e: &Evidence) -> Option<Explanation> {
    // A storm stops the run in the middle of whatever list was going on: that is the loop's
    // story, not the list's.
    if e.storm.is_some() {
        return None;
    }
    // The Inits since the last InitDone: each started an initial state that never ended.
    let mut unfinished: Vec<Duration> = Vec::new();
    let mut applied = 0;
    for event in e.trace {
        match event.kind {
            TraceKind::Init => unfinished.push(event.at),
            TraceKind::InitApply { .. } if !unfinished.is_empty() => applied += 1,
            TraceKind::InitDone => {
                unfinished.clear();
                applied = 0;
            }
            _ => {}
        }
    }
    let since = *unfinished.first()?;
    let without_marker: Vec<(u64, &ServedWatch<'_>)> = e
        .requests
        .iter()
        .filter(|(t, _)| *t >= since.saturating_sub(Duration::from_secs(1)))
        .filter(|(_, r)| r.query.contains("sendInitialEvents=true"))
        .filter_map(|(_, r)| e.watches.get(&r.id).map(|w| (r.id, w)))
        .filter(|(_, w)| {
            w.sent
                .iter()
                .all(|(_, s)| s.type_ != EventType::InitialEventsEnd)
        })
        .collect();
    let restarts = if unfinished.len() > 1 {
        format!(
            "; each of its {} re-watches started the initial state over",
            unfinished.len() - 1
        )
    } else {
        String::new()
    };
    let mut chain = Vec::new();
    if let Some((id, watch)) = without_marker.first() {
        let added = watch
            .sent
            .iter()
            .filter(|(_, s)| s.type_ == EventType::Added)
            .count();
        chain.push(link(
            watch.at,
            format!(
                "the streaming list at {} (watch #{id}, sendInitialEvents=true) sent {added} ADDED events and never the `k8s.io/initial-events-end` bookmark{}, nor did any of the {} streaming lists after it",
                fmt(watch.at),
                e.fault("drop_initial_events_end")
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
                without_marker.len() - 1
            ),
        ));
        chain.push(link(
            since,
            format!(
                "kube's watcher ends its initial state only on that bookmark, so from {} it emitted Init and {applied} InitApply, and never InitDone{restarts}",
                fmt(since)
            ),
        ));
    } else {
        chain.push(link(
            since,
            format!(
                "the watcher emitted Init at {} and {applied} InitApply, and never InitDone: its initial list never completed{}{restarts}",
                fmt(since),
                after_fault(e, since)
            ),
        ));
    }
    chain.push(link(
        since,
        "so the reflector's store never became ready (`Store::wait_until_ready` never returns, and a `Controller` never reconciles), and every change since went into an initial state that never ended",
    ));
    found(Mechanism::StoreNeverReady, chain)
}

fn event_dropped(e: &Evidence) -> Option<Explanation> {
    for (id, watch) in &e.watches {
        for (at, sent) in &watch.sent {
            let (Some(damage), Some(key), Some(rv)) =
                (sent.damaged, &sent.key, sent.resource_version)
            else {
                continue;
            };
            if damage == Damage::Cut {
                continue;
            }
            // When the watcher first emitted this version of the object or a later one.
            let caught_up = e
                .trace
                .iter()
                .find(|event| {
                    event.at >= *at
                        && matches!(&event.kind,
                            TraceKind::Apply { key: k, resource_version }
                            | TraceKind::InitApply { key: k, resource_version }
                            | TraceKind::Delete { key: k, resource_version }
                            if k == key && *resource_version >= rv)
                })
                .map(|event| event.at);
            if caught_up.is_some_and(|t| t - *at <= super::DELIVERY_LAG) {
                continue;
            }
            let line = match damage {
                Damage::Truncated => "a truncated line (half a JSON object)",
                _ => "a line without its {\"type\",\"object\"} envelope",
            };
            let reaction = match e.errors.iter().find(|(t, _)| t == at) {
                None => "kube-client dropped the line without an error: the watcher never emitted it, and went on with the next event".to_owned(),
                Some((_, error)) => format!(
                    "kube reported it as {} and went on: the event itself never came out",
                    describe(error)
                ),
            };
            let relisted = e
                .requests
                .iter()
                .any(|(t, r)| t > at && super::request_log::lists(r));
            let then = match caught_up {
                Some(t) => format!(
                    "the view kept the version before it until {}, when a newer one came{}",
                    fmt(t),
                    if e.requests
                        .iter()
                        .any(|(r_at, r)| r_at > at && *r_at <= t && super::request_log::lists(r))
                    {
                        " with a relist"
                    } else {
                        ""
                    }
                ),
                None if relisted => {
                    "a later relist did not bring it back before the end".to_owned()
                }
                None => {
                    "nothing relisted afterwards, so the view kept the version before it".to_owned()
                }
            };
            return found(
                Mechanism::EventDropped,
                vec![
                    link(
                        *at,
                        format!(
                            "the {} of {key} at resourceVersion {rv} went out on watch #{id} at {} as {line}{}",
                            type_name(sent.type_),
                            fmt(*at),
                            after_fault(e, *at)
                        ),
                    ),
                    link(*at, reaction),
                    link(*at, then),
                ],
            );
        }
    }
    None
}

fn type_name(type_: EventType) -> &'static str {
    match type_ {
        EventType::Added => "ADDED",
        EventType::Modified => "MODIFIED",
        EventType::Deleted => "DELETED",
        EventType::Bookmark | EventType::InitialEventsEnd => "BOOKMARK",
        EventType::Error => "ERROR",
    }
}

fn resumed_from_future(e: &Evidence) -> Option<Explanation> {
    let (id, watch, from) = e
        .watches
        .iter()
        .find_map(|(id, w)| w.from.filter(|f| *f > w.revision).map(|f| (id, w, f)))?;
    found(
        Mechanism::ResumedFromFuture,
        vec![
            link(
                watch.at,
                format!(
                    "the server's revision went back to {}{}",
                    watch.revision,
                    after_fault(e, watch.at)
                ),
            ),
            link(
                watch.at,
                format!(
                    "watch #{id} at {} resumed from resourceVersion {from}, ahead of it: a watch from the future waits for the clock to get there",
                    fmt(watch.at)
                ),
            ),
            link(
                watch.at,
                format!(
                    "the writes made meanwhile, at revisions up to {from}, were never sent to it, and nothing relisted"
                ),
            ),
        ],
    )
}

fn resumed_from_empty(e: &Evidence) -> Option<Explanation> {
    let (empty_at, _) = e
        .watches
        .values()
        .flat_map(|w| &w.sent)
        .find(|(_, s)| s.type_ == EventType::Bookmark && s.resource_version.is_none())?;
    let (at, request) = e.requests.iter().find(|(t, r)| {
        t >= empty_at && r.verb == Verb::Watch && resource_version(r).as_deref() == Some("")
    })?;
    found(
        Mechanism::ResumedFromEmpty,
        vec![
            link(
                *empty_at,
                format!(
                    "the bookmark at {} carried an empty resourceVersion{}",
                    fmt(*empty_at),
                    after_fault(e, *empty_at)
                ),
            ),
            link(
                *at,
                format!(
                    "kube's watcher took it as its resume point: watch #{} at {} asked for resourceVersion=\"\", a fresh state from then, not the changes since its last event",
                    request.id,
                    fmt(*at)
                ),
            ),
            link(
                *at,
                "what changed in between was never delivered as a change: a delete among it leaves a ghost",
            ),
        ],
    )
}

fn gone_without_code(e: &Evidence) -> Option<Explanation> {
    let without_code: Vec<(u64, &ServedWatch<'_>)> = e
        .watches
        .iter()
        .filter(|(id, _)| {
            matches!(e.watch_ends.get(id),
                Some(WatchEnd::Error { code: 0, reason, .. }) if reason == "Expired")
        })
        .map(|(id, w)| (*id, w))
        .collect();
    let (id, first) = without_code.first()?;
    found(
        Mechanism::GoneWithoutCode,
        vec![
            link(
                first.at,
                format!(
                    "watch #{id} at {} ended with ERROR Expired whose Status carried no `code`{}",
                    fmt(first.at),
                    after_fault(e, first.at)
                ),
            ),
            link(
                first.at,
                format!(
                    "kube's watcher relists only on code 410, so it re-watched from the same resourceVersion{}: {} watches were answered so",
                    first.from.map(|rv| format!(" ({rv})")).unwrap_or_default(),
                    without_code.len()
                ),
            ),
        ],
    )
}

/// The request storm or the request-rate bound that a hot loop ran into, in words.
fn storm_or_rate(e: &Evidence) -> Option<Link> {
    if let Some((at, requests, burst)) = e.storm {
        return Some(link(
            at,
            format!(
                "the run was stopped at {} as a request storm: {}",
                fmt(at),
                storm_words(requests, burst, e.scenario.server.max_requests)
            ),
        ));
    }
    e.failure(CheckName::RequestRate)
        .map(|c| link(Duration::ZERO, c.detail.clone()))
}

fn hot_loop_on_clean_ends(e: &Evidence) -> Option<Explanation> {
    let bound = storm_or_rate(e)?;
    let pattern = e.pattern()?;
    let empty = pattern.answer.starts_with("200 and an immediate end");
    // kube-client 5.0 ends a watch quietly on an unexpected EOF, a chunk cut short included
    // (`request_events` in kube-client/src/client/mod.rs: "End the stream so it can be
    // resumed"), so a cut the watcher saw no error for is a clean end to it too.
    let cut = pattern.answer.starts_with("200, then cut")
        && !e.errors.iter().any(|(t, _)| *t >= pattern.first);
    if pattern.verb != "watch" || !(empty || cut) {
        return None;
    }
    let why = if empty {
        "a clean end is not an error, so kube's watcher re-watches at once, and no backoff applies, whatever the set-up's"
    } else {
        "kube-client ends a watch whose connection closes without its final chunk as if it had ended cleanly (an unexpected EOF is \"resumable\"), so the watcher saw no error, re-watched at once, and no backoff applied, whatever the set-up's"
    };
    found(
        Mechanism::HotLoopOnCleanEnds,
        vec![
            link(
                pattern.first,
                format!(
                    "{}{}",
                    pattern.describe(),
                    caused(e, pattern.first, pattern.verb, &pattern.answer)
                ),
            ),
            link(pattern.first, why),
            bound,
        ],
    )
}

fn hot_loop_without_backoff(e: &Evidence) -> Option<Explanation> {
    let bound = storm_or_rate(e)?;
    if !e.no_backoff() {
        return None;
    }
    let pattern = e.pattern()?;
    let mut reaction =
        "the set-up has no backoff (`backoff: none`), so the watcher retried each at once"
            .to_owned();
    if pattern.verb == "watch" && pattern.answer == "410" {
        reaction.push_str(
            "; an HTTP 410 at watch start makes kube-rs re-watch from the same resourceVersion instead of relisting",
        );
    }
    found(
        Mechanism::HotLoopWithoutBackoff,
        vec![
            link(
                pattern.first,
                format!(
                    "{}{}",
                    pattern.describe(),
                    caused(e, pattern.first, pattern.verb, &pattern.answer)
                ),
            ),
            link(pattern.first, reaction),
            bound,
        ],
    )
}

fn backoff_reset_by_init(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Relists) {
        return None;
    }
    let relists: Vec<Duration> = e
        .requests
        .iter()
        .filter(|(_, r)| r.verb == Verb::List)
        .map(|(at, _)| *at)
        .skip(1)
        .collect();
    let gaps: Vec<Duration> = relists.windows(2).map(|w| w[1] - w[0]).collect();
    let first_step = Duration::from_millis(800)..Duration::from_millis(1600);
    let in_step = gaps.iter().filter(|g| first_step.contains(g)).count();
    if gaps.len() < 3 || in_step * 5 < gaps.len() * 4 {
        return None;
    }
    let why = match e.pattern().filter(|p| p.verb == "list-page") {
        Some(p) => format!(
            "; {}{}",
            p.describe(),
            caused(e, p.first, p.verb, &p.answer)
        ),
        None => after_fault(e, relists[0]),
    };
    found(
        Mechanism::BackoffResetByInit,
        vec![
            link(
                relists[0],
                format!(
                    "from {}, {} relists, each of which got its first page and failed further on{why}",
                    fmt(relists[0]),
                    relists.len(),
                ),
            ),
            link(
                relists[0],
                format!(
                    "each first page makes kube's watcher yield `Event::Init`, and any item it yields resets its backoff, so every retry waited only the first step: {in_step} of {} gaps between relists were 0.8–1.6 s",
                    gaps.len()
                ),
            ),
        ],
    )
}

fn stale_resume_point(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Relists) && !e.failed(CheckName::Deadline) {
        return None;
    }
    let first_fault = e.faults.first().map_or(Duration::ZERO, |(t, _)| *t);
    let stale: Vec<(u64, &ServedWatch<'_>, u64)> = e
        .watches
        .iter()
        .filter(|(_, w)| w.at >= first_fault)
        .filter_map(|(id, w)| w.from.filter(|f| *f < w.floor).map(|f| (*id, w, f)))
        .collect();
    let (id, first, from) = stale.first()?;
    let bookmarks = if e.setup.config.bookmarks == Some(false) {
        "bookmarks are off (`bookmarks: false`)".to_owned()
    } else if let Some(f) = e.fault("drop_bookmarks") {
        format!("bookmarks were dropped ({f})")
    } else if let Some(f) = e.fault("stale_bookmarks") {
        format!("bookmarks carried a stale resourceVersion ({f})")
    } else {
        format!(
            "the watcher was away longer than the server keeps history{}",
            after_fault(e, first.at)
        )
    };
    let cost = e
        .checks
        .iter()
        .find(|c| (c.name == CheckName::Relists || c.name == CheckName::Deadline) && !c.passed)
        .map(|c| c.detail.clone())
        .unwrap_or_default();
    found(
        Mechanism::StaleResumePoint,
        vec![
            link(
                first.at,
                format!(
                    "{} watches resumed from a resourceVersion the server no longer had, the first (#{id}) at {}{}: from {from}, where the oldest it could resume from was {}",
                    stale.len(),
                    fmt(first.at),
                    after_fault(e, first.at),
                    first.floor
                ),
            ),
            link(
                first.at,
                format!(
                    "the resume point was the watcher's own last event, as {bookmarks}; each 410 cost a relist"
                ),
            ),
            link(first.at, cost),
        ],
    )
}

/// A watch resumed from behind what the watcher had already emitted — a resume point moved
/// back, by a stale bookmark — and the server, which still had that history, replayed it: the
/// watcher emitted older versions after newer ones.
fn replayed_from_behind(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Monotonic) {
        return None;
    }
    let mut reached = 0;
    let mut replayed = None;
    for event in e.trace {
        match &event.kind {
            TraceKind::Apply {
                resource_version, ..
            }
            | TraceKind::Delete {
                resource_version, ..
            } => reached = reached.max(*resource_version),
            // A relist starts the watcher's state over: what it replays after it is not a
            // regression of the watch.
            TraceKind::Init => reached = 0,
            TraceKind::WatchOpened {
                request,
                from: Some(from),
                floor,
                ..
            } if *from < reached && *from >= *floor => {
                replayed = Some((event.at, *request, *from, reached));
                break;
            }
            _ => {}
        }
    }
    let (at, id, from, reached) = replayed?;
    let moved = match e.fault("stale_bookmarks") {
        Some(f) => format!("bookmarks carried a stale resourceVersion ({f})"),
        None => "its resume point went back".to_owned(),
    };
    let regression = e
        .failure(CheckName::Monotonic)
        .map(|c| c.detail.clone())
        .unwrap_or_default();
    found(
        Mechanism::StaleResumePoint,
        vec![
            link(
                at,
                format!(
                    "watch #{id} at {} resumed from resourceVersion={from}, behind the {reached} the watcher had already emitted, as {moved}",
                    fmt(at)
                ),
            ),
            link(
                at,
                format!(
                    "the server still had that history and replayed it from {from} on, and the watcher emitted it again: {regression}"
                ),
            ),
        ],
    )
}

fn read_timeout_below_bookmarks(e: &Evidence) -> Option<Explanation> {
    let read_timeout = e.read_timeout?;
    let interval = e.scenario.server.bookmark_interval;
    if read_timeout >= interval || !e.scenario.server.watch_cache {
        return None;
    }
    let timed_out: Vec<Duration> = e
        .errors
        .iter()
        .filter(|(_, f)| f.variant == "WatchFailed" && f.message.contains("timed out"))
        .map(|(at, _)| *at)
        .collect();
    let (first, last) = (*timed_out.first()?, *timed_out.last()?);
    let mut chain = vec![link(
        first,
        format!(
            "kube's read timeout ({}) is shorter than the server's bookmark interval ({}), so a quiet watch reads nothing for longer than it",
            fmt(read_timeout),
            fmt(interval)
        ),
    )];
    match e.faults.first() {
        Some((at, kind)) if first < *at => chain.push(link(
            first,
            format!(
                "no fault is needed for this: the first watch timed out at {}, before the first fault ({kind} at {})",
                fmt(first),
                fmt(*at)
            ),
        )),
        _ => {}
    }
    chain.push(link(
        last,
        format!(
            "{} watches timed out so, from {} to {}: the watcher reconnects for as long as it runs",
            timed_out.len(),
            fmt(first),
            fmt(last)
        ),
    ));
    found(Mechanism::ReadTimeoutBelowBookmarks, chain)
}

fn unknown(e: &Evidence) -> Explanation {
    let mut chain = Vec::new();
    if let Some(check) = e.first_failure() {
        chain.push(link(
            Duration::ZERO,
            format!(
                "no known mechanism fits this run; the first failing check, {:?}: {}",
                check.name, check.detail
            ),
        ));
    }
    if let Some(pattern) = e.pattern() {
        chain.push(link(pattern.first, pattern.describe()));
    }
    Explanation {
        mechanism: Mechanism::Unknown,
        chain,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::scenario::Scenario;
    use crate::trace::{RequestRecord, SentEvent, Trace, TraceEvent};
    use crate::verdict::Check;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn scenario(watchers: &str) -> Scenario {
        Scenario::from_yaml(&format!(
            "duration: 10m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{{ name: a }}] }}
watchers: {watchers}
expect: {{ deadline: 1m, recover: [w] }}
"
        ))
        .expect("the test scenario is valid")
    }

    fn at(secs: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent { at: S(secs), kind }
    }

    fn request(secs: u64, id: u64, verb: Verb, query: &str, status: u16) -> TraceEvent {
        at(
            secs,
            TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: query.into(),
                status,
                verb,
                agent: String::new(),
                process: None,
            }),
        )
    }

    fn opened(secs: u64, id: u64, from: Option<u64>, floor: u64, revision: u64) -> TraceEvent {
        at(
            secs,
            TraceKind::WatchOpened {
                request: id,
                from,
                floor,
                revision,
            },
        )
    }

    fn sent(
        secs: u64,
        id: u64,
        type_: EventType,
        rv: Option<u64>,
        damaged: Option<Damage>,
    ) -> TraceEvent {
        at(
            secs,
            TraceKind::Sent {
                request: id,
                event: SentEvent {
                    type_,
                    key: (!matches!(type_, EventType::Bookmark | EventType::Error))
                        .then(|| "default/a".to_owned()),
                    resource_version: rv,
                    damaged,
                },
            },
        )
    }

    fn error(secs: u64, variant: &str, code: Option<u16>, message: &str) -> TraceEvent {
        at(
            secs,
            TraceKind::WatcherError(WatcherFault {
                variant: variant.into(),
                code,
                reason: None,
                status_message: None,
                message: message.into(),
            }),
        )
    }

    fn fault(secs: u64, kind: &str) -> TraceEvent {
        at(secs, TraceKind::Fault { fault: kind.into() })
    }

    fn client(read_timeout: Option<u64>) -> TraceEvent {
        at(
            0,
            TraceKind::Client {
                read_timeout: read_timeout.map(S),
                retry: true,
            },
        )
    }

    fn failed(name: CheckName) -> Check {
        Check {
            name,
            passed: false,
            detail: format!("{name:?} failed"),
        }
    }

    /// Runs `rule` on `trace` for the first set-up of `watchers`, with `checks`.
    fn apply(
        rule: fn(&Evidence) -> Option<Explanation>,
        watchers: &str,
        trace: &Trace,
        checks: &[Check],
    ) -> Option<Mechanism> {
        let scenario = scenario(watchers);
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], trace, checks);
        rule(&evidence).map(|f| {
            assert!(!f.chain.is_empty(), "a finding tells its chain");
            f.mechanism
        })
    }

    const PLAIN: &str = "[{ name: w }]";

    #[test]
    fn a_consumer_that_stopped_on_a_recoverable_error_is_found_and_one_that_read_on_is_not() {
        let mut trace = vec![
            fault(60, "expire_watches"),
            request(60, 3, Verb::Watch, "watch=1&resourceVersion=5", 200),
            error(60, "WatchError", Some(410), "too old"),
        ];
        assert_eq!(
            apply(stopped_on_recoverable_error, PLAIN, &trace, &[]),
            None
        );
        trace.push(at(
            60,
            TraceKind::StreamEnded {
                cause: "the consumer returned the watcher's error (too old)".into(),
            },
        ));
        assert_eq!(
            apply(stopped_on_recoverable_error, PLAIN, &trace, &[]),
            Some(Mechanism::StoppedOnRecoverableError)
        );
    }

    #[test]
    fn a_request_never_answered_is_found_only_without_a_read_timeout() {
        let trace = |timeout| {
            vec![
                client(timeout),
                fault(60, "hang_headers"),
                request(60, 3, Verb::Watch, "watch=1", 0),
            ]
        };
        assert_eq!(
            apply(never_answered, PLAIN, &trace(None), &[]),
            Some(Mechanism::NeverAnswered)
        );
        assert_eq!(apply(never_answered, PLAIN, &trace(Some(30)), &[]), None);
    }

    #[test]
    fn a_half_open_watch_is_found_only_with_the_idle_timeout_off() {
        let trace = vec![
            client(None),
            request(0, 2, Verb::Watch, "watch=1&timeoutSeconds=0", 200),
            fault(60, "stall_stream"),
        ];
        let idle_off = "[{ name: w, config: { timeout: 0s } }]";
        assert_eq!(
            apply(half_open_watch, idle_off, &trace, &[]),
            Some(Mechanism::HalfOpenWatch)
        );
        assert_eq!(apply(half_open_watch, PLAIN, &trace, &[]), None);
    }

    #[test]
    fn a_store_never_ready_is_found_when_init_done_never_comes() {
        let q = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
        let mut trace = vec![
            fault(0, "drop_initial_events_end"),
            opened(0, 1, None, 1, 1),
            request(0, 1, Verb::Watch, q, 200),
            sent(0, 1, EventType::Added, Some(1), None),
            at(0, TraceKind::Init),
            at(
                0,
                TraceKind::InitApply {
                    key: "default/a".into(),
                    resource_version: 1,
                },
            ),
        ];
        assert_eq!(
            apply(store_never_ready, PLAIN, &trace, &[]),
            Some(Mechanism::StoreNeverReady)
        );
        trace.push(sent(0, 1, EventType::InitialEventsEnd, Some(1), None));
        trace.push(at(0, TraceKind::InitDone));
        assert_eq!(apply(store_never_ready, PLAIN, &trace, &[]), None);
    }

    #[test]
    fn an_event_sent_damaged_and_not_emitted_then_is_found_and_one_emitted_at_once_is_not() {
        let trace = vec![
            opened(0, 2, Some(1), 1, 1),
            fault(60, "malformed_event"),
            sent(
                130,
                2,
                EventType::Modified,
                Some(7),
                Some(Damage::Truncated),
            ),
        ];
        assert_eq!(
            apply(event_dropped, PLAIN, &trace, &[]),
            Some(Mechanism::EventDropped)
        );
        let emitted = |secs| {
            let mut trace = trace.clone();
            trace.push(at(
                secs,
                TraceKind::Apply {
                    key: "default/a".into(),
                    resource_version: 7,
                },
            ));
            trace
        };
        assert_eq!(
            apply(event_dropped, PLAIN, &emitted(400), &[]),
            Some(Mechanism::EventDropped),
            "a later version that caught the view up does not undo the drop"
        );
        assert_eq!(apply(event_dropped, PLAIN, &emitted(130), &[]), None);
    }

    #[test]
    fn a_resume_from_the_future_is_found_and_one_from_the_past_is_not() {
        let trace = |from| vec![fault(300, "restart"), opened(300, 4, Some(from), 2, 2)];
        assert_eq!(
            apply(resumed_from_future, PLAIN, &trace(577), &[]),
            Some(Mechanism::ResumedFromFuture)
        );
        assert_eq!(apply(resumed_from_future, PLAIN, &trace(2), &[]), None);
    }

    #[test]
    fn a_resume_from_an_empty_bookmark_is_found_and_one_from_a_number_is_not() {
        let trace = |rv: &str| {
            vec![
                opened(0, 2, Some(1), 1, 1),
                fault(30, "empty_bookmarks"),
                sent(60, 2, EventType::Bookmark, None, None),
                request(
                    120,
                    3,
                    Verb::Watch,
                    &format!("watch=1&resourceVersion={rv}"),
                    200,
                ),
            ]
        };
        assert_eq!(
            apply(resumed_from_empty, PLAIN, &trace(""), &[]),
            Some(Mechanism::ResumedFromEmpty)
        );
        assert_eq!(apply(resumed_from_empty, PLAIN, &trace("7"), &[]), None);
    }

    #[test]
    fn an_in_stream_410_without_code_is_found_and_one_with_it_is_not() {
        let trace = |code| {
            vec![
                fault(0, "watch_410"),
                opened(60, 3, Some(5), 1, 9),
                at(
                    60,
                    TraceKind::WatchEnded {
                        request: 3,
                        reason: WatchEnd::Error {
                            code,
                            reason: "Expired".into(),
                            message: "too old".into(),
                        },
                        events: 1,
                    },
                ),
            ]
        };
        assert_eq!(
            apply(gone_without_code, PLAIN, &trace(0), &[]),
            Some(Mechanism::GoneWithoutCode)
        );
        assert_eq!(apply(gone_without_code, PLAIN, &trace(410), &[]), None);
    }

    /// `n` watch requests at 60 s that each ended as `end`, then a storm.
    fn storm_of(n: u64, end: WatchEnd, status: u16) -> Trace {
        let mut trace = vec![fault(60, "empty_watch")];
        for id in 0..n {
            trace.push(request(
                60,
                id,
                Verb::Watch,
                "watch=1&resourceVersion=2",
                status,
            ));
            trace.push(at(
                60,
                TraceKind::WatchEnded {
                    request: id,
                    reason: end.clone(),
                    events: 0,
                },
            ));
        }
        trace.push(at(
            60,
            TraceKind::Storm {
                requests: n,
                burst: None,
            },
        ));
        trace
    }

    #[test]
    fn a_hot_loop_on_clean_ends_is_found_and_a_loop_on_errors_is_not() {
        assert_eq!(
            apply(
                hot_loop_on_clean_ends,
                PLAIN,
                &storm_of(5, WatchEnd::Empty, 200),
                &[]
            ),
            Some(Mechanism::HotLoopOnCleanEnds)
        );
        assert_eq!(
            apply(
                hot_loop_on_clean_ends,
                PLAIN,
                &storm_of(5, WatchEnd::ClientGone, 503),
                &[]
            ),
            None
        );
    }

    #[test]
    fn a_hot_loop_without_backoff_is_found_only_without_a_backoff() {
        let trace = storm_of(5, WatchEnd::ClientGone, 503);
        let none = "[{ name: w, backoff: none }]";
        assert_eq!(
            apply(hot_loop_without_backoff, none, &trace, &[]),
            Some(Mechanism::HotLoopWithoutBackoff)
        );
        assert_eq!(apply(hot_loop_without_backoff, PLAIN, &trace, &[]), None);
    }

    #[test]
    fn relists_a_first_backoff_step_apart_are_found_and_spaced_relists_are_not() {
        let relists = |gap_ms: u64| -> Trace {
            let mut trace = vec![fault(60, "expire_continue")];
            for i in 0..8u64 {
                trace.push(TraceEvent {
                    at: S(120) + Duration::from_millis(i * gap_ms),
                    kind: TraceKind::Request(RequestRecord {
                        id: i,
                        method: "GET".into(),
                        path: "/api/v1/configmaps".into(),
                        query: "limit=1".into(),
                        status: 200,
                        verb: Verb::List,
                        agent: String::new(),
                        process: None,
                    }),
                });
            }
            trace
        };
        let checks = [failed(CheckName::Relists)];
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &relists(1_074), &checks),
            Some(Mechanism::BackoffResetByInit)
        );
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &relists(30_000), &checks),
            None
        );
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &relists(1_074), &[]),
            None,
            "only when the relists were too many"
        );
    }

    #[test]
    fn a_stale_resume_point_is_found_and_a_fresh_one_is_not() {
        let trace = |from| {
            vec![
                fault(120, "drop_bookmarks"),
                opened(290, 3, Some(from), 300, 900),
            ]
        };
        let checks = [failed(CheckName::Relists)];
        assert_eq!(
            apply(stale_resume_point, PLAIN, &trace(10), &checks),
            Some(Mechanism::StaleResumePoint)
        );
        assert_eq!(apply(stale_resume_point, PLAIN, &trace(800), &checks), None);
    }

    #[test]
    fn a_watch_resumed_from_behind_what_was_emitted_is_a_replay_and_one_from_ahead_is_not() {
        let trace = |from| {
            vec![
                fault(120, "stale_bookmarks"),
                at(
                    130,
                    TraceKind::Apply {
                        key: "default/a".into(),
                        resource_version: 500,
                    },
                ),
                opened(290, 3, Some(from), 100, 900),
            ]
        };
        let checks = [failed(CheckName::Monotonic)];
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(360), &checks),
            Some(Mechanism::StaleResumePoint)
        );
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(500), &checks),
            None
        );
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(360), &[]),
            None,
            "only when the watcher went back"
        );
    }

    #[test]
    fn a_read_timeout_below_the_bookmark_interval_is_found_and_one_above_it_is_not() {
        let trace = |timeout| {
            vec![
                client(Some(timeout)),
                error(
                    30,
                    "WatchFailed",
                    None,
                    "error reading a body from connection: timed out",
                ),
            ]
        };
        assert_eq!(
            apply(read_timeout_below_bookmarks, PLAIN, &trace(30), &[]),
            Some(Mechanism::ReadTimeoutBelowBookmarks)
        );
        assert_eq!(
            apply(read_timeout_below_bookmarks, PLAIN, &trace(90), &[]),
            None
        );
    }

    #[test]
    fn a_hung_run_and_a_panicked_consumer_are_found_and_a_plain_end_is_neither() {
        let ended = |cause: &str| {
            vec![at(
                60,
                TraceKind::StreamEnded {
                    cause: cause.into(),
                },
            )]
        };
        assert_eq!(
            apply(hung, PLAIN, &ended("hung: the consumer did not stop"), &[]),
            Some(Mechanism::Hung)
        );
        assert_eq!(
            apply(
                consumer_panicked,
                PLAIN,
                &ended("the consumer panicked"),
                &[]
            ),
            Some(Mechanism::ConsumerPanicked)
        );
        let plain = ended("the watcher stream returned None");
        assert_eq!(apply(hung, PLAIN, &plain, &[]), None);
        assert_eq!(apply(consumer_panicked, PLAIN, &plain, &[]), None);
    }

    #[test]
    fn when_no_rule_fits_the_diagnosis_says_so() {
        let scenario = scenario(PLAIN);
        let checks = [failed(CheckName::Converged)];
        let trace: Trace = Vec::new();
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &trace, &checks);
        let finding = diagnose(&evidence);
        assert_eq!(finding.mechanism, Mechanism::Unknown);
        assert!(finding.chain[0].text.starts_with("no known mechanism fits"));
        let _ = BTreeMap::<u8, u8>::new();
    }
}
