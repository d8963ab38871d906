//! The rule for a consumer slower than its watch: the watch cache closes a watcher whose buffer
//! stays full (`Forcing ... watcher close due to unresponsiveness`, apiserver
//! `storage/cacher/cache_watcher.go`), and what the client had been sent but not yet read takes
//! it so long to read that it resumes from outside the window.

use std::time::Duration;

use super::explanation::{Explanation, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{ClosedWhy, EventType, FaultKind, TraceKind, WatchEnd};
use crate::verdict::evidence::Evidence;
use crate::verdict::scorecard::Link;

/// A watch the watch cache closed as unresponsive: when it ended and its request.
struct Closed {
    at: Duration,
    request: u64,
}

/// The watches the watch cache closed as unresponsive, in order.
fn closes<'e>(e: &'e Evidence) -> impl Iterator<Item = Closed> + 'e {
    e.trace.iter().filter_map(|event| match &event.kind {
        TraceKind::WatchEnded {
            request,
            reason: WatchEnd::Closed {
                why: ClosedWhy::Unresponsive,
            },
            ..
        } => Some(Closed {
            at: event.at,
            request: *request,
        }),
        _ => None,
    })
}

/// `1s of work on each item`, or how else the consumer fell behind.
fn pace(e: &Evidence) -> String {
    match e.setup.work_per_item {
        Some(work) => format!("working {} on each item", fmt(work)),
        None => "reading slower than the server wrote".to_owned(),
    }
}

/// ` (no fault is needed for this: the watch cache closed watch #2 at 1m16s as unresponsive,
/// its consumer working 1s on each item)`: why a watch resumed from a point the server had
/// let go of, when no fault of the timeline took it; nothing when no such close came first.
pub(super) fn closed_as_unresponsive(e: &Evidence, before: Duration) -> String {
    closes(e)
        .take_while(|closed| closed.at <= before)
        .last()
        .map(|closed| {
            format!(
                " (no fault is needed for this: the watch cache closed watch #{} at {} as unresponsive, its consumer {})",
                closed.request,
                fmt(closed.at),
                pace(e)
            )
        })
        .unwrap_or_default()
}

/// The events sent on watch `request` that the watcher had not emitted by `at`.
fn unread_at(e: &Evidence, request: u64, at: Duration) -> usize {
    let emitted = e
        .trace
        .iter()
        .take_while(|event| event.at <= at)
        .filter_map(|event| match &event.kind {
            TraceKind::Apply {
                resource_version, ..
            }
            | TraceKind::Delete {
                resource_version, ..
            } => Some(*resource_version),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    e.watches.get(&request).map_or(0, |watch| {
        watch
            .sent
            .iter()
            .filter(|(_, sent)| {
                matches!(
                    sent.type_,
                    EventType::Added | EventType::Modified | EventType::Deleted
                ) && sent.resource_version.is_some_and(|rv| rv > emitted)
            })
            .count()
    })
}

/// The most events a watch had sent that the watcher had not emitted when it ended (or when
/// the run did): how far behind the consumer fell, as the server saw it.
fn most_unread(e: &Evidence) -> (u64, usize) {
    let ends: Vec<(u64, Duration)> = e
        .trace
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::WatchEnded { request, .. } => Some((*request, event.at)),
            _ => None,
        })
        .collect();
    e.watches
        .keys()
        .map(|id| {
            let end = ends
                .iter()
                .find(|(request, _)| request == id)
                .map_or(Duration::MAX, |(_, at)| *at);
            (*id, unread_at(e, *id, end))
        })
        .max_by_key(|(_, unread)| *unread)
        .unwrap_or_default()
}

