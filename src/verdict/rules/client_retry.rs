//! Rules for kube-client's own retry layer: on by default (`Config::default_retry`), it
//! retries a 429, 503 or 504 inside the one request, with tower's exponential backoff of 5 ms
//! doubling per try and jittered up to three times that (kube-client `client/retry.rs`,
//! `RetryPolicy::server_retry`: 15 tries), so the watcher sees no error, and after a dozen
//! tries its next sleep is a minute or two.

use super::explanation::{Explanation, caused, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{FaultKind, RequestRecord};
use crate::verdict::evidence::{Evidence, verb};

/// Statuses kube-client's retry layer retries.
pub(super) const RETRIED: [u16; 3] = [429, 503, 504];

pub(super) fn retry_layer_overslept(e: &Evidence) -> Option<Explanation> {
    let late = e.failed(CheckName::Deadline) || e.failed(CheckName::Converged);
    if !e.retry || !late || e.storm.is_some() || e.stream_end.is_some() {
        return None;
    }
    let fault_end = e.scenario.last_fault_end()?;
    let answered_by_fault = |r: &RequestRecord| {
        RETRIED.contains(&r.status)
            && e.hits
                .get(&r.id)
                .is_some_and(|kinds| kinds.contains(&FaultKind::HttpError))
    };
    // The last try the fault refused before it ended, and the tries of the same request
    // before it: one request, retried inside kube-client.
    let k = e
        .requests
        .iter()
        .rposition(|(at, r)| *at < fault_end && answered_by_fault(r))?;
    let (last_at, last) = e.requests[k];
    let same =
        |r: &RequestRecord| r.verb == last.verb && r.query == last.query && r.status == last.status;
    let j = (0..=k)
        .rev()
        .take_while(|i| {
            let (_, r) = e.requests[*i];
            same(r) && answered_by_fault(r)
        })
        .last()?;
    let tries = k - j + 1;
    if tries < 2 {
        return None;
    }
    let (first_at, first) = e.requests[j];
    // The watcher saw nothing of it: no error between the first try and the next request.
    let next = e.requests.get(k + 1).map(|(at, _)| *at);
    let until = next.unwrap_or(e.scenario.duration);
    if e.errors.iter().any(|(t, _)| first_at < *t && *t < until) {
        return None;
    }
    let deadline = e.scenario.expect.deadline;
    if until.saturating_sub(fault_end) <= deadline {
        return None;
    }
    let then = match next {
        Some(at) => format!(
            "its next try came at {}, {} after the fault ended at {} (deadline {})",
            fmt(at),
            fmt(at - fault_end),
            fmt(fault_end),
            fmt(deadline)
        ),
        None => format!(
            "no next try came before the run ended at {}, {} after the fault ended at {} (deadline {})",
            fmt(e.scenario.duration),
            fmt(e.scenario.duration - fault_end),
            fmt(fault_end),
            fmt(deadline)
        ),
    };
    found(
        Mechanism::RetryLayerOverslept,
        vec![
            link(
                first_at,
                format!(
                    "the server answered the {} at {} with {}{}; kube-client's retry layer (on by default) retried it inside the one request, so the watcher saw no error and its own backoff never acted",
                    verb(first),
                    fmt(first_at),
                    first.status,
                    caused(e, first_at, first, &e.answer(first))
                ),
            ),
            link(
                last_at,
                format!(
                    "its try {tries}, at {}, was refused {} before the fault ended; the layer's sleep doubles with each try (5 ms × 2ⁿ, jittered up to three times that), so the next one ran far past the fault's end",
                    fmt(last_at),
                    fmt(fault_end - last_at)
                ),
            ),
            link(until, then),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{TraceEvent, Verb};
    use crate::verdict::fixtures::*;

    /// A 503 on watches from 60 s to 180 s (the fixture's scenario has no timeline, so the
    /// fault's end is given by `scenario_with_fault`), tried at 100, 101 and 150 s.
    fn refused_watches(next: Option<u64>) -> Vec<TraceEvent> {
        let watch = "watch=1&resourceVersion=5";
        let mut trace = vec![client(None), fault(60, "http_error")];
        for (id, at) in [(3, 100), (4, 101), (5, 150)] {
            trace.push(request(at, id, Verb::Watch, watch, 503));
            trace.push(hit(at, id, "http_error"));
        }
        if let Some(at) = next {
            trace.push(request(at, 6, Verb::Watch, watch, 200));
        }
        trace
    }

    const FAULT_TO_3M: &str = "[{ name: w }]\ntimeline: [{ at: 1m, kind: http_error, status: 503, for: 2m, verbs: [watch] }]";

    #[test]
    fn a_retry_asleep_past_the_fault_s_end_by_more_than_the_deadline_is_found() {
        let late = [failed(CheckName::Deadline)];
        assert_eq!(
            apply(
                retry_layer_overslept,
                FAULT_TO_3M,
                &refused_watches(Some(260)),
                &late
            ),
            Some(Mechanism::RetryLayerOverslept)
        );
        assert_eq!(
            apply(
                retry_layer_overslept,
                FAULT_TO_3M,
                &refused_watches(None),
                &late
            ),
            Some(Mechanism::RetryLayerOverslept)
        );
    }

    #[test]
    fn a_retry_back_within_the_deadline_or_one_the_watcher_saw_fail_is_not() {
        let late = [failed(CheckName::Deadline)];
        assert_eq!(
            apply(
                retry_layer_overslept,
                FAULT_TO_3M,
                &refused_watches(Some(220)),
                &late
            ),
            None
        );
        let mut seen = refused_watches(Some(260));
        seen.push(error(
            200,
            crate::trace::WatcherErrorVariant::WatchStartFailed,
            Some(503),
            "503",
        ));
        assert_eq!(
            apply(retry_layer_overslept, FAULT_TO_3M, &seen, &late),
            None
        );
    }
}
