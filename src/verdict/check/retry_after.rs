//! Retry-After: a client asked to come back later (`Retry-After`, on a 429 or a 5xx) waits at
//! least that long before it asks the server again (reference doc §4; client-go's `request.go`
//! `checkWait`, kube-client's `RetryPolicy`). Asking sooner is what the server was throttling.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::{Call, by_arrival};
use crate::verdict::scorecard::Check;

/// How much sooner than asked a retry may come: the server's clock and the client's are
/// one here, so only rounding is forgiven.
const TOLERANCE: Duration = Duration::from_millis(100);

/// A request asked again sooner than the server said.
pub(in crate::verdict) struct TooSoon<'c, 'a> {
    /// The answer that carried the `Retry-After`.
    pub(in crate::verdict) told: &'c Call<'a>,
    /// Its `Retry-After`.
    pub(in crate::verdict) after: Duration,
    /// The next request, and how long after the answer it came, as at 1×.
    pub(in crate::verdict) next: &'c Call<'a>,
    pub(in crate::verdict) waited: Duration,
}

/// Each answer with a `Retry-After` that the client's next request came sooner than, oldest
/// first. `at_1x` turns a stretch of the run into what it would have lasted at 1× (a live run
/// played faster stretches the client's own waits, never the server's `Retry-After`).
pub(in crate::verdict) fn too_soon<'c, 'a>(
    calls: &'c [Call<'a>],
    at_1x: impl Fn((Duration, Duration)) -> Duration,
) -> Vec<TooSoon<'c, 'a>> {
    let by_arrival = by_arrival(calls);
    calls
        .iter()
        .filter_map(|told| {
            let seconds = told.record.retry_after.filter(|s| *s > 0)?;
            let after = Duration::from_secs(u64::from(seconds));
            let from = by_arrival.partition_point(|c| c.arrived < told.at);
            let next = by_arrival[from..]
                .iter()
                .find(|c| c.record.id > told.record.id)?;
            let waited = at_1x((told.at, next.arrived));
            (waited + TOLERANCE < after).then_some(TooSoon {
                told,
                after,
                next,
                waited,
            })
        })
        .collect()
}

/// The check: every `Retry-After` was waited out.
pub(in crate::verdict) fn waited_retry_after(
    calls: &[Call<'_>],
    at_1x: impl Fn((Duration, Duration)) -> Duration,
) -> Check {
    let told = calls
        .iter()
        .filter(|c| c.record.retry_after.is_some_and(|s| s > 0))
        .count();
    let soon = too_soon(calls, at_1x);
    let detail = match soon.first() {
        None if told == 0 => "the server never asked it to wait (no Retry-After)".to_owned(),
        None => format!("it waited out each of the {told} Retry-Afters it was sent"),
        Some(first) => format!(
            "{} of the {told} Retry-Afters it was sent were not waited out; the first: request #{} was answered {} with Retry-After: {} at {}, and request #{} came {} later",
            soon.len(),
            first.told.record.id,
            first.told.record.status,
            first.after.as_secs(),
            fmt(first.told.at),
            first.next.record.id,
            fmt(first.waited),
        ),
    };
    Check {
        name: CheckName::RetryAfter,
        passed: soon.is_empty(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Trace, Verb};
    use crate::verdict::call::calls;
    use crate::verdict::fixtures::*;

    fn judged(trace: &Trace) -> Check {
        waited_retry_after(&calls(trace, |_| true, S(3600)), |(a, b)| b - a)
    }

    #[test]
    fn a_client_that_waits_out_retry_after_keeps_the_contract() {
        let trace = vec![
            throttled(120, 5, Verb::Watch, 429, 2),
            request(122, 6, Verb::Watch, "watch=1&resourceVersion=5", 200),
        ];
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }

    #[test]
    fn a_client_that_asks_again_sooner_breaks_it() {
        let trace = vec![
            throttled(180, 5, Verb::List, 503, 5),
            throttled(181, 6, Verb::List, 503, 5),
        ];
        let check = judged(&trace);
        assert!(!check.passed);
        assert!(check.detail.contains("Retry-After: 5"), "{}", check.detail);
    }

    #[test]
    fn a_live_client_s_own_wait_counts_as_at_1x() {
        let trace = vec![
            throttled(120, 5, Verb::Watch, 429, 5),
            request(180, 6, Verb::Watch, "watch=1&resourceVersion=5", 200),
        ];
        let at_60x = |(a, b): (Duration, Duration)| (b - a) / 60;
        assert!(!waited_retry_after(&calls(&trace, |_| true, S(3600)), at_60x).passed);
    }
}
