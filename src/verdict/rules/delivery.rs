//! Rules for what the server sent short or damaged: a streaming list without its
//! `initial-events-end` bookmark, an event line kube could not read, an in-stream 410 whose
//! Status carried no code.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, caused, describe, found, link};
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{Damage, EventType, FaultKind, TraceKind, WatchEnd};
use crate::verdict::delivery_lag::DELIVERY_LAG;
use crate::verdict::evidence::{Evidence, ServedWatch};
use crate::verdict::request_log::lists;
use crate::verdict::scorecard::CheckName;

pub(super) fn store_never_ready(e: &Evidence) -> Option<Explanation> {
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
                e.fault(FaultKind::DropInitialEventsEnd)
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

/// A streaming list that lost its end marker after the store had been ready: the watcher
/// stayed in its initial state, every change held back, until the server ended that watch.
pub(super) fn init_done_late(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Deadline) {
        return None;
    }
    let init_done: Vec<Duration> = e
        .trace
        .iter()
        .filter(|event| matches!(event.kind, TraceKind::InitDone))
        .map(|event| event.at)
        .collect();
    let ended_at = |request: u64| {
        e.trace.iter().find_map(|event| match &event.kind {
            TraceKind::WatchEnded { request: r, .. } if *r == request => Some(event.at),
            _ => None,
        })
    };
    let deadline = e.scenario.expect.deadline;
    let (id, watch, ended, done) = e
        .requests
        .iter()
        .filter(|(_, r)| r.query.contains("sendInitialEvents=true"))
        .filter_map(|(_, r)| Some((r.id, e.watches.get(&r.id)?)))
        .filter(|(_, w)| {
            w.sent
                .iter()
                .all(|(_, s)| s.type_ != EventType::InitialEventsEnd)
        })
        .find_map(|(id, w)| {
            let ended = ended_at(id)?;
            // Ready before it, and not again until it ended: the watch held the state back.
            let ready_before = init_done.iter().any(|t| *t < w.at);
            let done = *init_done.iter().find(|t| **t >= w.at)?;
            (ready_before && done >= ended && ended - w.at > deadline)
                .then_some((id, w, ended, done))
        })?;
    let added = watch
        .sent
        .iter()
        .filter(|(_, s)| s.type_ == EventType::Added)
        .count();
    let lost = e
        .hits
        .get(&id)
        .is_some_and(|kinds| kinds.contains(&FaultKind::DropInitialEventsEnd))
        .then(|| e.fault(FaultKind::DropInitialEventsEnd))
        .flatten()
        .map(|f| format!(" ({f})"))
        .unwrap_or_else(|| after_fault(e, watch.at));
    found(
        Mechanism::InitDoneLate,
        vec![
            link(
                watch.at,
                format!(
                    "the streaming list at {} (watch #{id}, sendInitialEvents=true) sent {added} ADDED events and never the `k8s.io/initial-events-end` bookmark{lost}",
                    fmt(watch.at),
                ),
            ),
            link(
                watch.at,
                "kube's watcher leaves its initial state only on that bookmark, so every change it read meanwhile went into the initial state, and the reflector's store kept what it had before the relist",
            ),
            link(
                ended,
                format!(
                    "the server ended the watch at {} (its timeout), {} after it opened, and the next list brought InitDone at {}: past the deadline ({})",
                    fmt(ended),
                    fmt(ended - watch.at),
                    fmt(done),
                    fmt(deadline)
                ),
            ),
        ],
    )
}

