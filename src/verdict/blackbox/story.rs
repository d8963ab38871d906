//! The story of a failure: the first mechanism that fits what the client did, and the chain of
//! what happened, in `harness run`'s words. The stories are tried in one table, in the order
//! of [`Mechanism::ALL`], as the kube-rs judge's rules are (a test holds the two together):
//! the outcome's stories (`outcome_story.rs`) and the protocol's breaches (`breach.rs`).

use super::breach::{
    empty_resume, no_backoff_loop, refused_repeat, resumed_after_gone, resumed_from_behind,
    retry_after_ignored,
};
use super::facts::Facts;
use super::outcome_story::{
    half_open, never_answered, re_watched_gone, resumed_ahead, resumed_empty, stopped, storm,
};
use crate::mechanism::Mechanism;
use crate::verdict::scorecard::Link;

/// A story: the link that tells it, if it fits what the client did.
type Story = fn(&Facts<'_, '_>) -> Option<Link>;

/// Every story with the mechanism it tells, in the order they are tried: the first that fits
/// wins. The order is [`Mechanism::ALL`]'s; a mechanism told two ways has two stories.
const STORIES: [(Mechanism, Story); 14] = [
    (Mechanism::StoppedOnRecoverableError, stopped),
    (Mechanism::NeverAnswered, never_answered),
    (Mechanism::HalfOpenWatch, half_open),
    (Mechanism::RequestRefused, refused_repeat),
    (Mechanism::ResumedFromFuture, resumed_ahead),
    (Mechanism::ResumedFromEmpty, resumed_empty),
    (Mechanism::ResumedFromEmpty, empty_resume),
    (Mechanism::HotLoopWithoutBackoff, storm),
    (Mechanism::HotLoopWithoutBackoff, no_backoff_loop),
    (Mechanism::ResumedAfterGone, re_watched_gone),
    (Mechanism::ResumedAfterGone, resumed_after_gone),
    (Mechanism::ResumedFromBehind, resumed_from_behind),
    (Mechanism::RetryAfterIgnored, retry_after_ignored),
    (Mechanism::Unknown, unexplained),
];

/// The mechanism of a failure and its chain.
pub(super) fn tell(facts: &Facts<'_, '_>) -> (Mechanism, Vec<Link>) {
    STORIES
        .iter()
        .find_map(|(mechanism, story)| story(facts).map(|link| (*mechanism, vec![link])))
        .unwrap_or((Mechanism::Unknown, Vec::new()))
}

/// When no story fits: every failing check, in words.
fn unexplained(facts: &Facts<'_, '_>) -> Option<Link> {
    let failing: Vec<&str> = facts
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.detail.as_str())
        .collect();
    Some(Link::new(
        facts.end,
        format!("no rule explains it: {}", failing.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stories_are_tried_in_the_order_of_every_mechanism() {
        let mut tried: Vec<Mechanism> = STORIES.iter().map(|(mechanism, _)| *mechanism).collect();
        tried.dedup();
        let order = |m: &Mechanism| Mechanism::ALL.iter().position(|n| n == m);
        assert!(
            tried.is_sorted_by_key(order),
            "the stories are not in Mechanism::ALL's order: {tried:?}"
        );
        assert_eq!(tried.last(), Some(&Mechanism::Unknown));
    }
}
