//! Rules for retries that came too fast: a hot loop on clean ends or without a backoff that ran
//! into a request storm or the rate bound, and relists a first backoff step apart because each
//! first page reset the backoff.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, caused, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::scenario::{Backoff, BackoffOn};
use crate::subject::KUBE_DEFAULT_BACKOFF;
use crate::trace::{RequestRecord, Verb};
use crate::verdict::answer::Answer;
use crate::verdict::evidence::{Evidence, Pattern};
use crate::verdict::request_log::lists;
use crate::verdict::scorecard::Link;

/// The request storm, the request-rate bound or the backoff check that a hot loop ran into, in
/// words.
fn storm_or_rate(e: &Evidence) -> Option<Link> {
    if let Some(storm) = e.storm {
        return Some(link(storm.at, storm.words(e.scenario.server.max_requests)));
    }
    e.failure(CheckName::RequestRate)
        .or_else(|| e.failure(CheckName::Backoff))
        .map(|c| Link::quoting(Duration::ZERO, c))
}

/// The fault behind a loop's answer: the one acting at its first request or, when that
/// request was answered later (a watch opened before a fault that then cut it), by its last.
fn loop_cause(e: &Evidence, pattern: &Pattern<'_>) -> String {
    let at_first = caused(e, pattern.first, pattern.request, &pattern.answer);
    if at_first.is_empty() {
        caused(e, pattern.last, pattern.request, &pattern.answer)
    } else {
        at_first
    }
}

pub(super) fn hot_loop_on_clean_ends(e: &Evidence) -> Option<Explanation> {
    let bound = storm_or_rate(e)?;
    let pattern = e.pattern()?;
    let empty = pattern.answer == Answer::Empty;
    // kube-client 5.0 ends a watch quietly on an unexpected EOF, a chunk cut short included
    // (`request_events` in kube-client/src/client/mod.rs: "End the stream so it can be
    // resumed"), so a cut the watcher saw no error for is a clean end to it too.
    let cut = matches!(pattern.answer, Answer::Cut(_))
        && !e.errors.iter().any(|(t, _)| *t >= pattern.first);
    if pattern.verb != Verb::Watch || !(empty || cut) {
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
                format!("{}{}", pattern.describe(), loop_cause(e, &pattern)),
            ),
            link(pattern.first, why),
            bound,
        ],
    )
}

pub(super) fn hot_loop_without_backoff(e: &Evidence) -> Option<Explanation> {
    let bound = storm_or_rate(e)?;
    if !e.no_backoff() {
        return None;
    }
    let pattern = e.pattern()?;
    let mut reaction =
        "the set-up has no backoff (`backoff: none`), so the watcher retried each at once"
            .to_owned();
    if pattern.verb == Verb::Watch && pattern.answer == Answer::Status(410) {
        reaction.push_str(
            "; an HTTP 410 at watch start makes kube-rs re-watch from the same resourceVersion instead of relisting",
        );
    }
    found(
        Mechanism::HotLoopWithoutBackoff,
        vec![
            link(
                pattern.first,
                format!("{}{}", pattern.describe(), loop_cause(e, &pattern)),
            ),
            link(pattern.first, reaction),
            bound,
        ],
    )
}

