//! Rules for a watcher that broke the client's side of the protocol (the protocol checks:
//! `relist_after_gone`, `resume_from_last`, `retry_after`), whatever its view showed: each
//! fits only when its check failed, and tells the breach the check found.

use std::time::Duration;

use super::client_retry::RETRIED;
use super::explanation::{Explanation, caused, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::calls;
use crate::verdict::check::relist_after_gone::resumed_after_gone;
use crate::verdict::check::resume_from_last::{BadResume, bad_resumes};
use crate::verdict::check::retry_after::too_soon;
use crate::verdict::evidence::Evidence;

/// What the view came to, for the last link: a breach is one whatever the view showed.
fn outcome(e: &Evidence) -> &'static str {
    if e.checks
        .iter()
        .filter(|c| !c.name.protocol())
        .all(|c| c.passed)
    {
        "its view came back all the same, because the fault healed, not because the watcher kept the protocol"
    } else {
        "and its view did not come back in time either"
    }
}

pub(super) fn re_watched_after_gone(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::RelistAfterGone) {
        return None;
    }
    let calls = calls(e.trace, |_| true, Duration::MAX);
    let breaches = resumed_after_gone(&calls);
    let first = breaches.first()?;
    let gone = first.gone.record;
    let answer = e.answer(gone);
    let at_connect = gone.status == 410;
    let how = if at_connect {
        "kube's watcher takes a 410 at connect as a failed watch start (`WatchStartFailed`) and keeps its resume point (kube-runtime `watcher.rs`, `State::InitListed`): it relists only on a 410 inside a stream"
    } else {
        "kube's watcher did not take it for a 410"
    };
    found(
        Mechanism::ResumedAfterGone,
        vec![
            link(
                first.heard,
                format!(
                    "the server answered the {} from resourceVersion={} (request #{}) at {} with {answer}{}: the history it resumed from is gone",
                    first.gone.noun(),
                    first.gone.resource_version().unwrap_or_default(),
                    gone.id,
                    fmt(first.heard),
                    caused(e, first.heard, gone, &answer),
                ),
            ),
            link(
                first.resume.arrived,
                format!(
                    "{how}; request #{} at {} resumed from resourceVersion={} with no relist first ({} of its resumes followed a 410 so)",
                    first.resume.record.id,
                    fmt(first.resume.arrived),
                    first.resume.resource_version().unwrap_or_default(),
                    breaches.len(),
                ),
            ),
            link(
                first.resume.arrived,
                format!(
                    "a client must relist after any 410 (client-go's reflector does, on `IsExpired` or `IsGone`); {}",
                    outcome(e)
                ),
            ),
        ],
    )
}

pub(super) fn resumed_from_behind(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::ResumeFromLast) {
        return None;
    }
    let calls = calls(e.trace, |_| true, Duration::MAX);
    let bad = bad_resumes(e.trace, &calls, e.lag);
    let (watch, from, last, sent_at) = bad.iter().find_map(|(watch, how)| match how {
        BadResume::Behind {
            from,
            last,
            sent_at,
        } => Some((watch, *from, *last, *sent_at)),
        BadResume::Empty => None,
    })?;
    let behind = bad
        .iter()
        .filter(|(_, how)| matches!(how, BadResume::Behind { .. }))
        .count();
    found(
        Mechanism::ResumedFromBehind,
        vec![
            link(
                sent_at,
                format!(
                    "the server sent it resourceVersion {last} at {}",
                    fmt(sent_at)
                ),
            ),
            link(
                watch.arrived,
                format!(
                    "request #{} at {} resumed from resourceVersion {from}, behind it, with no relist between; {behind} watches resumed from behind so",
                    watch.record.id,
                    fmt(watch.arrived),
                ),
            ),
            link(
                watch.arrived,
                format!(
                    "a client resumes from the last resourceVersion it was sent, or replays what it has already seen; {}",
                    outcome(e)
                ),
            ),
        ],
    )
}

