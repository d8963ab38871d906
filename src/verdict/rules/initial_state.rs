//! Rules for a relist's streaming list that lost its end marker after the store had been
//! ready: the watcher stays in its initial state until the server ends that watch.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{EventType, FaultKind, TraceKind};
use crate::verdict::evidence::Evidence;

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
        .filter(|(_, r)| r.streams_initial_events())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Trace, Verb, WatchEnd};
    use crate::verdict::fixtures::*;

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
}
