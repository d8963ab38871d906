//! Survived: the consumer read to the end. One check for both judges over one [`Ending`]: the
//! kube-rs judge sees its stream end, the exec judge the client exit, go quiet past the
//! deadline or sit idle midway; either sees the run stopped as a storm.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::trace::ConsumerStop;
use crate::verdict::request_log::StormStop;
use crate::verdict::scorecard::Check;

/// How a client's reading ended, as its judge could see it: the kube-rs judge sees its stream
/// end; the exec judge sees the process exit and its requests stop.
pub(in crate::verdict) enum Ending<'a> {
    /// It was still reading at the end.
    ReadOn,
    /// The kube-rs consumer's stream ended, and how.
    StreamEnded(Duration, &'a ConsumerStop),
    /// The run was stopped as a request storm.
    Storm(StormStop),
    /// Its process exited before the end, with its status in words.
    Exited(Duration, &'a str),
    /// It made no list or watch request at all.
    NoRequest,
    /// No watch open and no request made from when its last request was made or ended to
    /// the end, longer than the deadline.
    Quiet(Duration),
    /// A stretch after the first fault, longer than the deadline, with nothing open or made,
    /// though it was at work again by the end.
    Idle(Duration, Duration),
}

/// Survived: it read to the end. `end` the run's end, `deadline` the scenario's, `speed` how
/// many times faster than real time the timeline played (a client's own waits stretch with
/// it), `max_requests` the server's storm bound, for its words.
pub(in crate::verdict) fn survived(
    ending: &Ending<'_>,
    end: Duration,
    (deadline, speed): (Duration, u32),
    max_requests: u64,
) -> Check {
    let detail = match *ending {
        Ending::ReadOn => "the consumer read to the end".to_owned(),
        Ending::StreamEnded(at, cause) => format!("the stream ended at {}: {cause}", fmt(at)),
        Ending::Storm(storm) => storm.words(max_requests),
        Ending::Exited(at, status) => format!(
            "the client exited ({status}) at {}, before the end at {}",
            fmt(at),
            fmt(end)
        ),
        Ending::NoRequest => "it made no list or watch request".to_owned(),
        Ending::Quiet(since) => format!(
            "it had no open watch and made no request from {} to the end at {}",
            fmt(since),
            fmt(end)
        ),
        Ending::Idle(from, to) => format!(
            "it had no open watch and made no request from {} to {}, {}{} (deadline {})",
            fmt(from),
            fmt(to),
            fmt(to - from),
            own_wait_words(to - from, speed),
            fmt(deadline)
        ),
    };
    Check {
        name: CheckName::Survived,
        passed: matches!(ending, Ending::ReadOn),
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

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn check(ending: &Ending<'_>) -> Check {
        survived(ending, S(600), (S(60), 1), 500)
    }

    #[test]
    fn only_a_client_still_reading_at_the_end_survived() {
        assert!(check(&Ending::ReadOn).passed);
        let stopped = ConsumerStop::WatcherReturned;
        for ending in [
            Ending::StreamEnded(S(70), &stopped),
            Ending::Storm(StormStop {
                at: S(70),
                requests: 500,
                burst: None,
            }),
            Ending::Exited(S(70), "exit status 1"),
            Ending::NoRequest,
            Ending::Quiet(S(70)),
            Ending::Idle(S(70), S(200)),
        ] {
            assert!(!check(&ending).passed, "{}", check(&ending).detail);
        }
    }

    #[test]
    fn an_idle_stretch_on_a_sped_up_timeline_is_told_as_at_1x() {
        let idle = survived(&Ending::Idle(S(60), S(1260)), S(1800), (S(60), 10), 500);
        assert_eq!(
            idle.detail,
            "it had no open watch and made no request from 1m to 21m, 20m of the client's own waiting, which a timeline at 10× stretches 10-fold: 2m at 1× (deadline 1m)"
        );
    }
}
