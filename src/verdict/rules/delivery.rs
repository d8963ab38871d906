//! Rules for what the server sent short or damaged: a streaming list without its
//! `initial-events-end` bookmark, an event line kube could not read, an in-stream 410 whose
//! Status carried no code.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, caused, describe, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{Damage, EventType, FaultKind, RequestRecord, TraceKind, Verb, WatchEnd};
use crate::verdict::delivery_lag::DELIVERY_LAG;
use crate::verdict::evidence::{Evidence, ServedWatch};
use crate::verdict::request_log::lists;
use crate::verdict::scorecard::Link;
use crate::verdict::watcher_history::{Skip, first_skip};

/// Every one of `streaming`, the streaming lists since the initial state began at `since`,
/// turned away with an ERROR that is not a 410, before any event: the story of that, and of
/// kube trying again.
fn turned_away(
    e: &Evidence,
    streaming: &[&(Duration, &RequestRecord)],
    since: Duration,
    applied: usize,
) -> Option<[Link; 2]> {
    let all_turned_away = streaming
        .iter()
        .all(|(_, r)| e.only_an_error(r) && e.watch_ends.get(&r.id).is_some_and(|end| !end.gone()));
    let (first, request) = streaming.first().filter(|_| all_turned_away)?;
    let answer = e.answer(request);
    let words = match e.watch_ends.get(&request.id) {
        Some(WatchEnd::Error { message, .. }) => format!(" \"{message}\""),
        _ => String::new(),
    };
    Some([
        link(
            *first,
            format!(
                "each of the {} streaming lists from {} (sendInitialEvents=true) was answered HTTP 200, one {answer}{words} and the end, before any event{}",
                streaming.len(),
                fmt(*first),
                caused(e, *first, request, &answer)
            ),
        ),
        link(
            since,
            format!(
                "kube's watcher tries the streaming list again after any error and never falls back to a LIST (client-go's reflector does, \"because making progress is better than deadlocking\"), so from {} it emitted Init and {applied} InitApply, and never InitDone",
                fmt(since)
            ),
        ),
    ])
}

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
    let streaming: Vec<&(Duration, &RequestRecord)> = e
        .requests
        .iter()
        .filter(|(t, r)| {
            *t >= since.saturating_sub(Duration::from_secs(1)) && r.streams_initial_events()
        })
        .collect();
    let without_marker: Vec<(u64, &ServedWatch<'_>)> = streaming
        .iter()
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
    if let Some(links) = turned_away(e, &streaming, since, applied) {
        chain.extend(links);
    } else if let Some((id, watch)) = without_marker.first() {
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
            // Caught up at once, the view never showed the loss; the change is lost all the
            // same when a later resume jumps past it (the resumable check's first skip).
            let masked = caught_up.is_some_and(|t| t - *at <= DELIVERY_LAG);
            let skipped = if masked {
                if !e.failed(CheckName::Resumable) {
                    continue;
                }
                match first_skip(e.trace, &e.setup.config.selector, e.setup.shape) {
                    Err(skip) if skip.key == *key && skip.rv == rv => Some(skip),
                    _ => continue,
                }
            } else {
                None
            };
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
            let then = after_the_drop(e, (key, rv, *at), caught_up, skipped.as_ref());
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

/// What became of a dropped change of `key` at `rv`, sent at `at`: when the view caught up (if
/// it did), and whether a later resume jumped past it.
fn after_the_drop(
    e: &Evidence,
    (key, rv, at): (&str, u64, Duration),
    caught_up: Option<Duration>,
    skipped: Option<&Skip>,
) -> String {
    let relisted = e.requests.iter().any(|(t, r)| *t > at && lists(r));
    match (caught_up, skipped) {
        (Some(_), Some(skip)) => format!(
            "a newer version of {key} came in the same instant, so the view never showed the loss, but kube's resourceVersion moved past {rv} with it; watch #{} resumed from {} at {} with no relist in between, so the change at {rv} never came out as an event",
            e.requests
                .iter()
                .find(|(t, r)| *t == skip.at && r.verb == Verb::Watch)
                .map_or(0, |(_, r)| r.id),
            skip.to,
            fmt(skip.at)
        ),
        (Some(t), _) => format!(
            "the view kept the version before it until {}, when a newer one came{}",
            fmt(t),
            if e.requests
                .iter()
                .any(|(r_at, r)| *r_at > at && *r_at <= t && lists(r))
            {
                " with a relist"
            } else {
                ""
            }
        ),
        (None, _) if relisted => "a later relist did not bring it back before the end".to_owned(),
        (None, _) => {
            "nothing relisted afterwards, so the view kept the version before it".to_owned()
        }
    }
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
            // A 410 that lost its code on the way: its reason says it all the same.
            e.watch_ends
                .get(id)
                .is_some_and(|end| end.gone() && matches!(end, WatchEnd::Error { code: 0, .. }))
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
    use crate::verdict::fixtures::*;

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
    fn streaming_lists_each_turned_away_by_an_in_stream_error_are_told_as_such_and_a_410_is_not() {
        let q = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
        let turned_away = |code: u16, reason: &str| {
            let mut trace = vec![fault(0, "watch_error")];
            for id in 1..=3 {
                trace.push(request(id, id, Verb::Watch, q, 200));
                trace.push(hit(id, id, "watch_error"));
                trace.push(ended(
                    id,
                    id,
                    WatchEnd::Error {
                        code,
                        reason: reason.into(),
                        message: "a watch stream was requested by the client but the required storage feature RequestWatchProgress is disabled".into(),
                    },
                ));
                trace.push(at(id, TraceKind::Init));
            }
            trace
        };
        let found = explain(
            store_never_ready,
            PLAIN,
            &turned_away(500, "InternalError"),
            &[],
        )
        .expect("it fits");
        assert_eq!(found.mechanism, Mechanism::StoreNeverReady);
        assert_eq!(
            found.chain[0].text,
            "each of the 3 streaming lists from 1s (sendInitialEvents=true) was answered HTTP 200, one ERROR 500 InternalError \"a watch stream was requested by the client but the required storage feature RequestWatchProgress is disabled\" and the end, before any event (watch_error at 0s)"
        );
        assert!(
            found.chain[1]
                .text
                .starts_with("kube's watcher tries the streaming list again after any error")
        );
        let gone = explain(store_never_ready, PLAIN, &turned_away(410, "Expired"), &[])
            .expect("the store was never ready all the same");
        assert!(
            gone.chain[0]
                .text
                .starts_with("the watcher emitted Init at 1s"),
            "a 410 asks for a relist, which is what a streaming list is: {}",
            gone.chain[0].text
        );
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

    /// A line of default/a at 7 sent truncated in a watch's replay, with 8 applied in the same
    /// instant; then, if `resumed`, a watch resuming from 8.
    fn a_drop_masked_by_the_next_version(resumed: bool) -> Trace {
        let mut trace = vec![
            request(0, 1, Verb::Watch, "watch=true&resourceVersion=5", 200),
            opened(0, 1, Some(5), 1, 5),
            fault(5, "malformed_event"),
            written(10, "default/a", 7),
            written(11, "default/a", 8),
            request(60, 2, Verb::Watch, "watch=true&resourceVersion=5", 200),
            opened(60, 2, Some(5), 1, 8),
            sent(60, 2, EventType::Modified, Some(7), Some(Damage::Truncated)),
            sent(60, 2, EventType::Modified, Some(8), None),
            applied(60, "default/a", 8),
        ];
        if resumed {
            trace.push(request(
                300,
                3,
                Verb::Watch,
                "watch=true&resourceVersion=8",
                200,
            ));
        }
        trace
    }

    #[test]
    fn a_drop_the_next_version_masked_is_event_dropped_once_a_resume_jumps_past_it() {
        let skipped = [failed(CheckName::Resumable)];
        assert_eq!(
            apply(
                event_dropped,
                PLAIN,
                &a_drop_masked_by_the_next_version(true),
                &skipped
            ),
            Some(Mechanism::EventDropped)
        );
    }

    #[test]
    fn a_masked_drop_no_resume_jumps_past_or_behind_another_skip_is_not_event_dropped() {
        let skipped = [failed(CheckName::Resumable)];
        assert_eq!(
            apply(
                event_dropped,
                PLAIN,
                &a_drop_masked_by_the_next_version(false),
                &skipped
            ),
            None
        );
        let mut another = a_drop_masked_by_the_next_version(true);
        another.insert(3, written(8, "default/b", 6));
        assert_eq!(apply(event_dropped, PLAIN, &another, &skipped), None);
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
