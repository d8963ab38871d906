//! Deadline: back in sync within the scenario's deadline after the last fault. The kube-rs
//! judge wants the view equal to the truth and a healthy request after the last error; the
//! exec-client judge a healthy request after its last failed one, its own waits counted as at
//! 1×.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::verdict::scorecard::Check;

/// When the kube-rs watcher was disrupted and back in sync.
pub(in crate::verdict) struct Recovery {
    /// The view ended equal to the truth, and the run neither ended early nor was stopped.
    pub(in crate::verdict) converged: bool,
    pub(in crate::verdict) disrupted_at: Option<Duration>,
    pub(in crate::verdict) recovered_at: Option<Duration>,
    /// The last of the watcher's errors that counted as a disruption.
    pub(in crate::verdict) last_error: Option<Duration>,
    /// When the last fault ended (or last acted).
    pub(in crate::verdict) last_fault: Duration,
    /// Whether any fault played at all: without one, "after the last fault" would be words
    /// about a fault that never was.
    pub(in crate::verdict) faulted: bool,
}

/// The kube-rs watcher back in sync within `deadline`.
pub(in crate::verdict) fn back_in_sync(recovery: &Recovery, deadline: Duration) -> Check {
    let last_fault = recovery.last_fault;
    match (recovery.converged, recovery.recovered_at) {
        (false, _) => Check {
            name: CheckName::Deadline,
            passed: false,
            detail: "never back in sync".into(),
        },
        (true, None) if recovery.disrupted_at.is_none() => Check {
            name: CheckName::Deadline,
            passed: true,
            detail: "never out of sync: no recovery needed".into(),
        },
        (true, None) => Check {
            name: CheckName::Deadline,
            passed: false,
            detail: format!(
                "never settled: the view matched the truth, but the watcher's errors went on to the end of the run, the last at {} with no healthy request and no event after it",
                fmt(recovery.last_error.unwrap_or_default())
            ),
        },
        (true, Some(at)) => {
            let after = at.saturating_sub(last_fault);
            let when = if !recovery.faulted {
                "with no fault having played".to_owned()
            } else if at <= last_fault {
                format!("before the last fault ended at {}", fmt(last_fault))
            } else {
                format!(
                    "{} after the last fault ended at {}",
                    fmt(after),
                    fmt(last_fault)
                )
            };
            Check {
                name: CheckName::Deadline,
                passed: after <= deadline,
                detail: format!(
                    "back in sync at {}, {when} (deadline {})",
                    fmt(at),
                    fmt(deadline)
                ),
            }
        }
    }
}

/// How long an exec client took to be back: the span since the last fault, how much of it was
/// its own waiting, and the span with that waiting counted as at 1×.
#[derive(Debug, Clone, Copy)]
pub(in crate::verdict) struct BackAfter {
    pub(in crate::verdict) span: Duration,
    pub(in crate::verdict) own: Duration,
    pub(in crate::verdict) as_1x: Duration,
}

/// An exec client back with a healthy request within `deadline`: `recovered` when, and how
/// long it took; `speed` how many times faster than real time the timeline played.
pub(in crate::verdict) fn client_back(
    disrupted_at: Option<Duration>,
    recovered: Option<(Duration, BackAfter)>,
    (last_fault, end): (Duration, Duration),
    deadline: Duration,
    speed: u32,
) -> Check {
    let passed = match (disrupted_at, recovered) {
        (None, _) => true,
        (Some(_), Some((_, back))) => back.as_1x <= deadline,
        (Some(_), None) => false,
    };
    let detail = match (disrupted_at, recovered) {
        (None, _) => "no request of its failed after the first fault".to_owned(),
        (Some(_), Some((at, back))) => format!(
            "a healthy request at {}, {} after the last fault ended at {}{} (deadline {})",
            fmt(at),
            fmt(back.span),
            fmt(last_fault),
            if speed > 1 && !back.own.is_zero() {
                format!(
                    "; {} of it the client's own waiting with nothing open, which a timeline at {speed}× stretches {speed}-fold: {} at 1×",
                    fmt(back.own),
                    fmt(back.as_1x)
                )
            } else {
                String::new()
            },
            fmt(deadline),
        ),
        // A run stopped early (a storm) never reached the faults' end: say where it ended.
        (Some(from), None) if end < last_fault => format!(
            "disrupted at {} and no healthy request before the run ended at {}, short of the faults' end at {}",
            fmt(from),
            fmt(end),
            fmt(last_fault)
        ),
        (Some(from), None) => format!(
            "disrupted at {} and no healthy request after the last fault ended at {}",
            fmt(from),
            fmt(last_fault)
        ),
    };
    Check {
        name: CheckName::Deadline,
        passed,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn recovery(faulted: bool) -> Recovery {
        Recovery {
            converged: true,
            disrupted_at: Some(S(10)),
            recovered_at: Some(S(30)),
            last_error: None,
            last_fault: if faulted { S(5) } else { Duration::ZERO },
            faulted,
        }
    }

    #[test]
    fn back_in_sync_names_the_last_fault_only_when_one_played() {
        let after_a_fault = back_in_sync(&recovery(true), S(60));
        assert_eq!(
            after_a_fault.detail,
            "back in sync at 30s, 25s after the last fault ended at 5s (deadline 1m)"
        );
        let without = back_in_sync(&recovery(false), S(60));
        assert_eq!(
            without.detail,
            "back in sync at 30s, with no fault having played (deadline 1m)"
        );
    }

    #[test]
    fn a_client_whose_run_stopped_short_of_the_faults_end_is_not_said_to_have_passed_it() {
        let stopped = client_back(Some(S(10)), None, (S(420), S(200)), S(60), 1);
        assert!(!stopped.passed);
        assert_eq!(
            stopped.detail,
            "disrupted at 10s and no healthy request before the run ended at 3m20s, short of the faults' end at 7m"
        );
        let ran_on = client_back(Some(S(10)), None, (S(420), S(900)), S(60), 1);
        assert_eq!(
            ran_on.detail,
            "disrupted at 10s and no healthy request after the last fault ended at 7m"
        );
    }
}
