//! Rules for a set-up that asks for what the server will not give: a request the server
//! refuses as invalid, with no fault behind it, repeated unchanged.

use std::time::Duration;

use super::explanation::{Explanation, found, link};
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::FaultKind;
use crate::verdict::answer::Answer;
use crate::verdict::check::refused_repeat::refusal;
use crate::verdict::evidence::{Evidence, verb_words};

/// Whether the answer is a refusal ([`refusal`]).
fn refused(answer: &Answer) -> bool {
    matches!(answer, Answer::Status(status) if refusal(*status))
}

pub(super) fn request_refused(e: &Evidence) -> Option<Explanation> {
    // The most repeated refusal, though a fault answered something else more often, as long as
    // the refusals lasted: the client's last request was one.
    let pattern = e.pattern_among(Duration::ZERO, refused)?;
    let (_, last) = e.requests.last()?;
    if e.answer(last) != pattern.answer {
        return None;
    }
    // Refused by a fault (`http_error`, the one kind that answers a 4xx of its own), it is
    // the fault's story: the server said which.
    let by_fault = e.requests.iter().any(|(at, r)| {
        *at >= pattern.first
            && e.answer(r) == pattern.answer
            && e.hits
                .get(&r.id)
                .is_some_and(|kinds| kinds.contains(&FaultKind::HttpError))
    });
    if by_fault {
        return None;
    }
    let Answer::Status(status) = pattern.answer else {
        return None;
    };
    let said = e
        .errors
        .iter()
        .find(|(at, f)| *at >= pattern.first && f.code == Some(status))
        .map(|(_, f)| {
            let reason = f.reason.as_deref().unwrap_or_default();
            let message = f.status_message.as_deref().unwrap_or(&f.message);
            format!(" {reason}: \"{message}\"")
        })
        .unwrap_or_default();
    let streaming = pattern.request.streams_initial_events();
    let why = if streaming && !e.scenario.server.watch_list {
        "the server's WatchList feature is off (`server.watch_list: false`), so it refuses every streaming list; kube's watcher with `streaming_lists` starts only from such a watch and has no LIST fallback (client-go's reflector falls back to LIST+WATCH), so it retried the same request after its backoff"
    } else {
        "kube's watcher retried the same request after its backoff, and nothing in the set-up changes what it asks"
    };
    found(
        Mechanism::RequestRefused,
        vec![
            link(
                pattern.first,
                format!(
                    "the server refused the {} at {} with {status}{said}, and no fault of the scenario's was behind it",
                    verb_words(pattern.verb),
                    fmt(pattern.first)
                ),
            ),
            link(pattern.first, why),
            link(
                pattern.last,
                format!(
                    "{}: the set-up asks for what this server will not give, so the watcher never got the state it watches",
                    pattern.describe()
                ),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Verb, WatcherErrorVariant};
    use crate::verdict::fixtures::*;

    const STREAMING: &str =
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0";

    fn refusals(status: u16) -> Vec<crate::trace::TraceEvent> {
        (0..3)
            .flat_map(|n| {
                [
                    request(n, n + 1, Verb::Watch, STREAMING, status),
                    error(
                        n,
                        WatcherErrorVariant::WatchStartFailed,
                        Some(status),
                        "refused",
                    ),
                ]
            })
            .collect()
    }

    #[test]
    fn a_streaming_list_refused_every_time_with_no_fault_behind_it_is_found() {
        assert_eq!(
            apply(request_refused, PLAIN, &refusals(422), &[]),
            Some(Mechanism::RequestRefused)
        );
    }

    #[test]
    fn a_refusal_that_lasts_to_the_end_is_found_though_a_fault_answered_more_and_one_that_ended_is_not()
     {
        let mut trace = refusals(422);
        for n in 10..16 {
            trace.push(request(n, n, Verb::Watch, STREAMING, 503));
            trace.push(hit(n, n, "http_error"));
        }
        let mut lasted = trace.clone();
        lasted.push(request(20, 20, Verb::Watch, STREAMING, 422));
        assert_eq!(
            apply(request_refused, PLAIN, &lasted, &[]),
            Some(Mechanism::RequestRefused)
        );
        assert_eq!(
            apply(request_refused, PLAIN, &trace, &[]),
            None,
            "the fault's 503s came last"
        );
    }

    #[test]
    fn a_refusal_a_fault_answered_or_a_410_is_not_the_set_up_s() {
        let mut by_fault = refusals(403);
        by_fault.push(hit(2, 3, "http_error"));
        assert_eq!(apply(request_refused, PLAIN, &by_fault, &[]), None);
        let mut by_another = refusals(422);
        by_another.push(hit(2, 3, "empty_watch"));
        assert_eq!(
            apply(request_refused, PLAIN, &by_another, &[]),
            Some(Mechanism::RequestRefused),
            "a fault that cannot answer a 4xx did not refuse it"
        );
        assert_eq!(apply(request_refused, PLAIN, &refusals(410), &[]), None);
        assert_eq!(apply(request_refused, PLAIN, &refusals(429), &[]), None);
    }
}
