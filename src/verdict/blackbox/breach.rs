//! The first breach of the protocol an exec client made, as the protocol checks found it: for
//! the story, when nothing else explains the failure.

use std::time::Duration;

use super::waits::Waits;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::Trace;
use crate::verdict::call::Call;
use crate::verdict::check::backoff::no_backoff;
use crate::verdict::check::refused_repeat::refused_to_the_end;
use crate::verdict::check::relist_after_gone::resumed_after_gone;
use crate::verdict::check::resume_from_last::{BadResume, bad_resumes};
use crate::verdict::check::retry_after::too_soon;
use crate::verdict::delivery_lag::live_delivery_lag;

/// A breach: when, its mechanism, and what happened in words.
pub(super) struct Breach {
    pub(super) at: Duration,
    pub(super) mechanism: Mechanism,
    pub(super) text: String,
}

/// The first breach, by the order of the checks: a resume after a 410, a resume from other
/// than the last resourceVersion, a Retry-After not waited out, no backoff, a refused request
/// repeated to the end; `deadline` and `end` as the scenario and the run have them.
pub(super) fn first_breach(
    trace: &Trace,
    calls: &[Call<'_>],
    waits: &Waits,
    (deadline, end): (Duration, Duration),
) -> Option<Breach> {
    if let Some(first) = resumed_after_gone(calls).first() {
        return Some(Breach {
            at: first.resume.arrived,
            mechanism: Mechanism::ResumedAfterGone,
            text: format!(
                "the server answered the {} from resourceVersion={} at {} with a 410, and the client resumed from resourceVersion={} at {} instead of relisting",
                first.gone.describe(),
                first.gone.resource_version().unwrap_or_default(),
                fmt(first.heard),
                first.resume.resource_version().unwrap_or_default(),
                fmt(first.resume.arrived),
            ),
        });
    }
    let lag = live_delivery_lag(waits.speed());
    if let Some((watch, how)) = bad_resumes(trace, calls, lag).first() {
        let (mechanism, what) = match how {
            BadResume::Empty => (
                Mechanism::ResumedFromEmpty,
                "an empty resourceVersion: from \"now\", skipping whatever changed since its last event".to_owned(),
            ),
            BadResume::Behind { from, last, sent_at } => (
                Mechanism::ResumedFromBehind,
                format!(
                    "resourceVersion {from}, behind the {last} the server had sent it at {}: it asks again for what it has seen",
                    fmt(*sent_at)
                ),
            ),
        };
        return Some(Breach {
            at: watch.arrived,
            mechanism,
            text: format!("a watch at {} resumed from {what}", fmt(watch.arrived)),
        });
    }
    if let Some(first) = too_soon(calls, |stretch| waits.at_1x(stretch)).first() {
        return Some(Breach {
            at: first.next.arrived,
            mechanism: Mechanism::RetryAfterIgnored,
            text: format!(
                "the server answered the {} at {} with Retry-After: {}, and the client asked again {} later (as at 1×)",
                first.told.describe(),
                fmt(first.told.at),
                first.after.as_secs(),
                fmt(first.waited),
            ),
        });
    }
    if let Some(run) = no_backoff(calls, end, |stretch| waits.at_1x(stretch)) {
        return Some(Breach {
            at: run.last.arrived,
            mechanism: Mechanism::HotLoopWithoutBackoff,
            text: format!(
                "its requests failed from {} to {} and it retried each within {} (as at 1×), never waiting longer: no backoff",
                fmt(run.first.at),
                fmt(run.last.at),
                fmt(run.longest),
            ),
        });
    }
    let tail = refused_to_the_end(calls, deadline)?;
    Some(Breach {
        at: tail[0].at,
        mechanism: Mechanism::RequestRefused,
        text: format!(
            "the server refused its {} with {} at {}, with no fault behind it, and it asked the same {} times to the end without changing what it asked",
            tail[0].noun(),
            tail[0].record.status,
            fmt(tail[0].at),
            tail.len(),
        ),
    })
}
