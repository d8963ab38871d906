//! The story of a failure: the first mechanism that fits what the client did, and the chain of
//! what happened, in `harness run`'s words.

use std::time::Duration;

use super::breach::Breach;
use super::reactions::Resumes;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::WatchEnd;
use crate::verdict::call::Call;
use crate::verdict::reaction::Reaction;
use crate::verdict::scorecard::{Check, Link};

/// What the story is told from.
pub(super) struct Facts<'f, 'a> {
    pub(super) calls: &'f [Call<'a>],
    pub(super) checks: &'f [Check],
    pub(super) end: Duration,
    /// When the rate check failed: when the storm was stopped (if it was), the check and the
    /// cycle the client repeated.
    pub(super) rate: Option<(Option<Duration>, &'f Check, Option<&'f str>)>,
    pub(super) first_fault: Option<Duration>,
    pub(super) pending: Option<&'f Call<'a>>,
    pub(super) after_gone: &'f [(Duration, &'f Call<'a>, Reaction)],
    /// When the survived check failed, the check.
    pub(super) survived: Option<&'f Check>,
    pub(super) resumes: &'f Resumes,
    pub(super) open: Option<&'f Call<'a>>,
    /// When the kept-up check failed, the check.
    pub(super) behind: Option<&'f Check>,
    /// The first breach of the protocol the checks found, if any.
    pub(super) breach: Option<Breach>,
}

/// The mechanism of a failure and its chain.
pub(super) fn tell(facts: &Facts<'_, '_>) -> (Mechanism, Vec<Link>) {
    let mut chain: Vec<Link> = Vec::new();
    // The check whose words the chain's first link carries, if it quotes one.
    let mut quoted = None;
    let mut link = |at: Duration, text: String| chain.push(Link::new(at, text));
    let mechanism = if let Some((stopped, rate, pattern)) = facts.rate {
        link(
            stopped.unwrap_or(facts.first_fault.unwrap_or_default()),
            format!(
                "request storm: {}{}",
                rate.detail,
                pattern.map_or(String::new(), |p| format!("; it repeated {p}"))
            ),
        );
        quoted = Some(rate.name);
        Mechanism::HotLoopWithoutBackoff
    } else if let Some(call) = facts.pending {
        link(
            call.at,
            format!(
                "the {} request at {} was never answered: its response head never came, and the client waited on it to the end",
                call.noun(),
                fmt(call.at)
            ),
        );
        Mechanism::NeverAnswered
    } else if let Some((heard, call, Reaction::SameResourceVersion(at))) = facts
        .after_gone
        .iter()
        .find(|(_, _, r)| matches!(r, Reaction::SameResourceVersion(_)))
    {
        link(
            *heard,
            format!(
                "the server answered the {} from resourceVersion={} at {} with a 410, and the client re-watched from the same resourceVersion at {} instead of relisting",
                call.describe(),
                call.resource_version().unwrap_or_default(),
                fmt(*heard),
                fmt(*at)
            ),
        );
        Mechanism::ResumedAfterGone
    } else if let Some((last, stopped)) = facts
        .calls
        .last()
        .zip(facts.survived)
        .filter(|(last, _)| last.ended.is_some() || last.failed())
    {
        let (at, text) = stopped_after(last, stopped);
        link(at, text);
        quoted = Some(stopped.name);
        Mechanism::StoppedOnRecoverableError
    } else if let Some((at, from, revision)) = facts.resumes.future.first() {
        link(
            *at,
            format!(
                "a watch at {} resumed from resourceVersion={from}, ahead of the server's revision {revision}: it waits for the clock and misses what is written meanwhile",
                fmt(*at)
            ),
        );
        Mechanism::ResumedFromFuture
    } else if let Some(at) = facts.resumes.empty.first() {
        link(
            *at,
            format!(
                "a watch at {} resumed with resourceVersion= (empty): from \"now\", skipping whatever changed since its last event",
                fmt(*at)
            ),
        );
        Mechanism::ResumedFromEmpty
    } else if let Some((watch, behind)) = facts
        .open
        .filter(|w| matches!(w.finally, Some(WatchEnd::Stalled)))
        .zip(facts.behind)
    {
        link(
            watch.at,
            format!(
                "its watch went half-open (nothing more arrived) and it did not give up on it: {}",
                behind.detail
            ),
        );
        quoted = Some(behind.name);
        Mechanism::HalfOpenWatch
    } else if let Some(breach) = &facts.breach {
        link(breach.at, breach.text.clone());
        breach.mechanism
    } else {
        let failing: Vec<&str> = facts
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.as_str())
            .collect();
        link(
            facts.end,
            format!("no rule explains it: {}", failing.join("; ")),
        );
        Mechanism::Unknown
    };
    if let Some(first) = chain.first_mut() {
        first.quotes = quoted;
    }
    (mechanism, chain)
}

/// It stopped after its `last` request ended: every such end is one a client recovers from,
/// by re-watching, or by relisting after a 410.
fn stopped_after(last: &Call<'_>, stopped: &Check) -> (Duration, String) {
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
        stopped.detail,
        if last.gone().is_some() {
            "relisting"
        } else {
            "re-watching from its last resourceVersion"
        }
    );
    (at, text)
}