pub(super) fn backoff_reset_by_init(e: &Evidence) -> Option<Explanation> {
    // Too many relists, or requests too fast: the relists bound, or the rate bound and a storm
    // (explore leaves a scenario's `max_relists` out, so there only the rate shows it).
    let bound = if e.failed(CheckName::Relists) {
        None
    } else {
        Some(storm_or_rate(e)?)
    };
    // Only a backoff on the watcher's own stream sees its `Init`: one on applied or touched
    // objects never does.
    if e.setup.backoff_on != BackoffOn::Watcher {
        return None;
    }
    let first_step = match e.setup.backoff {
        Backoff::None => return None,
        Backoff::Default => KUBE_DEFAULT_BACKOFF.first_step(),
        Backoff::Exponential { initial, .. } => initial..initial * 2,
    };
    // A streaming list is a relist too: it loads the whole state again.
    let relists: Vec<(Duration, &RequestRecord)> = e
        .requests
        .iter()
        .filter(|(_, r)| lists(r))
        .map(|(at, r)| (*at, *r))
        .skip(1)
        .collect();
    let gaps: Vec<Duration> = relists.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let in_step = gaps.iter().filter(|g| first_step.contains(g)).count();
    if gaps.len() < 3 || in_step * 5 < gaps.len() * 4 {
        return None;
    }
    // The loop told is the longest run of relists each a first step after the one before:
    // relists that came of something else (a 410 long before) are not its doing.
    let looped = longest_first_step_run(&relists, &first_step);
    let (first, first_list) = looped[0];
    // Refused at the list itself, or failing further on (a later page). The loop's last relist
    // may be the one that got through, and ended it. A streaming list refused in its head
    // yields no `Init` (its backoff grows: no such loop), so for one only a 200 that carried
    // nothing but an ERROR counts.
    let refused = |r: &RequestRecord| {
        if r.streams_initial_events() {
            e.only_an_error(r)
        } else {
            matches!(e.answer(r), Answer::Status(400..))
        }
    };
    let refused_until = |n: usize| looped[..n].iter().all(|(_, r)| refused(r));
    let what =
        if refused_until(looped.len()) || (looped.len() > 1 && refused_until(looped.len() - 1)) {
            format!(
                "each refused at its first request{}: {}{}",
                if refused_until(looped.len()) {
                    ""
                } else {
                    " but the last, which got through"
                },
                e.answer(first_list),
                caused(e, first, first_list, &e.answer(first_list))
            )
        } else {
            // What the loop's own pages were answered, from its first relist on.
            let why = match e.pattern_since(first).filter(|p| p.verb == Verb::ListPage) {
                Some(p) => format!(
                    "; {}{}",
                    p.describe(),
                    caused(e, p.first, p.request, &p.answer)
                ),
                None => after_fault(e, first),
            };
            format!("each of which got its first page and failed further on{why}")
        };
    let mut chain = vec![
        link(
            first,
            format!("from {}, {} relists, {what}", fmt(first), looped.len()),
        ),
        link(
            first,
            format!(
                "kube's watcher yields `Event::Init` as it starts each relist, {}, and any item resets the backoff on its stream, so every retry waited only the first step: {in_step} of {} gaps between relists were {}–{} s",
                if first_list.streams_initial_events() {
                    "as a streaming list's response begins"
                } else {
                    "before its list request"
                },
                gaps.len(),
                seconds(first_step.start),
                seconds(first_step.end)
            ),
        ),
    ];
    chain.extend(bound);
    found(Mechanism::BackoffResetByInit, chain)
}

/// The longest run of `relists` in which each came a `first_step` after the one before (at
/// least the first relist alone).
fn longest_first_step_run<'r, 'a>(
    relists: &'r [(Duration, &'a RequestRecord)],
    first_step: &std::ops::Range<Duration>,
) -> &'r [(Duration, &'a RequestRecord)] {
    let mut longest = &relists[..1];
    let mut start = 0;
    for i in 1..=relists.len() {
        let goes_on = i < relists.len() && first_step.contains(&(relists[i].0 - relists[i - 1].0));
        if !goes_on {
            if i - start > longest.len() {
                longest = &relists[start..i];
            }
            start = i;
        }
    }
    longest
}

