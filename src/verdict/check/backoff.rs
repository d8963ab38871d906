//! Backoff: after errors, a client waits longer and longer before it asks again (reference doc
//! §5.4; client-go's reflector backs off 800 ms doubling to 30 s, kube's `default_backoff()`
//! the same with jitter). A client that keeps asking as fast after the sixteenth error in a row
//! as after the first is a hot loop, however the run ended.
//!
//! The numbers are loose on purpose: any doubling backoff quadruples its first wait within
//! three tries and waits 2 s within a dozen (kube-client's retry layer, from 5 ms, by its
//! ninth of fifteen), so sixteen failures in a row whose waits neither grew so nor reached 10 s
//! (or the `Retry-After` the server asked for) is no backoff. A backoff capped low is one, and
//! so is a run whose every wait is 2 s or more: a backoff already at a low cap when it began.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::trace::{Verb, WatchEnd};
use crate::verdict::call::{Call, by_arrival};
use crate::verdict::scorecard::Check;

/// A wait that counts as backing off.
const BACKED_OFF: Duration = Duration::from_secs(10);
/// Failures in a row, each retried with no wait that backed off, from which it is no backoff.
const IN_A_ROW: usize = 16;
/// A watch served this long, or to its timeout, ends a run of failures.
const SERVED: Duration = Duration::from_secs(60);
/// A watch that ends this soon with nothing sent failed (client-go's `VeryShortWatchError`).
const VERY_SHORT: Duration = Duration::from_secs(1);
/// How many times the first wait of a run a later one must reach to show a backoff growing,
/// and how long at least.
const GROWTH: u32 = 4;
const GROWN: Duration = Duration::from_secs(2);
/// How much sooner than a `Retry-After` a wait may end and still honour it.
const TOLERANCE: Duration = Duration::from_millis(100);

/// When the client heard that `call` failed, if it did: an error status, a watch that ended
/// with an ERROR, or one that ended at once with nothing sent. An answer that never came is
/// the client's own timeout to wait out, no failure.
fn failed(call: &Call<'_>) -> Option<Duration> {
    match (call.record.status, call.ended) {
        (400..=599, _) => Some(call.at),
        (200, Some((at, WatchEnd::Error { .. }))) => Some(at),
        (200, Some((at, WatchEnd::Empty | WatchEnd::Cut { .. } | WatchEnd::Closed { .. })))
            if call.record.verb == Verb::Watch
                && at.saturating_sub(call.at) < VERY_SHORT
                && call.last_sent.is_none() =>
        {
            Some(at)
        }
        _ => None,
    }
}

/// Whether a watch served the client: open for a minute, or to its timeout.
fn served(call: &Call<'_>, end: Duration) -> bool {
    call.record.verb == Verb::Watch
        && call.record.status == 200
        && match call.ended {
            Some((_, WatchEnd::Timeout)) => true,
            Some((at, _)) => at.saturating_sub(call.at) >= SERVED,
            None => end.saturating_sub(call.at) >= SERVED,
        }
}