pub(super) fn event_dropped(e: &Evidence) -> Option<Explanation> {
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
            if caught_up.is_some_and(|t| t - *at <= DELIVERY_LAG) {
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
            let relisted = e.requests.iter().any(|(t, r)| t > at && lists(r));
            let then = match caught_up {
                Some(t) => format!(
                    "the view kept the version before it until {}, when a newer one came{}",
                    fmt(t),
                    if e.requests
                        .iter()
                        .any(|(r_at, r)| r_at > at && *r_at <= t && lists(r))
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

pub(super) fn gone_without_code(e: &Evidence) -> Option<Explanation> {
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
    let cause = match e.requests.iter().find(|(_, r)| r.id == *id) {
        Some((_, request)) => caused(e, first.at, request, &e.answer(request)),
        None => after_fault(e, first.at),
    };
    found(
        Mechanism::GoneWithoutCode,
        vec![
            link(
                first.at,
                format!(
                    "watch #{id} at {} ended with ERROR Expired whose Status carried no `code`{cause}",
                    fmt(first.at),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Damage, EventType, Trace, TraceKind, Verb, WatchEnd};
    use crate::verdict::rules::fixtures::*;

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

    /// A streaming list that completes at 0s, then one at 201s that never gets its end marker
    /// and is ended by the server at `ends`, then one that completes.
    fn a_relist_that_lost_its_end_marker(ends: u64) -> Trace {
        let q = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
        let ended = |secs, request| {
            at(
                secs,
                TraceKind::WatchEnded {
                    request,
                    reason: WatchEnd::Timeout,
                    events: 1,
                },
            )
        };
        vec![
            request(0, 1, Verb::Watch, q, 200),
            opened(0, 1, None, 1, 1),
            sent(0, 1, EventType::Added, Some(1), None),
            sent(0, 1, EventType::InitialEventsEnd, Some(1), None),
            at(0, TraceKind::Init),
            at(0, TraceKind::InitDone),
            fault(200, "drop_initial_events_end"),
            ended(200, 1),
            request(201, 2, Verb::Watch, q, 200),
            hit(201, 2, "drop_initial_events_end"),
            opened(201, 2, None, 1, 5),
            sent(201, 2, EventType::Added, Some(5), None),
            at(201, TraceKind::Init),
            ended(ends, 2),
            request(ends, 3, Verb::Watch, q, 200),
            opened(ends, 3, None, 1, 9),
            sent(ends, 3, EventType::Added, Some(9), None),
            sent(ends, 3, EventType::InitialEventsEnd, Some(9), None),
            at(ends, TraceKind::Init),
            at(ends, TraceKind::InitDone),
        ]
    }

    #[test]
    fn a_relist_held_in_its_initial_state_past_the_deadline_is_init_done_late() {
        let late = [failed(CheckName::Deadline)];
        assert_eq!(
            apply(
                init_done_late,
                PLAIN,
                &a_relist_that_lost_its_end_marker(491),
                &late
            ),
            Some(Mechanism::InitDoneLate)
        );
        let chain = explain(
            init_done_late,
            PLAIN,
            &a_relist_that_lost_its_end_marker(491),
            &late,
        )
        .expect("it fits")
        .chain;
        assert!(
            chain[0]
                .text
                .ends_with("(drop_initial_events_end at 3m20s)"),
            "{}",
            chain[0].text
        );
    }

    #[test]
    fn a_relist_the_server_ended_within_the_deadline_is_not_init_done_late() {
        let late = [failed(CheckName::Deadline)];
        assert_eq!(
            apply(
                init_done_late,
                PLAIN,
                &a_relist_that_lost_its_end_marker(251),
                &late
            ),
            None
        );
    }

    #[test]
    fn the_chain_names_the_fault_the_server_said_answered_not_the_last_one_to_play() {
        let mut trace = vec![
            fault(0, "watch_410"),
            request(60, 3, Verb::Watch, "watch=1&resourceVersion=5", 200),
            opened(60, 3, Some(5), 1, 9),
            fault(60, "restart"),
            at(
                60,
                TraceKind::WatchEnded {
                    request: 3,
                    reason: WatchEnd::Error {
                        code: 0,
                        reason: "Expired".into(),
                        message: "too old".into(),
                    },
                    events: 1,
                },
            ),
        ];
        let first_link = |trace: &Trace| {
            explain(gone_without_code, PLAIN, trace, &[])
                .expect("it fits")
                .chain[0]
                .text
                .clone()
        };
        assert!(
            first_link(&trace).ends_with("(restart at 1m)"),
            "unsaid, the last fault to play is blamed: {}",
            first_link(&trace)
        );
        trace.insert(2, hit(60, 3, "watch_410"));
        assert!(
            first_link(&trace).ends_with("(watch_410 at 0s)"),
            "{}",
            first_link(&trace)
        );
    }
}
