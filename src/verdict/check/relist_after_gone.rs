//! Relist after gone: once the server says the history a client resumed from is gone (a 410,
//! whatever its form: an in-stream ERROR, with or without its code; an HTTP 410 at connect; a
//! LIST or `continue` page answered 410), the client must load the state again (a LIST, a
//! streaming list, a watch from the current state) before it resumes from any revision
//! (reference doc §1.5, §2.4; client-go's reflector relists on any `IsExpired`/`IsGone`).
//! A client that resumes instead is told 410 again at best, and at worst, behind a proxy that
//! stops refusing, serves on from a point whose history it was told it lacks.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::{Call, by_arrival};
use crate::verdict::scorecard::Check;

/// A resume with no relist after the server said its history was gone.
pub(in crate::verdict) struct ResumedAfterGone<'c, 'a> {
    /// When the client heard the 410.
    pub(in crate::verdict) heard: Duration,
    /// The request the 410 answered or ended.
    pub(in crate::verdict) gone: &'c Call<'a>,
    /// The first request after it that resumed instead of relisting.
    pub(in crate::verdict) resume: &'c Call<'a>,
}

/// Each 410 the client heard and then resumed after without relisting first, oldest first.
pub(in crate::verdict) fn resumed_after_gone<'c, 'a>(
    calls: &'c [Call<'a>],
) -> Vec<ResumedAfterGone<'c, 'a>> {
    let by_arrival = by_arrival(calls);
    let mut breaches = Vec::new();
    for gone in calls {
        let Some(heard) = gone.gone() else { continue };
        let reads = gone.reads();
        let from = by_arrival.partition_point(|c| c.arrived < heard);
        let after = by_arrival[from..]
            .iter()
            .filter(|c| c.record.id > gone.record.id && c.reads() == reads);
        for next in after {
            if next.relists() {
                if next.record.status == 200 {
                    break;
                }
            } else if next.resumes() {
                breaches.push(ResumedAfterGone {
                    heard,
                    gone,
                    resume: next,
                });
                break;
            }
        }
    }
    breaches
}

/// The check: every 410 was followed by a relist before any resume.
pub(in crate::verdict) fn relisted_after_gone(calls: &[Call<'_>]) -> Check {
    let gone = calls.iter().filter(|c| c.gone().is_some()).count();
    let breaches = resumed_after_gone(calls);
    let detail = match breaches.first() {
        None if gone == 0 => "the server never said a resume point was gone".to_owned(),
        None if gone == 1 => {
            "after the 410 it was sent, it loaded the state again before resuming".to_owned()
        }
        None => format!(
            "after each of the {gone} 410s it was sent, it loaded the state again before resuming"
        ),
        Some(first) => format!(
            "{} of the {gone} 410s it was sent were followed by a resume with no relist first: request #{} ({}) was told at {} that its history was gone, and request #{} ({}{}) at {} resumed anyway",
            breaches.len(),
            first.gone.record.id,
            first.gone.describe(),
            fmt(first.heard),
            first.resume.record.id,
            first.resume.noun(),
            first
                .resume
                .resource_version()
                .map(|rv| format!(" from resourceVersion={rv}"))
                .unwrap_or_default(),
            fmt(first.resume.arrived),
        ),
    };
    Check {
        name: CheckName::RelistAfterGone,
        passed: breaches.is_empty(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Cut, Trace, Verb, WatchEnd};
    use crate::verdict::call::calls;
    use crate::verdict::fixtures::*;

    fn judged(trace: &Trace) -> Check {
        relisted_after_gone(&calls(trace, |_| true, S(3600)))
    }

    /// A list, a watch from its revision that a fault cuts, and a re-watch the server
    /// answers 410 at connect.
    fn told_gone_at_connect() -> Trace {
        vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
            ended(
                120,
                2,
                WatchEnd::Cut {
                    how: Cut::Reset,
                    by: None,
                },
            ),
            request(121, 3, Verb::Watch, "watch=1&resourceVersion=5", 410),
        ]
    }

    #[test]
    fn a_client_that_relists_after_a_410_at_connect_keeps_the_contract() {
        let mut trace = told_gone_at_connect();
        trace.push(request(122, 4, Verb::List, "", 200));
        trace.push(request(
            122,
            5,
            Verb::Watch,
            "watch=1&resourceVersion=9",
            200,
        ));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }

    #[test]
    fn a_client_that_re_watches_from_the_revision_it_was_told_is_gone_breaks_it() {
        let mut trace = told_gone_at_connect();
        trace.push(request(
            122,
            4,
            Verb::Watch,
            "watch=1&resourceVersion=5",
            200,
        ));
        let check = judged(&trace);
        assert!(!check.passed);
        assert!(check.detail.contains("request #4"), "{}", check.detail);
    }

    #[test]
    fn a_410_in_stream_that_lost_its_code_is_a_410_all_the_same() {
        let mut trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
        ];
        let expired = WatchEnd::Error {
            code: 0,
            reason: "Expired".into(),
            message: "too old resource version: 5 (9)".into(),
        };
        trace.push(ended(60, 2, expired));
        trace.push(request(
            61,
            3,
            Verb::Watch,
            "watch=1&resourceVersion=5",
            200,
        ));
        assert!(!judged(&trace).passed);
    }

    #[test]
    fn a_continue_page_told_gone_is_followed_by_a_fresh_list_not_another_page() {
        let base = vec![
            request(0, 1, Verb::List, "limit=1", 200),
            request(1, 2, Verb::ListPage, "limit=1&continue=a", 410),
        ];
        let mut again = base.clone();
        again.push(request(2, 3, Verb::ListPage, "limit=1&continue=b", 200));
        assert!(!judged(&again).passed);
        let mut fresh = base;
        fresh.push(request(2, 3, Verb::List, "limit=1", 200));
        assert!(judged(&fresh).passed);
    }

    #[test]
    fn a_relist_that_fails_does_not_clear_the_way_for_a_resume() {
        let mut trace = told_gone_at_connect();
        trace.push(request(122, 4, Verb::List, "", 500));
        trace.push(request(
            123,
            5,
            Verb::Watch,
            "watch=1&resourceVersion=5",
            200,
        ));
        assert!(!judged(&trace).passed);
    }
}
