//! Refused, repeated: a client the server refuses with a 4xx that no retry changes (400, 403,
//! 404, 422: not 408, 410 or 429, which say "later" or "relist") must change what it asks, or
//! stop, rather than repeat the same request unchanged until the end (reference doc §4;
//! client-go's reflector falls back from a refused streaming list to LIST+WATCH). A refusal a
//! fault of the scenario's answered is a passing state, and the server says which it was.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::Call;
use crate::verdict::scorecard::Check;

/// Repeats, from which an unchanged request is a loop.
const REPEATS: usize = 3;

/// Whether the server asks a client to go away with `status` as a refusal, not as a passing
/// state: a 4xx other than 408 (timeout), 410 (history gone) and 429 (throttled), which a retry
/// can outlive.
pub(in crate::verdict) fn refusal(status: u16) -> bool {
    (400..=499).contains(&status) && ![408, 410, 429].contains(&status)
}

/// Whether the server refused `call` for good: a refusal with no fault behind it.
fn refused(call: &Call<'_>) -> bool {
    refusal(call.record.status) && !call.faulted
}

/// The requests at the end of the client's sequence that repeat one refused request
/// unchanged (verb, path, query, answer), if they are [`REPEATS`] or more and span `deadline`.
pub(in crate::verdict) fn refused_to_the_end<'c, 'a>(
    calls: &'c [Call<'a>],
    deadline: Duration,
) -> Option<&'c [Call<'a>]> {
    let last = calls.last().filter(|c| refused(c))?;
    let same = |c: &Call<'_>| {
        refused(c)
            && c.record.verb == last.record.verb
            && c.record.path == last.record.path
            && c.record.query == last.record.query
            && c.record.status == last.record.status
    };
    let first = calls.iter().rposition(|c| !same(c)).map_or(0, |i| i + 1);
    let tail = &calls[first..];
    (tail.len() >= REPEATS && last.at.saturating_sub(tail[0].at) >= deadline).then_some(tail)
}

/// The check: no refused request was repeated unchanged to the end.
pub(in crate::verdict) fn changed_what_was_refused(
    calls: &[Call<'_>],
    deadline: Duration,
) -> Check {
    let tail = refused_to_the_end(calls, deadline);
    let detail = match tail {
        None => "it repeated no refused request unchanged to the end".to_owned(),
        Some(tail) => format!(
            "it asked the same {} {} times from {} to {}, refused {} each time with no fault behind it, and never changed what it asked",
            tail[0].noun(),
            tail.len(),
            fmt(tail[0].at),
            fmt(tail[tail.len() - 1].at),
            tail[0].record.status,
        ),
    };
    Check {
        name: CheckName::RefusedRepeat,
        passed: tail.is_none(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Trace, Verb};
    use crate::verdict::call::calls;
    use crate::verdict::fixtures::*;

    const STREAMING: &str =
        "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0";

    fn refused_streaming_lists(at: &[u64]) -> Trace {
        at.iter()
            .enumerate()
            .map(|(i, s)| request(*s, 1 + i as u64, Verb::Watch, STREAMING, 422))
            .collect()
    }

    fn judged(trace: &Trace) -> Check {
        changed_what_was_refused(&calls(trace, |_| true, S(3600)), S(60))
    }

    #[test]
    fn the_same_refused_request_to_the_end_breaks_the_contract() {
        let check = judged(&refused_streaming_lists(&[0, 1, 3, 7, 37, 67, 97]));
        assert!(!check.passed);
        assert!(check.detail.contains("7 times"), "{}", check.detail);
    }

    #[test]
    fn a_client_that_falls_back_to_a_list_keeps_it() {
        let mut trace = refused_streaming_lists(&[0, 1, 3]);
        trace.push(request(7, 4, Verb::List, "", 200));
        trace.push(request(7, 5, Verb::Watch, "watch=1&resourceVersion=5", 200));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }

    #[test]
    fn a_refusal_a_fault_answered_is_a_passing_state() {
        let mut trace = refused_streaming_lists(&[0, 1, 3, 7, 37, 67, 97]);
        trace.extend((1..=7).map(|id| hit(0, id, "http_error")));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }
}
