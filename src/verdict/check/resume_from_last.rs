//! Resume from the last: a client resumes a watch from the last resourceVersion it was sent,
//! never from an empty one, and never from one behind what it had already been sent (reference
//! doc §2.3, §3.2; client-go's reflector keeps `lastSyncResourceVersion` from every event and
//! bookmark). An empty one asks for the server's current state instead (§2.7): what changed in
//! between comes as ADDED, and a delete among it never comes. One behind asks for changes the
//! client has already seen, and replays them.
//!
//! "Last", not highest: a server that sent an older resourceVersion after a newer one (a stale
//! bookmark, an etcd restored to an older revision) is at fault for what follows, and the
//! outcome checks (`monotonic`, `resumable`) count what it costs.
//!
//! "Sent" is what the server wrote, and a connection that was reset loses what its client had
//! not read yet: a resume from a resourceVersion the reset watch sent (or started from) is the
//! last the client received, not behind it. A slow consumer shows it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::trace::{Asked, Cut, EventType, FaultKind, Trace, TraceKind, Verb, WatchEnd};
use crate::verdict::call::Call;
use crate::verdict::scorecard::Check;

/// How a watch's resume point broke the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::verdict) enum BadResume {
    /// `resourceVersion=` with no value, after the client had been sent a resourceVersion and
    /// told of no 410 since.
    Empty,
    /// A revision behind the last one the client was sent by then (`last`, at `sent_at`).
    Behind {
        from: u64,
        last: u64,
        sent_at: Duration,
    },
}

/// Each watch whose resume point broke the contract, with how, oldest first. A resourceVersion
/// counts as sent once `lag` has passed (a client reads what the server wrote with a delay).
/// Requests that read different things (another namespace, another selector) keep their own
/// resume points.
pub(in crate::verdict) fn bad_resumes<'c, 'a>(
    trace: &Trace,
    calls: &'c [Call<'a>],
    lag: Duration,
) -> Vec<(&'c Call<'a>, BadResume)> {
    let mut lines: BTreeMap<_, Vec<&'c Call<'a>>> = BTreeMap::new();
    for call in calls {
        lines.entry(call.reads()).or_default().push(call);
    }
    // A restart tears down every connection, with whatever its client had not read yet.
    let restarts: Vec<Duration> = trace
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                TraceKind::Fault {
                    fault: FaultKind::Restart
                }
            )
        })
        .map(|e| e.at)
        .collect();
    let mut bad: Vec<(&'c Call<'a>, BadResume)> = lines
        .values()
        .flat_map(|line| bad_resumes_in(&seen(trace, line), line, lag, &restarts))
        .collect();
    bad.sort_by_key(|(call, _)| call.record.id);
    bad
}

/// [`bad_resumes`] within one line of requests that read the same, given what it was sent.
fn bad_resumes_in<'c, 'a>(
    seen: &[(Duration, Option<u64>, u64)],
    line: &[&'c Call<'a>],
    lag: Duration,
    restarts: &[Duration],
) -> Vec<(&'c Call<'a>, BadResume)> {
    let mut bad = Vec::new();
    // What came before each watch: the last relist, the last 410, the last list answered.
    let (mut relisted, mut gone, mut listed) = (None, None, None);
    let mut previous: Option<&Call<'_>> = None;
    for watch in line {
        if watch.record.verb == Verb::Watch && !watch.record.streams_initial_events() {
            let by = watch.arrived.saturating_sub(lag);
            let upto = seen.partition_point(|(at, _, _)| *at <= by);
            let last = upto.checked_sub(1).map(|i| (seen[i].0, seen[i].1));
            match watch.record.asked() {
                Asked::Empty => {
                    let told = last.map(|(at, _)| at).max(listed);
                    if told.is_some_and(|t| gone.is_none_or(|g| g < t)) {
                        bad.push((*watch, BadResume::Empty));
                    }
                }
                Asked::At(from) => {
                    if let Some((sent_at, Some(last))) = last {
                        // Sent before the last relist, it is not what the client resumes from.
                        let current = relisted.is_none_or(|r| r <= sent_at);
                        let until = seen.partition_point(|(at, _, _)| *at <= watch.arrived);
                        let sent_lately =
                            seen[upto..until].iter().any(|(_, rv, _)| *rv == Some(from));
                        if current
                            && from < last
                            && !sent_lately
                            && !lost(previous, seen, from, restarts, watch.arrived)
                        {
                            let behind = BadResume::Behind {
                                from,
                                last,
                                sent_at,
                            };
                            bad.push((*watch, behind));
                        }
                    }
                }
                Asked::Absent | Asked::Zero | Asked::Invalid => {}
            }
        }
        if watch.relists() && watch.record.status == 200 {
            relisted = relisted.max(Some(watch.arrived));
        }
        if watch.record.verb == Verb::Watch {
            previous = Some(watch);
        }
        gone = gone.max(watch.gone());
        if matches!(watch.record.verb, Verb::List | Verb::ListPage) && watch.record.status == 200 {
            listed = listed.max(Some(watch.at));
        }
    }
    bad
}

