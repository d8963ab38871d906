//! Rules for a run that ended too soon to judge: a fault was still answering the watcher's
//! requests when the run ended, less than a deadline after it last acted, so recovery could
//! not be shown either way.

use std::time::Duration;

use super::explanation::{Explanation, found, link};
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{FaultKind, TraceKind};
use crate::verdict::evidence::{Evidence, verb};

pub(super) fn ended_under_fault(e: &Evidence) -> Option<Explanation> {
    if e.storm.is_some() || e.stream_end.is_some() {
        return None;
    }
    let hits: Vec<(Duration, u64, FaultKind)> = e
        .trace
        .iter()
        .filter_map(|event| match event.kind {
            TraceKind::FaultHit { request, fault } => Some((event.at, request, fault)),
            _ => None,
        })
        .collect();
    let &(last_hit, _, _) = hits.last()?;
    let end = e.scenario.duration;
    let deadline = e.scenario.expect.deadline;
    if last_hit + deadline <= end {
        return None;
    }
    // The server was still answering in the fault's place: the watcher's last request, and
    // every one since the first of the final run of hit requests, went to a fault.
    let (_, last) = e.requests.last()?;
    if !e.hits.contains_key(&last.id) {
        return None;
    }
    let held = e
        .requests
        .iter()
        .rev()
        .take_while(|(_, r)| e.hits.contains_key(&r.id))
        .count();
    let (first_at, first) = e.requests[e.requests.len() - held];
    let kind = hits
        .iter()
        .find(|(_, request, _)| *request == first.id)
        .map(|(_, _, kind)| *kind)?;
    found(
        Mechanism::EndedUnderFault,
        vec![
            link(
                first_at,
                format!(
                    "from {} a fault answered the watcher in the server's place: {} answered the {} ({}) and each of the {} requests after it{}",
                    fmt(first_at),
                    kind,
                    verb(first),
                    e.answer(first),
                    held - 1,
                    e.fault(kind).map(|f| format!(" ({f})")).unwrap_or_default()
                ),
            ),
            link(
                end,
                format!(
                    "the run ended at {}, {} after the fault last acted (at {}), short of the deadline ({}): whether the watcher recovers could not be shown; run the scenario longer, or give the fault an end",
                    fmt(end),
                    fmt(end - last_hit),
                    fmt(last_hit),
                    fmt(deadline)
                ),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Verb;
    use crate::verdict::fixtures::*;

    /// kube's defaults re-watching from 1023 under a `watch_410` that goes on answering, the
    /// last time at `last` of a ten-minute run (deadline 1m).
    fn rewatches_under_a_fault(last: u64) -> Vec<crate::trace::TraceEvent> {
        let watch = "watch=1&resourceVersion=1023";
        vec![
            fault(300, "watch_410"),
            request(500, 5, Verb::Watch, watch, 410),
            hit(500, 5, "watch_410"),
            request(last, 6, Verb::Watch, watch, 410),
            hit(last, 6, "watch_410"),
        ]
    }

    #[test]
    fn a_run_that_ended_while_a_fault_still_answered_is_ended_under_fault() {
        assert_eq!(
            apply(ended_under_fault, PLAIN, &rewatches_under_a_fault(580), &[]),
            Some(Mechanism::EndedUnderFault)
        );
    }

    #[test]
    fn a_fault_that_stopped_a_deadline_before_the_end_or_a_request_let_through_is_not() {
        assert_eq!(
            apply(ended_under_fault, PLAIN, &rewatches_under_a_fault(510), &[]),
            None
        );
        let mut let_through = rewatches_under_a_fault(580);
        let_through.push(request(
            590,
            7,
            Verb::Watch,
            "watch=1&resourceVersion=1023",
            200,
        ));
        assert_eq!(apply(ended_under_fault, PLAIN, &let_through, &[]), None);
    }
}
