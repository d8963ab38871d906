//! The stories an exec client's outcome tells, each a function of the [`Facts`]: it stopped,
//! waited on a request never answered, held a half-open watch, resumed from ahead of the server
//! or from an empty resourceVersion, stormed, or re-watched the resourceVersion it was told is
//! gone. `story.rs` tries them in order.

use super::facts::Facts;
use crate::scenario::format_duration as fmt;
use crate::trace::WatchEnd;
use crate::verdict::call::Call;
use crate::verdict::reaction::Reaction;
use crate::verdict::scorecard::{Check, Link};

/// It stopped after its last request ended or failed (not stopped as a storm: that is the
/// server's doing); every such end is one a client recovers from, by re-watching, or by
/// relisting after a 410.
pub(super) fn stopped(facts: &Facts<'_, '_>) -> Option<Link> {
    let (last, survived) = facts
        .calls
        .last()
        .zip(facts.survived)
        .filter(|(last, _)| facts.storm.is_none() && (last.ended.is_some() || last.failed()))?;
    Some(stopped_after(last, survived))
}

fn stopped_after(last: &Call<'_>, survived: &Check) -> Link {
    let (at, how) = match last.ended {
        Some((at, reason)) => (at, format!("ended: {}", reason.describe())),
        None => (last.at, format!("was answered {}", last.record.status)),
    };
    let text = format!(
        "its {} from resourceVersion={} (request #{}) {how} at {}, and it made no request after it; {}: a client recovers from that by {}",
        last.noun(),
        last.resource_version().unwrap_or_default(),
        last.record.id,
        fmt(at),
        survived.detail,
        if last.gone().is_some() {
            "relisting"
        } else {
            "re-watching from its last resourceVersion"
        }
    );
    Link::quoting_in(at, text, survived)
}

/// A request whose response head never came, and the client waited on it to the end (a run a
/// storm stopped ends with requests in flight that are not the client's doing).
pub(super) fn never_answered(facts: &Facts<'_, '_>) -> Option<Link> {
    let call = facts.pending.filter(|_| facts.storm.is_none())?;
    Some(Link::new(
        call.at,
        format!(
            "the {} request at {} was never answered: its response head never came, and the client waited on it to the end",
            call.noun(),
            fmt(call.at)
        ),
    ))
}

/// Its open watch went half-open and it never gave up on it, so it fell behind.
pub(super) fn half_open(facts: &Facts<'_, '_>) -> Option<Link> {
    let (watch, behind) = facts
        .open
        .filter(|w| matches!(w.finally, Some(WatchEnd::Stalled)))
        .zip(facts.behind)?;
    Some(Link::quoting_in(
        watch.at,
        format!(
            "its watch went half-open (nothing more arrived) and it did not give up on it: {}",
            behind.detail
        ),
        behind,
    ))
}

/// A watch resumed from ahead of the server's revision.
pub(super) fn resumed_ahead(facts: &Facts<'_, '_>) -> Option<Link> {
    let (at, from, revision) = facts.resumes.future.first()?;
    Some(Link::new(
        *at,
        format!(
            "a watch at {} resumed from resourceVersion={from}, ahead of the server's revision {revision}: it waits for the clock and misses what is written meanwhile",
            fmt(*at)
        ),
    ))
}

/// A watch, after an earlier one, resumed from an empty resourceVersion.
pub(super) fn resumed_empty(facts: &Facts<'_, '_>) -> Option<Link> {
    let at = facts.resumes.empty.first()?;
    Some(Link::new(
        *at,
        format!(
            "a watch at {} resumed with resourceVersion= (empty): from \"now\", skipping whatever changed since its last event",
            fmt(*at)
        ),
    ))
}

/// The rate check failed: a request storm, with the cycle it repeated.
pub(super) fn storm(facts: &Facts<'_, '_>) -> Option<Link> {
    let (rate, pattern) = facts.rate?;
    Some(Link::quoting_in(
        facts.storm.unwrap_or(facts.first_fault.unwrap_or_default()),
        format!(
            "request storm: {}{}",
            rate.detail,
            pattern.map_or(String::new(), |p| format!("; it repeated {p}"))
        ),
        rate,
    ))
}

/// Told 410, it watched again from the very resourceVersion it was told is gone.
pub(super) fn re_watched_gone(facts: &Facts<'_, '_>) -> Option<Link> {
    let (heard, call, at) = facts
        .after_gone
        .iter()
        .find_map(|(heard, call, r)| match r {
            Reaction::SameResourceVersion(at) => Some((heard, call, at)),
            _ => None,
        })?;
    Some(Link::new(
        *heard,
        format!(
            "the server answered the {} from resourceVersion={} at {} with a 410, and the client re-watched from the same resourceVersion at {} instead of relisting",
            call.describe(),
            call.resource_version().unwrap_or_default(),
            fmt(*heard),
            fmt(*at)
        ),
    ))
}
