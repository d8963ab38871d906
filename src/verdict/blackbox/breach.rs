//! The stories an exec client's breaches of the protocol tell, as the protocol checks found
//! them: a resume after a 410, a resume from an empty resourceVersion or from behind, a
//! `Retry-After` not waited out, no backoff, a refused request repeated to the end. `story.rs`
//! tries them in order, among the outcome's stories.

use super::facts::Facts;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::Call;
use crate::verdict::check::backoff::no_backoff;
use crate::verdict::check::refused_repeat::refused_to_the_end;
use crate::verdict::check::relist_after_gone::resumed_after_gone as resumes_after_gone;
use crate::verdict::check::resume_from_last::{BadResume, bad_resumes};
use crate::verdict::check::retry_after::too_soon;
use crate::verdict::delivery_lag::live_delivery_lag;
use crate::verdict::scorecard::Link;

/// A resume from the resourceVersion the server had answered 410, with no relist between.
pub(super) fn resumed_after_gone(facts: &Facts<'_, '_>) -> Option<Link> {
    let first = resumes_after_gone(facts.calls).into_iter().next()?;
    Some(Link::new(
        first.resume.arrived,
        format!(
            "the server answered the {} from resourceVersion={} at {} with a 410, and the client resumed from resourceVersion={} at {} instead of relisting",
            first.gone.describe(),
            first.gone.resource_version().unwrap_or_default(),
            fmt(first.heard),
            first.resume.resource_version().unwrap_or_default(),
            fmt(first.resume.arrived),
        ),
    ))
}

/// The first resume the `resume_from_last` check faults that `is` the kind asked for.
fn bad_resume<'f, 'a>(
    facts: &Facts<'f, 'a>,
    is: impl Fn(&BadResume) -> bool,
) -> Option<(&'f Call<'a>, BadResume)> {
    let lag = live_delivery_lag(facts.waits.speed());
    bad_resumes(facts.trace, facts.calls, lag)
        .into_iter()
        .find(|(_, how)| is(how))
}

/// A watch resumed from an empty resourceVersion while it held one.
pub(super) fn empty_resume(facts: &Facts<'_, '_>) -> Option<Link> {
    let (watch, _) = bad_resume(facts, |how| matches!(how, BadResume::Empty))?;
    Some(Link::new(
        watch.arrived,
        format!(
            "a watch at {} resumed from an empty resourceVersion: from \"now\", skipping whatever changed since its last event",
            fmt(watch.arrived)
        ),
    ))
}

/// A watch resumed from behind the last resourceVersion the server had sent it.
pub(super) fn resumed_from_behind(facts: &Facts<'_, '_>) -> Option<Link> {
    let (watch, how) = bad_resume(facts, |how| matches!(how, BadResume::Behind { .. }))?;
    let BadResume::Behind {
        from,
        last,
        sent_at,
    } = how
    else {
        return None;
    };
    Some(Link::new(
        watch.arrived,
        format!(
            "a watch at {} resumed from resourceVersion {from}, behind the {last} the server had sent it at {}: it asks again for what it has seen",
            fmt(watch.arrived),
            fmt(sent_at)
        ),
    ))
}

/// An answer with a `Retry-After`, and the next request sooner than that, as at 1×.
pub(super) fn retry_after_ignored(facts: &Facts<'_, '_>) -> Option<Link> {
    let first = too_soon(facts.calls, |stretch| facts.waits.at_1x(stretch))
        .into_iter()
        .next()?;
    Some(Link::new(
        first.next.arrived,
        format!(
            "the server answered the {} at {} with Retry-After: {}, and the client asked again {} later (as at 1×)",
            first.told.describe(),
            fmt(first.told.at),
            first.after.as_secs(),
            fmt(first.waited),
        ),
    ))
}

/// Failures in a row, each retried without waiting longer.
pub(super) fn no_backoff_loop(facts: &Facts<'_, '_>) -> Option<Link> {
    let run = no_backoff(facts.calls, facts.end, |stretch| facts.waits.at_1x(stretch))?;
    Some(Link::new(
        run.last.arrived,
        format!(
            "its requests failed from {} to {} and it retried each within {} (as at 1×), never waiting longer: no backoff",
            fmt(run.first.at),
            fmt(run.last.at),
            fmt(run.longest),
        ),
    ))
}

/// The same request refused with a 4xx no fault answered, asked again unchanged to the end.
pub(super) fn refused_repeat(facts: &Facts<'_, '_>) -> Option<Link> {
    let tail = refused_to_the_end(facts.calls, facts.deadline)?;
    Some(Link::new(
        tail[0].at,
        format!(
            "the server refused its {} with {} at {}, with no fault behind it, and it asked the same {} times to the end without changing what it asked",
            tail[0].noun(),
            tail[0].record.status,
            fmt(tail[0].at),
            tail.len(),
        ),
    ))
}
