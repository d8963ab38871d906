//! Survived: the consumer read to the end. The kube-rs judge asks whether its stream ended or
//! the run was stopped as a storm; the exec-client judge whether the client exited, went quiet
//! past the deadline or sat idle midway.

use std::time::Duration;

use crate::apiserver::storm_words;
use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::trace::ConsumerStop;
use crate::verdict::scorecard::Check;

/// The kube-rs watcher's stream: `ended` how it ended, if it did; `storm` when the run was
/// stopped as a request storm (`max_requests` the server's bound, for its words).
pub(in crate::verdict) fn stream_survived(
    ended: Option<(Duration, &ConsumerStop)>,
    storm: Option<(Duration, u64, Option<Duration>)>,
    max_requests: u64,
) -> Check {
    match (ended, storm) {
        (Some((at, cause)), _) => Check {
            name: CheckName::Survived,
            passed: false,
            detail: format!("the stream ended at {}: {cause}", fmt(at)),
        },
        (None, Some((at, n, burst))) => Check {
            name: CheckName::Survived,
            passed: false,
            detail: format!(
                "the run was stopped at {} as a request storm: {}",
                fmt(at),
                storm_words(n, burst, max_requests)
            ),
        },
        (None, None) => Check {
            name: CheckName::Survived,
            passed: true,
            detail: "the consumer read to the end".into(),
        },
    }
}

/// What an exec client was doing towards the end.
pub(in crate::verdict) struct ClientActivity<'a> {
    /// When its process exited before the end, and its status in words.
    pub(in crate::verdict) exited: Option<(Duration, &'a str)>,
    /// It had a watch open or a request pending at the end, or made one within the deadline.
    pub(in crate::verdict) active: bool,
    /// It made any list or watch request at all.
    pub(in crate::verdict) made_requests: bool,
    /// When its last request was made or ended.
    pub(in crate::verdict) quiet_since: Option<Duration>,
    /// A stretch after the first fault, longer than the deadline, with nothing open or made.
    pub(in crate::verdict) idle: Option<(Duration, Duration)>,
}

/// An exec client still at work at `end`, not stuck midway; `speed` how many times faster than
/// real time the timeline played.
pub(in crate::verdict) fn client_survived(
    activity: &ClientActivity<'_>,
    end: Duration,
    deadline: Duration,
    speed: u32,
) -> Check {
    let detail = match (activity.exited, activity.active, activity.made_requests) {
        (Some((at, status)), _, _) => format!(
            "the client exited ({status}) at {}, before the end at {}",
            fmt(at),
            fmt(end)
        ),
        (None, true, _) => "still watching at the end".to_owned(),
        (None, false, false) => "it made no list or watch request".to_owned(),
        (None, false, true) => format!(
            "it had no open watch and made no request from {} to the end at {}",
            fmt(activity.quiet_since.unwrap_or_default()),
            fmt(end)
        ),
    };
    let detail = match activity.idle {
        Some((from, to)) if activity.active && activity.exited.is_none() => format!(
            "it had no open watch and made no request from {} to {}, {}{} (deadline {})",
            fmt(from),
            fmt(to),
            fmt(to - from),
            own_wait_words(to - from, speed),
            fmt(deadline)
        ),
        _ => detail,
    };
    Check {
        name: CheckName::Survived,
        passed: activity.exited.is_none() && activity.active && activity.idle.is_none(),
        detail,
    }
}

/// `gap` when it was the client's own wait on a timeline played `speed` times faster: what it
/// would have been at 1×.
fn own_wait_words(gap: Duration, speed: u32) -> String {
    if speed > 1 {
        format!(
            " of the client's own waiting, which a timeline at {speed}× stretches {speed}-fold: {} at 1×",
            fmt(gap / speed)
        )
    } else {
        String::new()
    }
}
