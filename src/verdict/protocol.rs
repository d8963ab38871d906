//! The protocol checks, which both judges run alike on a client's requests: after a 410 it
//! relists, it resumes from the last resourceVersion it was sent, it waits out a Retry-After,
//! it backs off after errors, and it does not repeat a refused request unchanged to the end
//! (one file each under `check/`).

use std::time::Duration;

use super::call::Call;
use super::check::backoff::backed_off;
use super::check::refused_repeat::changed_what_was_refused;
use super::check::relist_after_gone::relisted_after_gone;
use super::check::resume_from_last::resumed_from_last;
use super::check::retry_after::waited_retry_after;
use super::scorecard::Check;
use crate::trace::Trace;

/// The protocol checks on `calls` of a run that ended at `end`: a resourceVersion counts as sent
/// once `lag` has passed, a wait as long as `at_1x` says it would have lasted at 1×, and a
/// request repeated over `deadline` as repeated to the end.
pub(super) fn protocol_checks(
    trace: &Trace,
    calls: &[Call<'_>],
    (lag, deadline, end): (Duration, Duration, Duration),
    at_1x: impl Fn((Duration, Duration)) -> Duration,
) -> [Check; 5] {
    [
        relisted_after_gone(calls),
        resumed_from_last(trace, calls, lag),
        waited_retry_after(calls, &at_1x),
        backed_off(calls, end, &at_1x),
        changed_what_was_refused(calls, deadline),
    ]
}
