//! Deadline: back within the scenario's deadline after the last fault. One check for both
//! judges over one [`Recovery`]; what "back" means is what the judge can see ([`Sight`]): the
//! kube-rs judge, its view equal to the truth and a healthy request after its last error; the
//! exec judge, a healthy request after its last failed one, its own waits counted as at 1×.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::{Scenario, format_duration as fmt};
use crate::trace::{Trace, TraceKind};
use crate::verdict::scorecard::Check;

/// What a judge sees a client come back by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::verdict) enum Sight {
    /// The kube-rs watcher's view against the truth: back once in sync.
    View,
    /// An exec client's requests: back once one is answered well.
    Requests,
}

/// How long a client took to be back: the span since the last fault, how much of it was its
/// own waiting, and the span with that waiting counted as at 1×.
#[derive(Debug, Clone, Copy)]
pub(in crate::verdict) struct BackAfter {
    pub(in crate::verdict) span: Duration,
    pub(in crate::verdict) own: Duration,
    pub(in crate::verdict) as_1x: Duration,
}

impl BackAfter {
    /// Back `span` after the last fault, none of it waiting a sped-up timeline stretched.
    pub(in crate::verdict) fn as_played(span: Duration) -> Self {
        Self {
            span,
            own: Duration::ZERO,
            as_1x: span,
        }
    }
}

/// Whether, and when, a client was back after it was disrupted.
#[derive(Debug, Clone, Copy)]
pub(in crate::verdict) enum Comeback {
    /// Nothing disrupted it after the first fault.
    Undisrupted,
    /// Back at, and how long after the last fault that was.
    Back(Duration, BackAfter),
    /// Its view did not end equal to the truth (or the run ended before it could).
    NeverInSync,
    /// Its view matched the truth, but its errors went on to the end, the last at.
    ErrorsToTheEnd(Duration),
    /// Disrupted at, and no request of its answered well after.
    NoHealthyRequest(Duration),
}

/// A client's recovery, as its judge saw it.
pub(in crate::verdict) struct Recovery {
    pub(in crate::verdict) sight: Sight,
    pub(in crate::verdict) comeback: Comeback,
    /// When the last fault ended (or last acted), if one played at all: without one, "after
    /// the last fault" would be words about a fault that never was.
    pub(in crate::verdict) last_fault: Option<Duration>,
    /// Where the run stopped: its end, or earlier when it was stopped as a storm.
    pub(in crate::verdict) stopped: Duration,
    /// How many times faster than real time the timeline played.
    pub(in crate::verdict) speed: u32,
}

/// When the last fault ended: as the timeline says, or later when a fault aimed by a count
/// acted later on one of the client's requests (`its`, by id): a request it hit, a damaged
/// event line, which the timeline cannot know.
pub(in crate::verdict) fn last_fault(
    scenario: &Scenario,
    trace: &Trace,
    its: impl Fn(u64) -> bool,
) -> Option<Duration> {
    let acted = trace
        .iter()
        .filter(|e| match &e.kind {
            TraceKind::FaultHit { request, .. } => its(*request),
            TraceKind::Sent { request, event } => event.damaged.is_some() && its(*request),
            _ => false,
        })
        .map(|e| e.at)
        .max();
    scenario.last_fault_end().max(acted)
}

/// Back within `deadline` of the last fault.
pub(in crate::verdict) fn back_within(recovery: &Recovery, deadline: Duration) -> Check {
    let last = recovery.last_fault.unwrap_or_default();
    let (passed, detail) = match recovery.comeback {
        Comeback::Undisrupted => (
            true,
            match recovery.sight {
                Sight::View => "never out of sync: no recovery needed",
                Sight::Requests => "no request of its failed after the first fault",
            }
            .to_owned(),
        ),
        Comeback::Back(at, back) => (
            back.as_1x <= deadline,
            back_words(recovery, at, back, deadline),
        ),
        Comeback::NeverInSync => (false, "never back in sync".to_owned()),
        Comeback::ErrorsToTheEnd(last_error) => (
            false,
            format!(
                "never settled: the view matched the truth, but the watcher's errors went on to the end of the run, the last at {} with no healthy request and no event after it",
                fmt(last_error)
            ),
        ),
        // A run stopped early (a storm) never reached the faults' end: say where it ended.
        Comeback::NoHealthyRequest(from) if recovery.stopped < last => (
            false,
            format!(
                "disrupted at {} and no healthy request before the run ended at {}, short of the faults' end at {}",
                fmt(from),
                fmt(recovery.stopped),
                fmt(last)
            ),
        ),
        Comeback::NoHealthyRequest(from) => (
            false,
            format!(
                "disrupted at {} and no healthy request after the last fault ended at {}",
                fmt(from),
                fmt(last)
            ),
        ),
    };
    Check {
        name: CheckName::Deadline,
        passed,
        detail,
    }
}