pub(super) fn retry_after_ignored(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::RetryAfter) {
        return None;
    }
    let calls = calls(e.trace, |_| true, Duration::MAX);
    let soon = too_soon(&calls, |(from, to)| to - from);
    let first = soon.first()?;
    let told = first.told.record;
    let answer = e.answer(told);
    let who = if !e.retry {
        "kube-client's retry layer, the one part of kube that reads `Retry-After`, is off in this set-up (`client: { retry: false }`), so the watcher's own backoff retried"
    } else if RETRIED.contains(&told.status) {
        "kube-client's retry layer reads `Retry-After`, but it had given up on the request (15 tries), so the watcher's own backoff retried"
    } else {
        "kube-client's retry layer retries only 429, 503 and 504, so the watcher's own backoff retried"
    };
    found(
        Mechanism::RetryAfterIgnored,
        vec![
            link(
                first.told.at,
                format!(
                    "the server answered the {} (request #{}) at {} with {answer} and `Retry-After: {}`{}",
                    first.told.noun(),
                    told.id,
                    fmt(first.told.at),
                    first.after.as_secs(),
                    caused(e, first.told.at, told, &answer),
                ),
            ),
            link(
                first.next.arrived,
                format!(
                    "{who}: request #{} came {} later; {} of the {} answers with a Retry-After were not waited out",
                    first.next.record.id,
                    fmt(first.waited),
                    soon.len(),
                    calls
                        .iter()
                        .filter(|c| c.record.retry_after.is_some_and(|s| s > 0))
                        .count(),
                ),
            ),
            link(
                first.next.arrived,
                format!(
                    "a client waits out a Retry-After (client-go does, for any status); {}",
                    outcome(e)
                ),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{EventType, Trace, Verb, WatchEnd};
    use crate::verdict::fixtures::*;

    /// A watch from 5 ended, and its re-watch from 5 answered 410 at connect, then `next`.
    fn told_gone_at_connect(next: &str) -> Trace {
        vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
            ended(120, 2, WatchEnd::Timeout),
            fault(121, "watch_410"),
            request(121, 3, Verb::Watch, "watch=1&resourceVersion=5", 410),
            hit(121, 3, "watch_410"),
            request(
                122,
                4,
                if next.is_empty() {
                    Verb::List
                } else {
                    Verb::Watch
                },
                next,
                200,
            ),
        ]
    }

    #[test]
    fn a_re_watch_from_the_revision_a_410_at_connect_said_is_gone_is_found() {
        let checks = [failed(CheckName::RelistAfterGone)];
        let trace = told_gone_at_connect("watch=1&resourceVersion=5");
        let found = explain(re_watched_after_gone, PLAIN, &trace, &checks).expect("it fits");
        assert_eq!(found.mechanism, Mechanism::ResumedAfterGone);
        assert!(
            found.chain[0].text.contains("(watch_410 at"),
            "{:?}",
            found.chain
        );
    }

    #[test]
    fn a_relist_after_the_410_is_not_a_resume_after_gone() {
        let checks = [failed(CheckName::RelistAfterGone)];
        let trace = told_gone_at_connect("");
        assert_eq!(apply(re_watched_after_gone, PLAIN, &trace, &checks), None);
        let breach = told_gone_at_connect("watch=1&resourceVersion=5");
        assert_eq!(
            apply(re_watched_after_gone, PLAIN, &breach, &[]),
            None,
            "the rule fits only a failed check"
        );
    }

    fn resumed_from(rv: u64) -> Trace {
        vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
            sent(100, 2, EventType::Bookmark, Some(9), None),
            ended(290, 2, WatchEnd::Timeout),
            request(
                290,
                3,
                Verb::Watch,
                &format!("watch=1&resourceVersion={rv}"),
                200,
            ),
        ]
    }

    #[test]
    fn a_resume_behind_the_last_bookmark_is_found_and_one_from_it_is_not() {
        let checks = [failed(CheckName::ResumeFromLast)];
        assert_eq!(
            apply(resumed_from_behind, PLAIN, &resumed_from(5), &checks),
            Some(Mechanism::ResumedFromBehind)
        );
        assert_eq!(
            apply(resumed_from_behind, PLAIN, &resumed_from(9), &checks),
            None
        );
    }

    fn retried_after(secs: u64) -> Trace {
        vec![
            client(None),
            request(0, 1, Verb::List, "", 200),
            fault(120, "http_error"),
            throttled(120, 2, Verb::Watch, 429, 2),
            hit(120, 2, "http_error"),
            request(120 + secs, 3, Verb::Watch, "watch=1&resourceVersion=5", 200),
        ]
    }

    #[test]
    fn a_retry_sooner_than_retry_after_is_found_and_one_after_it_is_not() {
        let checks = [failed(CheckName::RetryAfter)];
        let found = explain(retry_after_ignored, PLAIN, &retried_after(1), &checks).expect("fits");
        assert_eq!(found.mechanism, Mechanism::RetryAfterIgnored);
        assert!(
            found.chain[1].text.contains("had given up"),
            "{:?}",
            found.chain
        );
        assert_eq!(
            apply(retry_after_ignored, PLAIN, &retried_after(2), &checks),
            None
        );
    }
}