/// The first run of [`IN_A_ROW`] failures, each retried with no wait that backed off and no
/// sign of a backoff growing: its first and its last failure, and the shortest and the longest
/// wait in it. A backoff grows when a wait reaches four times the run's first one (and 2 s):
/// a backoff capped below 10 s is still one, and so is a run whose every wait is 2 s or more
/// (it began at a low cap). `at_1x` turns a stretch into what it would have
/// lasted at 1×; `end` is when the run ended.
pub(in crate::verdict) fn no_backoff<'c, 'a>(
    calls: &'c [Call<'a>],
    end: Duration,
    at_1x: impl Fn((Duration, Duration)) -> Duration,
) -> Option<NoBackoff<'c, 'a>> {
    let by_arrival = by_arrival(calls);
    let mut streak: Vec<(&Call<'a>, Duration)> = Vec::new();
    // Whether a wait of the run grew, and whether one was short of a grown one.
    let (mut grew, mut short) = (false, false);
    for (i, call) in by_arrival.iter().enumerate() {
        if served(call, end) {
            (streak, grew, short) = (Vec::new(), false, false);
            continue;
        }
        let Some(heard) = failed(call) else { continue };
        let reads = call.reads();
        let Some(next) = by_arrival[i + 1..]
            .iter()
            .find(|c| c.arrived >= heard && c.reads() == reads)
        else {
            break;
        };
        let wait = at_1x((heard, next.arrived));
        let asked = call
            .record
            .retry_after
            .map(|s| Duration::from_secs(u64::from(s)));
        if wait >= BACKED_OFF || asked.is_some_and(|a| wait + TOLERANCE >= a) {
            (streak, grew, short) = (Vec::new(), false, false);
            continue;
        }
        streak.push((call, wait));
        grew |= wait >= (streak[0].1 * GROWTH).max(GROWN);
        short |= wait < GROWN;
        // A run whose every wait is a grown one began at a backoff's cap, which a low cap
        // reaches before the run starts: that is backing off. One short wait is not.
        if streak.len() >= IN_A_ROW && !grew && short {
            let waits = streak.iter().map(|(_, w)| *w);
            return Some(NoBackoff {
                first: streak[0].0,
                last: call,
                shortest: waits.clone().min().unwrap_or_default(),
                longest: waits.max().unwrap_or_default(),
            });
        }
    }
    None
}

/// A run of failures retried with no backoff.
pub(in crate::verdict) struct NoBackoff<'c, 'a> {
    pub(in crate::verdict) first: &'c Call<'a>,
    pub(in crate::verdict) last: &'c Call<'a>,
    pub(in crate::verdict) shortest: Duration,
    pub(in crate::verdict) longest: Duration,
}

/// The check: no run of failures went on with no backoff.
pub(in crate::verdict) fn backed_off(
    calls: &[Call<'_>],
    end: Duration,
    at_1x: impl Fn((Duration, Duration)) -> Duration,
) -> Check {
    let failures = calls.iter().filter(|c| failed(c).is_some()).count();
    let found = no_backoff(calls, end, at_1x);
    let detail = match &found {
        None => format!(
            "no {IN_A_ROW} failures in a row retried with no backoff ({failures} failed requests in all)"
        ),
        Some(run) => format!(
            "{IN_A_ROW} failed requests in a row, from request #{} at {} to request #{} at {}, each retried within {} to {}: the waits never grew, nor reached {}",
            run.first.record.id,
            fmt(run.first.at),
            run.last.record.id,
            fmt(run.last.at),
            fmt(run.shortest),
            fmt(run.longest),
            fmt(BACKED_OFF),
        ),
    };
    Check {
        name: CheckName::Backoff,
        passed: found.is_none(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Trace;
    use crate::verdict::call::calls;
    use crate::verdict::fixtures::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// Watches refused 403 at these instants, in milliseconds.
    fn refused_at(millis: &[u64]) -> Trace {
        let mut trace = vec![request(0, 1, Verb::List, "", 200)];
        for (i, ms) in millis.iter().enumerate() {
            let mut refused = request(
                0,
                2 + i as u64,
                Verb::Watch,
                "watch=1&resourceVersion=5",
                403,
            );
            refused.at = MS(*ms);
            trace.push(refused);
        }
        trace
    }

    fn judged(trace: &Trace) -> Check {
        backed_off(&calls(trace, |_| true, S(3600)), S(3600), |(a, b)| b - a)
    }

    #[test]
    fn a_doubling_backoff_keeps_the_contract() {
        let mut at = 60_000;
        let mut wait = 800;
        let mut millis = Vec::new();
        for _ in 0..20 {
            millis.push(at);
            at += wait;
            wait = (wait * 2).min(30_000);
        }
        assert!(
            judged(&refused_at(&millis)).passed,
            "{}",
            judged(&refused_at(&millis)).detail
        );
    }

    #[test]
    fn sixteen_failures_each_retried_a_second_later_are_no_backoff() {
        let millis: Vec<u64> = (60..77).map(|s| s * 1000).collect();
        let check = judged(&refused_at(&millis));
        assert!(!check.passed);
        assert!(check.detail.contains("within 1s to 1s"), "{}", check.detail);
        let fifteen = judged(&refused_at(&millis[..16]));
        assert!(fifteen.passed, "{}", fifteen.detail);
    }

    #[test]
    fn a_backoff_capped_below_ten_seconds_is_still_one() {
        let mut at = 60_000;
        let mut millis = Vec::new();
        for wait in [
            800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000,
            5000, 5000, 5000, 5000, 5000, 5000,
        ] {
            millis.push(at);
            at += wait;
        }
        assert!(
            judged(&refused_at(&millis)).passed,
            "{}",
            judged(&refused_at(&millis)).detail
        );
    }

    #[test]
    fn a_run_that_starts_at_a_backoff_s_cap_is_still_one_and_one_below_two_seconds_is_not() {
        let flat = |wait: u64| {
            let millis: Vec<u64> = (0..20).map(|i| 60_000 + i * wait).collect();
            judged(&refused_at(&millis))
        };
        assert!(flat(5_000).passed, "{}", flat(5_000).detail);
        assert!(!flat(1_500).passed, "a flat first step is no backoff");
        let mut then_hot: Vec<u64> = (0..3).map(|i| 60_000 + i * 5_000).collect();
        then_hot.extend((0..17).map(|i| 75_000 + i * 1_000));
        assert!(
            !judged(&refused_at(&then_hot)).passed,
            "long waits first do not excuse a loop after them"
        );
    }

    #[test]
    fn waiting_out_each_retry_after_is_backing_off() {
        let trace: Trace = (0..20)
            .map(|i| throttled(60 + 2 * i, 2 + i, Verb::Watch, 429, 2))
            .collect();
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }
}
