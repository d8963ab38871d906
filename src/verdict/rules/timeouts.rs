//! Rules for a client's timeouts: a request never answered or a watch gone half-open with no
//! read timeout to give up on it, and a read timeout shorter than the bookmark interval.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{FaultKind, TraceKind, Verb, WatchEnd, WatcherErrorVariant};
use crate::verdict::evidence::{Evidence, verb};

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

pub(super) fn never_answered(e: &Evidence) -> Option<Explanation> {
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

pub(super) fn half_open_watch(e: &Evidence) -> Option<Explanation> {
    stalled_to_the_end(e).or_else(|| stalled_past_the_deadline(e))
}

/// A watch stalled, and the client gave up on it only at its own timeout, past the deadline.
fn stalled_past_the_deadline(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Deadline) {
        return None;
    }
    // The first stalled watch the client waited on for longer than the deadline: one that
    // ended sooner (a restart cut it) is not the one that held the view back.
    let (ended, opened, (fault, stalled), waited) = e
        .trace
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::WatchEnded {
                request,
                reason: WatchEnd::Stalled,
                ..
            } => Some((event.at, *request)),
            _ => None,
        })
        .find_map(|(ended, request)| {
            let (opened, _) = e.requests.iter().find(|(_, r)| r.id == request)?;
            let fault = e
                .faults
                .iter()
                .rev()
                .find(|(t, kind)| *kind == FaultKind::StallStream && *t <= ended)?
                .0;
            let stalled = fault.max(*opened);
            let waited = ended - stalled;
            (waited > e.scenario.expect.deadline).then_some((
                ended,
                opened,
                (fault, stalled),
                waited,
            ))
        })?;
    found(
        Mechanism::HalfOpenWatch,
        vec![
            link(
                stalled,
                format!(
                    "the watch opened at {} went half-open at {} (stall_stream at {}): the connection stayed and nothing more arrived",
                    fmt(*opened),
                    fmt(stalled),
                    fmt(fault)
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
    // Stalled after it opened, or (the server says) as it opened, inside a stall's window.
    let opened_stalled = e
        .hits
        .get(&last.id)
        .is_some_and(|kinds| kinds.contains(&FaultKind::StallStream));
    let stalled = e
        .faults
        .iter()
        .rev()
        .find(|(t, kind)| *kind == FaultKind::StallStream && (t >= at || opened_stalled))?
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
                if stalled < *at {
                    format!(
                        "the watch opened at {} inside a stall's window (stall_stream at {}), so it was half-open from the start: the connection stayed and nothing arrived",
                        fmt(*at),
                        fmt(stalled)
                    )
                } else {
                    format!(
                        "the watch opened at {} went half-open (stall_stream at {}): the connection stayed and nothing more arrived",
                        fmt(*at),
                        fmt(stalled)
                    )
                },
            ),
            link(
                stalled.max(*at),
                format!(
                    "nothing gave up on it: the set-up's `timeout: 0` turns off kube's idle timeout (timeout + 5 s), and {why}"
                ),
            ),
        ],
    )
}

/// A write made while no watch was open, after a read timeout ended the last one and before
/// the next opened: the watcher was blind to it while it backed off.
fn written_between_watches(e: &Evidence, timed_out: &[Duration]) -> Option<Duration> {
    let opened: Vec<Duration> = e.watches.values().map(|w| w.at).collect();
    e.trace.iter().find_map(|event| {
        let TraceKind::Write { .. } = event.kind else {
            return None;
        };
        let ended = timed_out.iter().rev().find(|t| **t <= event.at)?;
        let reopened = opened.iter().any(|t| ended < t && *t <= event.at);
        (!reopened).then_some(event.at)
    })
}