/// Whether `previous`, the watch before a resume from `from` at `resumed`, was reset after it
/// sent (or started from) `from`, or a restart tore its connection down before the client had
/// read it all: what it sent after that may never have reached the client.
fn lost(
    previous: Option<&Call<'_>>,
    seen: &[(Duration, Option<u64>, u64)],
    from: u64,
    restarts: &[Duration],
    resumed: Duration,
) -> bool {
    previous.is_some_and(|watch| {
        let ended = watch.ended.map_or(Duration::ZERO, |(at, _)| at);
        let torn_down = restarts.iter().any(|t| ended <= *t && *t <= resumed);
        let reset = torn_down
            || matches!(
                watch.ended,
                Some((
                    _,
                    WatchEnd::Cut {
                        how: Cut::Reset | Cut::MidChunk,
                        ..
                    }
                ))
            );
        let read_up_to = watch.opened.and_then(|(start, _, _)| start) == Some(from)
            || seen
                .iter()
                .any(|(_, rv, request)| *request == watch.record.id && *rv == Some(from));
        reset && read_up_to
    })
}

/// The resourceVersions the server sent on the client's watches, in time order (`None`: a
/// bookmark that carried an empty one). A streaming list's count from its end bookmark on, a
/// watch from the current state's from its first event that is not one of its ADDED (reference
/// doc §2.7): before that, the ADDED carry each object's own resourceVersion, not a point to
/// resume from. Damaged lines and ERROR events are not read as resourceVersions. Each with
/// the watch that sent it.
fn seen(trace: &Trace, calls: &[&Call<'_>]) -> Vec<(Duration, Option<u64>, u64)> {
    // For each watch: whether it has reached its live events, and whether it is a streaming
    // list (whose live events start at its end bookmark).
    let mut watches: BTreeMap<u64, (bool, bool)> = calls
        .iter()
        .filter(|c| c.record.verb == Verb::Watch)
        .map(|c| {
            (
                c.record.id,
                (!c.relists(), c.record.streams_initial_events()),
            )
        })
        .collect();
    let mut seen = Vec::new();
    for event in trace {
        let TraceKind::Sent { request, event: e } = &event.kind else {
            continue;
        };
        let Some((live, streaming)) = watches.get_mut(request) else {
            continue;
        };
        if e.damaged.is_some() || e.type_ == EventType::Error {
            continue;
        }
        *live |= match e.type_ {
            EventType::InitialEventsEnd => true,
            EventType::Added => false,
            _ => !*streaming,
        };
        if *live {
            seen.push((event.at, e.resource_version, *request));
        }
    }
    seen
}

/// The check: every watch resumed from the last resourceVersion it was sent.
pub(in crate::verdict) fn resumed_from_last(
    trace: &Trace,
    calls: &[Call<'_>],
    lag: Duration,
) -> Check {
    let resumed = calls
        .iter()
        .filter(|c| c.record.verb == Verb::Watch && matches!(c.record.asked(), Asked::At(_)))
        .count();
    let bad = bad_resumes(trace, calls, lag);
    let detail = match bad.first() {
        None => format!(
            "each of its {resumed} resumed watches resumed from the last resourceVersion it was sent"
        ),
        Some((watch, how)) => {
            let what = match how {
                BadResume::Empty => "an empty resourceVersion, which asks for the current state: what changed since its last event is never sent as a change".to_owned(),
                BadResume::Behind { from, last, sent_at } => format!(
                    "resourceVersion {from}, behind the {last} it was sent at {}",
                    fmt(*sent_at)
                ),
            };
            format!(
                "{} of its watches did not resume from the last resourceVersion it was sent; the first, request #{} at {}, from {what}",
                bad.len(),
                watch.record.id,
                fmt(watch.arrived),
            )
        }
    };
    Check {
        name: CheckName::ResumeFromLast,
        passed: bad.is_empty(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Trace, WatchEnd};
    use crate::verdict::call::calls;
    use crate::verdict::fixtures::*;

    /// Watch #3, at `secs`, from `rv`.
    fn resume(secs: u64, rv: &str) -> crate::trace::TraceEvent {
        let query = format!("watch=1&resourceVersion={rv}");
        request(secs, 3, Verb::Watch, &query, 200)
    }

    fn judged(trace: &Trace) -> Check {
        resumed_from_last(trace, &calls(trace, |_| true, S(3600)), S(1))
    }

    /// A list, a watch from its revision that is sent a bookmark at 9 and times out.
    fn bookmarked(rv: Option<u64>) -> Trace {
        vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
            sent(100, 2, EventType::Bookmark, rv, None),
            ended(290, 2, WatchEnd::Timeout),
        ]
    }

    #[test]
    fn a_watch_resumed_from_the_last_bookmark_keeps_the_contract() {
        let mut trace = bookmarked(Some(9));
        trace.push(resume(290, "9"));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }

    #[test]
    fn a_watch_resumed_from_before_the_last_bookmark_is_behind() {
        let mut trace = bookmarked(Some(9));
        trace.push(resume(290, "5"));
        let check = judged(&trace);
        assert!(!check.passed);
        assert!(check.detail.contains("behind the 9"), "{}", check.detail);
    }

    #[test]
    fn a_resume_from_what_a_reset_watch_sent_before_its_last_line_is_what_the_client_got() {
        let mut trace = bookmarked(Some(9));
        trace.pop();
        trace.push(sent(200, 2, EventType::Modified, Some(12), None));
        let reset = WatchEnd::Cut {
            how: Cut::Reset,
            by: None,
        };
        trace.push(ended(201, 2, reset.clone()));
        trace.push(resume(210, "9"));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
        // A clean end delivers what came before it.
        let mut clean = bookmarked(Some(9));
        clean.pop();
        clean.push(sent(200, 2, EventType::Modified, Some(12), None));
        clean.push(ended(201, 2, WatchEnd::Timeout));
        clean.push(resume(210, "9"));
        assert!(!judged(&clean).passed);
        // Nor does a timeout, unless a restart tore the connection down before it was read.
        let mut restarted = clean.clone();
        restarted.insert(restarted.len() - 1, fault(205, "restart"));
        assert!(judged(&restarted).passed, "{}", judged(&restarted).detail);
        // A reset does not excuse a resume from a resourceVersion the watch never sent.
        let mut never = bookmarked(Some(9));
        never.pop();
        never.push(ended(201, 2, reset));
        never.push(resume(210, "7"));
        assert!(!judged(&never).passed);
    }

    #[test]
    fn a_watch_resumed_from_an_empty_resource_version_after_an_empty_bookmark_breaks_it() {
        let mut trace = bookmarked(None);
        trace.push(resume(290, ""));
        let check = judged(&trace);
        assert!(!check.passed);
        assert!(
            check.detail.contains("an empty resourceVersion"),
            "{}",
            check.detail
        );
    }

    #[test]
    fn a_fresh_watch_after_a_410_is_a_relist_not_an_empty_resume() {
        let mut trace = bookmarked(Some(9));
        trace.pop();
        let gone = WatchEnd::Error {
            code: 410,
            reason: "Expired".into(),
            message: "too old resource version: 9 (12)".into(),
        };
        trace.push(ended(290, 2, gone));
        trace.push(resume(291, ""));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }

    #[test]
    fn what_the_server_sent_just_before_the_resume_is_not_held_against_it() {
        let mut trace = bookmarked(Some(9));
        trace.push(sent(290, 2, EventType::Modified, Some(10), None));
        trace.push(resume(290, "9"));
        assert!(judged(&trace).passed, "{}", judged(&trace).detail);
    }
}