/// A consumer slower than its watch fell behind far enough to fail: the server closed the
/// watch as unresponsive (a watch cache), or it was not closed and the consumer was still
/// reading behind the server (etcd's watcher holds a slow one back, or its compaction cancels
/// it with a 410).
pub(super) fn slow_consumer(e: &Evidence) -> Option<Explanation> {
    let failed = [
        CheckName::Deadline,
        CheckName::Relists,
        CheckName::Converged,
        CheckName::Monotonic,
    ]
    .into_iter()
    .find(|name| e.failed(*name))?;
    let first = closes(e).next();
    // Without a close: a server without a watch cache (which never closes a slow watch), a
    // consumer that works on each item, and a backlog of sent events it has not read (a chan
    // size's worth, the least the cacher lets a watcher hold before it blocks). The cheap
    // conditions first: most failed runs are not slow consumers, and counting the backlog
    // walks the trace once per watch.
    if first.is_none() && (e.scenario.server.watch_cache || e.setup.work_per_item.is_none()) {
        return None;
    }
    let (behind, unread) = match &first {
        Some(closed) => (closed.request, unread_at(e, closed.request, closed.at)),
        None => most_unread(e),
    };
    if first.is_none() && unread < 10 {
        return None;
    }
    let mut chain = vec![link(
        first.as_ref().map_or(Duration::ZERO, |c| c.at),
        format!(
            "the consumer read its watch one item at a time, {}: what the server sent on watch #{behind} backed up unread, {unread} events at the most",
            pace(e),
        ),
    )];
    match &first {
        Some(closed) => chain.push(link(
            closed.at,
            format!(
                "the watch cache closed watch #{} at {} as unresponsive, its buffer full (no fault is needed for this: the cacher closes a watcher that does not take its events)",
                closed.request,
                fmt(closed.at)
            ),
        )),
        None => chain.push(link(
            Duration::ZERO,
            "without a watch cache nothing closes a slow watcher: etcd holds it back, and cancels it with a 410 only once its compaction overtakes it (no fault is needed for this)",
        )),
    }
    let after = first.as_ref().map_or(Duration::ZERO, |c| c.at);
    let stale = e
        .watches
        .iter()
        .find(|(_, w)| w.at > after && w.from.is_some_and(|from| from < w.floor));
    if let Some((id, w)) = stale {
        chain.push(link(
            w.at,
            format!(
                "the watcher read them at its consumer's pace and resumed (#{id}) at {} from {}, where the oldest the server could resume from was {}: a 410, and a relist",
                fmt(w.at),
                w.from.unwrap_or_default(),
                w.floor
            ),
        ));
    }
    if let Some((at, kind)) = e
        .faults
        .iter()
        .find(|(_, kind)| *kind == FaultKind::Restart)
    {
        chain.push(link(
            *at,
            format!(
                "meanwhile the apiserver restarted ({kind} at {}), and what the watcher read after it was the restarted server's",
                fmt(*at)
            ),
        ));
    }
    chain.extend(
        e.checks
            .iter()
            .find(|c| c.name == failed && !c.passed)
            .map(|c| Link::quoting(after, c)),
    );
    found(Mechanism::SlowConsumer, chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{EventType, Verb};
    use crate::verdict::fixtures::*;

    const SLOW: &str = "[{ name: w, work_per_item: 1s }]";

    /// What the rule finds for the first set-up of `watchers` on a server without a watch
    /// cache.
    fn uncached(
        watchers: &str,
        trace: &[crate::trace::TraceEvent],
        checks: &[crate::verdict::scorecard::Check],
    ) -> Option<Mechanism> {
        let yaml = format!(
            "duration: 10m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{{ name: a }}] }}
server: {{ watch_cache: false }}
watchers: {watchers}
expect: {{ deadline: 1m, recover: [w] }}
"
        );
        let scenario = crate::scenario::Scenario::from_yaml(&yaml).expect("valid");
        let trace: Vec<_> = trace.to_vec();
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &trace, checks);
        slow_consumer(&evidence).map(|f| f.mechanism)
    }

    /// Watch #2 sent 3 changes, 1 of them emitted, and was closed as `why` at 40 s; the client
    /// resumed from its last one at 60 s, by then below the server's floor.
    fn closed_then_resumed_stale(why: ClosedWhy) -> Vec<crate::trace::TraceEvent> {
        vec![
            request(10, 2, Verb::Watch, "watch=1&resourceVersion=1", 200),
            opened(10, 2, Some(1), 1, 1),
            sent(30, 2, EventType::Modified, Some(2), None),
            sent(30, 2, EventType::Modified, Some(3), None),
            sent(30, 2, EventType::Modified, Some(4), None),
            applied(31, "default/a", 2),
            ended(40, 2, WatchEnd::Closed { why }),
            request(60, 3, Verb::Watch, "watch=1&resourceVersion=4", 200),
            opened(60, 3, Some(4), 90, 120),
        ]
    }

    #[test]
    fn a_watch_closed_as_unresponsive_then_resumed_outside_the_window_is_a_slow_consumer() {
        let found = explain(
            slow_consumer,
            SLOW,
            &closed_then_resumed_stale(ClosedWhy::Unresponsive),
            &[failed(CheckName::Deadline)],
        )
        .expect("it fits");
        assert_eq!(found.mechanism, Mechanism::SlowConsumer);
        let chain: Vec<&str> = found.chain.iter().map(|l| l.text.as_str()).collect();
        assert!(
            chain[0].contains("working 1s on each item")
                && chain[0].contains("on watch #2 backed up unread, 2 events at the most"),
            "{chain:?}"
        );
        assert!(
            chain[1].contains("closed watch #2 at 40s as unresponsive"),
            "{chain:?}"
        );
        assert!(chain[2].contains("resumed (#3) at 1m from 4"), "{chain:?}");
    }

    #[test]
    fn a_watch_closed_for_another_reason_or_a_run_that_met_its_deadline_is_not() {
        let other = closed_then_resumed_stale(ClosedWhy::OutOfWindow);
        let deadline = [failed(CheckName::Deadline)];
        assert_eq!(apply(slow_consumer, SLOW, &other, &deadline), None);
        let slow = closed_then_resumed_stale(ClosedWhy::Unresponsive);
        assert_eq!(apply(slow_consumer, SLOW, &slow, &[]), None);
    }

    /// Watch #2 of a server without a watch cache sent `sent` changes, of which the watcher
    /// emitted one, and was still open at the end.
    fn behind_on_an_open_watch(sent: u64) -> Vec<crate::trace::TraceEvent> {
        let mut trace = vec![
            request(10, 2, Verb::Watch, "watch=1&resourceVersion=1", 200),
            opened(10, 2, Some(1), 1, 1),
        ];
        trace.extend((2..2 + sent).map(sent_event));
        trace.push(applied(31, "default/a", 2));
        trace
    }

    fn sent_event(rv: u64) -> crate::trace::TraceEvent {
        sent(30, 2, EventType::Modified, Some(rv), None)
    }

    #[test]
    fn a_slow_consumer_far_behind_an_open_watch_without_a_watch_cache_is_one_too() {
        let converged = [failed(CheckName::Converged)];
        let far = behind_on_an_open_watch(12);
        assert_eq!(
            uncached(SLOW, &far, &converged),
            Some(Mechanism::SlowConsumer),
            "11 unread events behind"
        );
        assert_eq!(
            uncached(SLOW, &behind_on_an_open_watch(5), &converged),
            None
        );
        assert_eq!(
            uncached("[{ name: w }]", &far, &converged),
            None,
            "not slow"
        );
        let cached = apply(slow_consumer, SLOW, &far, &converged);
        assert_eq!(cached, None, "a watch cache would have closed it");
    }

    #[test]
    fn a_410_after_an_unresponsive_close_is_put_down_to_it_and_not_before_it() {
        let slow = closed_then_resumed_stale(ClosedWhy::Unresponsive);
        let scenario = scenario(SLOW);
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &slow, &[]);
        assert!(
            closed_as_unresponsive(&evidence, S(60)).starts_with(
                " (no fault is needed for this: the watch cache closed watch #2 at 40s"
            )
        );
        assert_eq!(closed_as_unresponsive(&evidence, S(39)), "");
    }
}