pub(super) fn read_timeout_below_bookmarks(e: &Evidence) -> Option<Explanation> {
    let read_timeout = e.read_timeout?;
    let interval = e.scenario.server.bookmark_interval;
    // Without a watch cache the server sends no bookmarks at all: any read timeout is below.
    let cached = e.scenario.server.watch_cache;
    if cached && read_timeout >= interval {
        return None;
    }
    let timed_out: Vec<Duration> = e
        .errors
        .iter()
        .filter(|(_, f)| f.variant == WatcherErrorVariant::WatchFailed && f.timed_out)
        .map(|(at, _)| *at)
        .collect();
    let (first, last) = (*timed_out.first()?, *timed_out.last()?);
    let why = if cached {
        format!(
            "kube's read timeout ({}) is shorter than the server's bookmark interval ({}), so a quiet watch reads nothing for longer than it",
            fmt(read_timeout),
            fmt(interval)
        )
    } else {
        // Then the claim needs its cost shown: a write that came while the watcher, between
        // watches after a read timeout, had none open.
        written_between_watches(e, &timed_out)?;
        format!(
            "the server sends no bookmarks without a watch cache (`watch_cache: false`), so a quiet watch reads nothing between writes, and kube's read timeout ({}) ends it",
            fmt(read_timeout)
        )
    };
    let mut chain = vec![link(first, why)];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Verb;
    use crate::verdict::fixtures::*;

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
    fn a_watch_opened_inside_a_stall_s_window_is_half_open_when_the_server_says_it_hit_it() {
        let mut trace = vec![
            client(None),
            fault(457, "stall_stream"),
            request(495, 3, Verb::Watch, "watch=1&timeoutSeconds=0", 200),
        ];
        let idle_off = "[{ name: w, config: { timeout: 0s } }]";
        assert_eq!(
            apply(half_open_watch, idle_off, &trace, &[]),
            None,
            "a stall that began before the watch is no evidence by itself"
        );
        trace.push(hit(495, 3, "stall_stream"));
        assert_eq!(
            apply(half_open_watch, idle_off, &trace, &[]),
            Some(Mechanism::HalfOpenWatch)
        );
    }

    #[test]
    fn a_stall_waited_on_past_the_deadline_is_found_even_after_a_shorter_one() {
        let stalled = |secs, request| {
            at(
                secs,
                TraceKind::WatchEnded {
                    request,
                    reason: WatchEnd::Stalled,
                    events: 0,
                },
            )
        };
        let trace = |second_ends| {
            vec![
                request(0, 2, Verb::Watch, "watch=1", 200),
                fault(457, "stall_stream"),
                fault(494, "restart"),
                stalled(494, 2),
                request(495, 4, Verb::Watch, "watch=1", 200),
                hit(495, 4, "stall_stream"),
                stalled(second_ends, 4),
            ]
        };
        let late = [failed(CheckName::Deadline)];
        // The scenario's deadline is 1m: the first stall ended after 37 s.
        assert_eq!(
            apply(half_open_watch, PLAIN, &trace(790), &late),
            Some(Mechanism::HalfOpenWatch)
        );
        assert_eq!(apply(half_open_watch, PLAIN, &trace(520), &late), None);
    }

    #[test]
    fn a_read_timeout_below_the_bookmark_interval_is_found_and_one_above_it_is_not() {
        let trace = |timeout| vec![client(Some(timeout)), read_timed_out(30)];
        assert_eq!(
            apply(read_timeout_below_bookmarks, PLAIN, &trace(30), &[]),
            Some(Mechanism::ReadTimeoutBelowBookmarks)
        );
        assert_eq!(
            apply(read_timeout_below_bookmarks, PLAIN, &trace(90), &[]),
            None
        );
        // What kube's message says is not evidence: only the error's kind is.
        let worded = error(
            30,
            WatcherErrorVariant::WatchFailed,
            None,
            "error reading a body from connection: timed out",
        );
        assert_eq!(
            apply(
                read_timeout_below_bookmarks,
                PLAIN,
                &vec![client(Some(30)), worded],
                &[]
            ),
            None
        );
    }

    #[test]
    fn without_a_watch_cache_any_read_timeout_is_below_the_bookmarks_once_a_write_waits_for_it() {
        const NO_CACHE: &str = "[{ name: w }]\nserver: { watch_cache: false }";
        let trace = |written_at: u64| {
            vec![
                client(Some(30)),
                request(0, 2, Verb::Watch, "watch=1&resourceVersion=1", 200),
                opened(0, 2, Some(1), 0, 1),
                read_timed_out(30),
                request(35, 3, Verb::Watch, "watch=1&resourceVersion=1", 200),
                opened(35, 3, Some(1), 0, 5),
                read_timed_out(65),
                written(written_at, "default/a", 9),
                request(100, 4, Verb::Watch, "watch=1&resourceVersion=1", 200),
                opened(100, 4, Some(1), 0, 10),
            ]
        };
        assert_eq!(
            apply(read_timeout_below_bookmarks, NO_CACHE, &trace(70), &[]),
            Some(Mechanism::ReadTimeoutBelowBookmarks),
            "written at 70 s, between the watch that timed out at 65 s and the next at 100 s"
        );
        assert_eq!(
            apply(read_timeout_below_bookmarks, NO_CACHE, &trace(40), &[]),
            None,
            "written at 40 s, while watch #3 was open"
        );
    }
}
