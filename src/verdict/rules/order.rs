//! The order rules are tried in, in one table: the first that fits wins, and when none fits the
//! diagnosis says so ([`Mechanism::Unknown`]) rather than guess.

use std::time::Duration;

use super::client_retry::retry_layer_overslept;
use super::consumer_pace::slow_consumer;
use super::consumer_stops::{consumer_panicked, hung, stopped_on_recoverable_error};
use super::contract::{re_watched_after_gone, resumed_from_behind, retry_after_ignored};
use super::delivery::{event_dropped, gone_without_code, store_never_ready};
use super::explanation::{Explanation, link};
use super::initial_state::init_done_late;
use super::refusals::request_refused;
use super::replicas::lagging_replica;
use super::resume_point::{
    bookmark_ahead_of_events, replayed_from_behind, resumed_from_empty, resumed_from_future,
    resumed_into_reused_revisions, stale_resume_point,
};
use super::run_end::ended_under_fault;
use super::storms::{backoff_reset_by_init, hot_loop_on_clean_ends, hot_loop_without_backoff};
use super::timeouts::{half_open_watch, never_answered, read_timeout_below_bookmarks};
use crate::mechanism::Mechanism;
use crate::verdict::evidence::Evidence;

/// A rule: the story it recognises in a failed run's evidence, if it fits.
type Rule = fn(&Evidence) -> Option<Explanation>;

/// Every rule with the mechanism it finds, in the order they are tried: the first that fits
/// wins. The order is [`Mechanism::ALL`]'s (a test holds the two together); a mechanism told
/// by two stories has two rules.
const RULES: [(Mechanism, Rule); 27] = [
    (Mechanism::Hung, hung),
    (Mechanism::ConsumerPanicked, consumer_panicked),
    (
        Mechanism::StoppedOnRecoverableError,
        stopped_on_recoverable_error,
    ),
    (Mechanism::NeverAnswered, never_answered),
    (Mechanism::HalfOpenWatch, half_open_watch),
    (Mechanism::StoreNeverReady, store_never_ready),
    (Mechanism::InitDoneLate, init_done_late),
    (Mechanism::RequestRefused, request_refused),
    (Mechanism::EventDropped, event_dropped),
    (Mechanism::BookmarkAheadOfEvents, bookmark_ahead_of_events),
    (Mechanism::LaggingReplica, lagging_replica),
    (Mechanism::ResumedFromFuture, resumed_from_future),
    (Mechanism::ResumedFromFuture, resumed_into_reused_revisions),
    (Mechanism::ResumedFromEmpty, resumed_from_empty),
    (Mechanism::GoneWithoutCode, gone_without_code),
    (Mechanism::HotLoopOnCleanEnds, hot_loop_on_clean_ends),
    (Mechanism::HotLoopWithoutBackoff, hot_loop_without_backoff),
    (Mechanism::BackoffResetByInit, backoff_reset_by_init),
    (Mechanism::SlowConsumer, slow_consumer),
    (Mechanism::StaleResumePoint, stale_resume_point),
    (Mechanism::StaleResumePoint, replayed_from_behind),
    (Mechanism::ResumedAfterGone, re_watched_after_gone),
    (Mechanism::ResumedFromBehind, resumed_from_behind),
    (Mechanism::RetryAfterIgnored, retry_after_ignored),
    (
        Mechanism::ReadTimeoutBelowBookmarks,
        read_timeout_below_bookmarks,
    ),
    (Mechanism::RetryLayerOverslept, retry_layer_overslept),
    (Mechanism::EndedUnderFault, ended_under_fault),
];

/// The mechanism behind a failed run.
pub(in crate::verdict) fn diagnose(e: &Evidence) -> Explanation {
    RULES
        .iter()
        .find_map(|(_, rule)| rule(e))
        .unwrap_or_else(|| unknown(e))
}

/// When no rule fits: the first failing check, and the loop the requests made, if any.
fn unknown(e: &Evidence) -> Explanation {
    let mut chain = Vec::new();
    if let Some(check) = e.first_failure() {
        chain.push(link(
            Duration::ZERO,
            format!(
                "no known mechanism fits this run; the first failing check, {:?}: {}",
                check.name, check.detail
            ),
        ));
    }
    if let Some(pattern) = e.pattern() {
        chain.push(link(pattern.first, pattern.describe()));
    }
    Explanation {
        mechanism: Mechanism::Unknown,
        chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_name::CheckName;
    use crate::trace::Trace;
    use crate::verdict::fixtures::*;

    #[test]
    fn when_no_rule_fits_the_diagnosis_says_so() {
        let scenario = scenario(PLAIN);
        let checks = [failed(CheckName::Converged)];
        let trace: Trace = Vec::new();
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &trace, &checks);
        let finding = diagnose(&evidence);
        assert_eq!(finding.mechanism, Mechanism::Unknown);
        assert!(finding.chain[0].text.starts_with("no known mechanism fits"));
    }

    #[test]
    fn the_rules_are_tried_in_the_order_of_every_mechanism() {
        let mut tried: Vec<Mechanism> = RULES.iter().map(|(mechanism, _)| *mechanism).collect();
        tried.dedup();
        tried.push(Mechanism::Unknown);
        assert_eq!(tried, Mechanism::ALL);
    }
}
