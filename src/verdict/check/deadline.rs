//! Deadline: back in sync within the scenario's deadline after the last fault. The kube-rs
//! judge wants the view equal to the truth and a healthy request after the last error; the
//! exec-client judge a healthy request after its last failed one, its own waits counted as at
//! 1×.

use std::time::Duration;

use crate::scenario::format_duration as fmt;
use crate::verdict::scorecard::{Check, CheckName};

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
            let when = if at <= last_fault {
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
    last_fault: Duration,
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