/// `0.8`, `1.6`, `0.1`: seconds as the chain words a step.
fn seconds(d: Duration) -> String {
    let text = format!("{:.3}", d.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::check_name::CheckName;
    use crate::trace::{RequestRecord, Trace, TraceEvent, TraceKind, Verb, WatchEnd};
    use crate::verdict::fixtures::*;

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
    fn a_loop_whose_first_watch_opened_before_the_fault_that_ends_it_still_names_that_fault() {
        let mut trace = storm_of(5, WatchEnd::Empty, 200);
        // The loop's first watch opened at 0s, before the fault at 60s answered it.
        trace[1].at = S(0);
        trace.sort_by_key(|e| e.at);
        let found = explain(hot_loop_on_clean_ends, PLAIN, &trace, &[]).expect("it fits");
        assert!(
            found.chain[0].text.contains("(empty_watch at 1m)"),
            "{:?}",
            found.chain
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
                        retry_after: None,
                        replica: None,
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
    fn relists_refused_a_first_step_apart_are_found_on_the_rate_bound_with_the_set_up_s_step() {
        let refused = |gap_ms: u64| -> Trace {
            let mut trace = vec![fault(60, "http_error")];
            for i in 0..8u64 {
                let at = S(68) + Duration::from_millis(i * gap_ms);
                trace.push(TraceEvent {
                    at,
                    kind: TraceKind::Request(RequestRecord {
                        id: i,
                        method: "GET".into(),
                        path: "/api/v1/configmaps".into(),
                        query: "limit=500".into(),
                        status: 403,
                        verb: Verb::List,
                        agent: String::new(),
                        process: None,
                        retry_after: None,
                        replica: None,
                    }),
                });
                trace.push(TraceEvent {
                    at,
                    kind: TraceKind::FaultHit {
                        request: i,
                        fault: crate::trace::FaultKind::HttpError,
                    },
                });
            }
            trace
        };
        let rate = [failed(CheckName::RequestRate)];
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &refused(1_233), &rate),
            Some(Mechanism::BackoffResetByInit)
        );
        let fast =
            "[{ name: w, backoff: { exponential: { initial: 100ms, max: 5s, factor: 2 } } }]";
        assert_eq!(
            apply(backoff_reset_by_init, fast, &refused(132), &rate),
            Some(Mechanism::BackoffResetByInit),
            "the first step is the set-up's backoff's"
        );
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &refused(132), &rate),
            None
        );
        let on_objects = "[{ name: w, backoff_on: applied_objects }]";
        assert_eq!(
            apply(backoff_reset_by_init, on_objects, &refused(1_233), &rate),
            None,
            "a backoff on applied objects never sees `Init`"
        );
    }

    #[test]
    fn the_loop_is_told_from_its_own_first_relist_not_from_an_earlier_one_it_did_not_make() {
        // The initial list, a relist after a 410 long before the fault, then a loop of lists
        // refused a first step apart until the fault ends and the last gets through.
        let mut trace = vec![
            request(0, 100, Verb::List, "limit=500", 200),
            request(30, 101, Verb::List, "limit=500", 200),
            fault(60, "http_error"),
        ];
        for i in 0..8u64 {
            let at = S(68) + Duration::from_millis(i * 1_233);
            let status = if i == 7 { 200 } else { 403 };
            trace.push(TraceEvent {
                at,
                kind: TraceKind::Request(RequestRecord {
                    id: i,
                    method: "GET".into(),
                    path: "/api/v1/configmaps".into(),
                    query: "limit=500".into(),
                    status,
                    verb: Verb::List,
                    agent: String::new(),
                    process: None,
                    retry_after: None,
                    replica: None,
                }),
            });
            if status == 403 {
                trace.push(hit(68, i, "http_error"));
            }
        }
        let rate = [failed(CheckName::RequestRate)];
        let found = explain(backoff_reset_by_init, PLAIN, &trace, &rate).expect("it fits");
        assert_eq!(
            found.chain[0].text,
            "from 1m8s, 8 relists, each refused at its first request but the last, which got through: 403 (http_error at 1m)"
        );
    }

    #[test]
    fn the_loop_s_pages_are_blamed_on_the_fault_that_answered_them_not_an_earlier_one() {
        // One continue expired at 1m, and the relist after it got through; then every continue
        // expired from 5m, and relists came a first step apart, each failing at its second page.
        let request_at = |ms: u64, id: u64, verb: Verb, status: u16| TraceEvent {
            at: Duration::from_millis(ms),
            kind: TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: if verb == Verb::ListPage {
                    "limit=1&continue=abc".into()
                } else {
                    "limit=1".into()
                },
                status,
                verb,
                agent: String::new(),
                process: None,
                retry_after: None,
                replica: None,
            }),
        };
        let mut trace = vec![
            request_at(0, 1, Verb::List, 200),
            fault(60, "expire_continue"),
            request_at(61_000, 2, Verb::ListPage, 410),
            hit(61, 2, "expire_continue"),
            request_at(62_000, 3, Verb::List, 200),
            fault(300, "expire_continue"),
        ];
        for i in 0..8u64 {
            let at = 301_000 + i * 1_233;
            trace.push(request_at(at, 10 + 2 * i, Verb::List, 200));
            trace.push(request_at(at + 10, 11 + 2 * i, Verb::ListPage, 410));
            trace.push(hit(at / 1000, 11 + 2 * i, "expire_continue"));
        }
        let rate = [failed(CheckName::RequestRate)];
        let found = explain(backoff_reset_by_init, PLAIN, &trace, &rate).expect("it fits");
        let told = &found.chain[0].text;
        assert!(
            told.starts_with("from 5m1s, 8 relists, each of which got its first page and failed further on; 8 list-page requests from 5m1.01s"),
            "{told}"
        );
        assert!(told.ends_with("(expire_continue at 5m)"), "{told}");
    }

    #[test]
    fn streaming_lists_each_turned_away_in_the_stream_are_relists_of_the_loop() {
        // A streaming list a first step after the one before, each answered 200 and one
        // ERROR 500 by a watch_error; the backoff check failed.
        let streaming = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
        let mut trace = vec![
            request(0, 100, Verb::List, "limit=500", 200),
            fault(60, "watch_error"),
        ];
        for i in 0..6u64 {
            let ms = 61_000 + i * 1_233;
            trace.push(TraceEvent {
                at: Duration::from_millis(ms),
                kind: TraceKind::Request(RequestRecord {
                    id: i,
                    method: "GET".into(),
                    path: "/api/v1/configmaps".into(),
                    query: streaming.into(),
                    status: 200,
                    verb: Verb::Watch,
                    agent: String::new(),
                    process: None,
                    retry_after: None,
                    replica: None,
                }),
            });
            trace.push(hit(ms / 1000, i, "watch_error"));
            trace.push(ended(
                ms / 1000,
                i,
                WatchEnd::Error {
                    code: 500,
                    reason: "InternalError".into(),
                    message: "a watch stream was requested by the client but the required storage feature RequestWatchProgress is disabled".into(),
                },
            ));
        }
        let backoff = [failed(CheckName::Backoff)];
        let found = explain(backoff_reset_by_init, PLAIN, &trace, &backoff).expect("it fits");
        assert_eq!(
            found.chain[0].text,
            "from 1m1s, 6 relists, each refused at its first request: ERROR 500 InternalError (watch_error at 1m)"
        );
        assert!(
            found.chain[1]
                .text
                .contains("as a streaming list's response begins"),
            "{}",
            found.chain[1].text
        );
        let plain = trace
            .iter()
            .map(|event| match &event.kind {
                TraceKind::Request(r) if r.verb == Verb::Watch => TraceEvent {
                    at: event.at,
                    kind: TraceKind::Request(RequestRecord {
                        query: "watch=1&resourceVersion=5".into(),
                        ..r.clone()
                    }),
                },
                _ => event.clone(),
            })
            .collect::<Vec<_>>();
        assert_eq!(
            apply(backoff_reset_by_init, PLAIN, &plain, &backoff),
            None,
            "re-watches are not relists"
        );
    }
}