/// `back in sync at 5m, 1m after the last fault ended at 4m (deadline 2m)`, with the client's
/// own waiting told as at 1× where a sped-up timeline stretched it.
fn back_words(recovery: &Recovery, at: Duration, back: BackAfter, deadline: Duration) -> String {
    let what = match recovery.sight {
        Sight::View => "back in sync",
        Sight::Requests => "a healthy request",
    };
    let when = match recovery.last_fault {
        None => "with no fault having played".to_owned(),
        Some(last) if at <= last => format!("before the last fault ended at {}", fmt(last)),
        Some(last) => format!(
            "{} after the last fault ended at {}",
            fmt(back.span),
            fmt(last)
        ),
    };
    let speed = recovery.speed;
    let own = if speed > 1 && !back.own.is_zero() {
        format!(
            "; {} of it the client's own waiting with nothing open, which a timeline at {speed}× stretches {speed}-fold: {} at 1×",
            fmt(back.own),
            fmt(back.as_1x)
        )
    } else {
        String::new()
    };
    format!(
        "{what} at {}, {when}{own} (deadline {})",
        fmt(at),
        fmt(deadline)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn recovery(sight: Sight, comeback: Comeback, last_fault: Option<u64>) -> Recovery {
        Recovery {
            sight,
            comeback,
            last_fault: last_fault.map(S),
            stopped: S(900),
            speed: 1,
        }
    }

    fn back(at: u64, last_fault: u64) -> Comeback {
        Comeback::Back(S(at), BackAfter::as_played(S(at) - S(last_fault)))
    }

    #[test]
    fn back_in_sync_names_the_last_fault_only_when_one_played() {
        let after_a_fault = back_within(&recovery(Sight::View, back(30, 5), Some(5)), S(60));
        assert_eq!(
            after_a_fault.detail,
            "back in sync at 30s, 25s after the last fault ended at 5s (deadline 1m)"
        );
        let without = back_within(&recovery(Sight::View, back(30, 0), None), S(60));
        assert_eq!(
            without.detail,
            "back in sync at 30s, with no fault having played (deadline 1m)"
        );
    }

    #[test]
    fn back_passes_within_the_deadline_and_fails_past_it_whichever_judge_saw_it() {
        for sight in [Sight::View, Sight::Requests] {
            assert!(back_within(&recovery(sight, back(65, 5), Some(5)), S(60)).passed);
            assert!(!back_within(&recovery(sight, back(66, 5), Some(5)), S(60)).passed);
            assert!(back_within(&recovery(sight, Comeback::Undisrupted, Some(5)), S(60)).passed);
        }
        let requests = back_within(&recovery(Sight::Requests, back(66, 5), Some(5)), S(60));
        assert_eq!(
            requests.detail,
            "a healthy request at 1m6s, 1m1s after the last fault ended at 5s (deadline 1m)"
        );
    }

    #[test]
    fn a_client_s_own_waiting_on_a_sped_up_timeline_counts_as_at_1x() {
        let waited = Comeback::Back(
            S(600),
            BackAfter {
                span: S(540),
                own: S(500),
                as_1x: S(90),
            },
        );
        let check = back_within(
            &Recovery {
                speed: 10,
                ..recovery(Sight::Requests, waited, Some(60))
            },
            S(120),
        );
        assert!(check.passed);
        assert!(
            check
                .detail
                .contains("8m20s of it the client's own waiting"),
            "{}",
            check.detail
        );
    }

    #[test]
    fn a_client_whose_run_stopped_short_of_the_faults_end_is_not_said_to_have_passed_it() {
        let stopped = back_within(
            &Recovery {
                stopped: S(200),
                ..recovery(
                    Sight::Requests,
                    Comeback::NoHealthyRequest(S(10)),
                    Some(420),
                )
            },
            S(60),
        );
        assert!(!stopped.passed);
        assert_eq!(
            stopped.detail,
            "disrupted at 10s and no healthy request before the run ended at 3m20s, short of the faults' end at 7m"
        );
        let ran_on = back_within(
            &recovery(
                Sight::Requests,
                Comeback::NoHealthyRequest(S(10)),
                Some(420),
            ),
            S(60),
        );
        assert_eq!(
            ran_on.detail,
            "disrupted at 10s and no healthy request after the last fault ended at 7m"
        );
    }

    #[test]
    fn a_view_out_of_sync_or_errors_to_the_end_never_come_back() {
        assert!(
            !back_within(
                &recovery(Sight::View, Comeback::NeverInSync, Some(5)),
                S(60)
            )
            .passed
        );
        let unsettled = back_within(
            &recovery(Sight::View, Comeback::ErrorsToTheEnd(S(500)), Some(5)),
            S(60),
        );
        assert!(!unsettled.passed);
        assert!(
            unsettled.detail.starts_with("never settled"),
            "{}",
            unsettled.detail
        );
    }
}
