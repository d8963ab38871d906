//! The rule for a replica whose watch cache lags etcd (kubernetes#59848): behind a load
//! balancer, a request reaches whichever apiserver the balancer picks, and a lagging one serves
//! what its cache has heard. A LIST at `resourceVersion=0` (kube's `ListSemantic::Any`, without
//! a page size) is served from that cache as it is, older than what the watcher had already
//! seen from another replica: its view goes back in time. A watch it serves gets each change as
//! late as the cache hears it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::explanation::{Explanation, after_fault, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::{Balance, format_duration as fmt};
use crate::trace::{FaultKind, ObjectKey, RequestRecord, TraceKind, Verb};
use crate::verdict::evidence::Evidence;
use crate::verdict::scorecard::Link;

/// Why the request reached that replica: ` (failover at 3m: everything goes there)`, or the
/// balancer's own turns.
fn why_there(e: &Evidence, at: Duration) -> String {
    match (e.faults.iter())
        .rev()
        .find(|(t, k)| *t <= at && *k == FaultKind::Failover)
    {
        Some((t, _)) => format!(" (failover at {}: everything goes there)", fmt(*t)),
        None => format!(
            " (no fault is needed for this: the {} balancer {})",
            e.scenario.server.load_balancer.name(),
            match e.scenario.server.load_balancer {
                Balance::Sticky => "binds each new connection to the next replica",
                Balance::RoundRobin => "sends each request to the next replica",
            }
        ),
    }
}

/// The first object event the watcher emitted at an older resourceVersion than it had, and
/// when the relist that emitted it began.
fn first_regression<'e>(e: &Evidence<'e>) -> Option<(Duration, Duration, &'e ObjectKey, u64, u64)> {
    let mut last: BTreeMap<&ObjectKey, u64> = BTreeMap::new();
    let mut relist = Duration::ZERO;
    for event in e.trace {
        match &event.kind {
            TraceKind::Init => relist = event.at,
            TraceKind::InitApply {
                key,
                resource_version,
            } => {
                if let Some(&seen) = last.get(key).filter(|seen| **seen > *resource_version) {
                    return Some((relist, event.at, key, seen, *resource_version));
                }
                last.insert(key, *resource_version);
            }
            TraceKind::Apply {
                key,
                resource_version,
            }
            | TraceKind::Delete {
                key,
                resource_version,
            } => {
                last.insert(key, *resource_version);
            }
            _ => {}
        }
    }
    None
}

/// The list (or streaming list) that served a relist begun at `relist` and emitting by `at`:
/// the last one answered 200 in between.
fn relist_request<'e>(
    e: &Evidence<'e>,
    relist: Duration,
    at: Duration,
) -> Option<(Duration, &'e RequestRecord)> {
    (e.requests.iter().copied()).rev().find(|(sent, r)| {
        (relist..=at).contains(sent)
            && r.status == 200
            && (r.verb == Verb::List
                || (r.verb == Verb::Watch
                    && r.param("sendInitialEvents").as_deref() == Some("true")))
    })
}

/// When etcd committed the version of `key` after `version`, if it did.
fn superseded_at(e: &Evidence, key: &ObjectKey, version: u64) -> Option<Duration> {
    e.trace.iter().find_map(|event| match &event.kind {
        TraceKind::Write {
            key: k,
            resource_version,
            ..
        } if k == key && *resource_version > version => Some(event.at),
        _ => None,
    })
}

/// A relist served by a lagging replica, behind what the watcher had already emitted.
fn went_back_in_time(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Monotonic) {
        return None;
    }
    let (relist, at, key, seen, listed) = first_regression(e)?;
    let (sent, request) = relist_request(e, relist, at)?;
    let (name, lag) = e.lagging_replica(request)?;
    // The lag explains it only if the version listed was still etcd's `lag` before the list:
    // the cache had not heard the one after it.
    superseded_at(e, key, listed).filter(|t| *t + lag > sent && *t <= sent)?;
    let what = match request.param("resourceVersion").as_deref() {
        Some("0") => "at resourceVersion=0, which a watch cache serves as it is".to_owned(),
        Some(rv) => format!("at resourceVersion={rv}"),
        None => "from the watch cache".to_owned(),
    };
    let regression = e.failure(CheckName::Monotonic);
    found(
        Mechanism::LaggingReplica,
        vec![
            link(
                sent,
                format!(
                    "kube's watcher relisted at {}{}, and the load balancer sent its list (request #{}, {what}) to {name}{}, whose watch cache hears etcd {} late",
                    fmt(relist),
                    after_fault(e, relist),
                    request.id,
                    why_there(e, sent),
                    fmt(lag)
                ),
            ),
            link(
                at,
                format!(
                    "it listed {key} at resourceVersion {listed}, behind the {seen} the watcher had already seen from another replica"
                ),
            ),
            Link {
                quotes: regression.map(|c| c.name),
                ..link(
                    at,
                    regression.map_or_else(String::new, |c| c.detail.clone()),
                )
            },
        ],
    )
}

/// A watch served by a lagging replica that delivered a change its lag late (the first since
/// the last fault): each change reached the watcher that late, so the view trailed the truth
/// for as long as writes came.
fn delivered_late(e: &Evidence) -> Option<Explanation> {
    let stale = [CheckName::Deadline, CheckName::Converged]
        .into_iter()
        .find_map(|c| e.failure(c))?;
    let written: BTreeMap<u64, Duration> = (e.trace.iter())
        .filter_map(|event| match &event.kind {
            TraceKind::Write {
                resource_version, ..
            } => Some((*resource_version, event.at)),
            _ => None,
        })
        .collect();
    // The first watch that delivered late since the last fault, or the last one before it.
    let since = e.faults.last().map_or(Duration::ZERO, |(t, _)| *t);
    let late_watches = e.requests.iter().filter_map(|(at, request)| {
        let (name, lag) = e
            .lagging_replica(request)
            .filter(|_| request.verb == Verb::Watch)?;
        let watch = e.watches.get(&request.id)?;
        let late = watch.sent.iter().any(|(sent_at, sent)| {
            sent.resource_version
                .and_then(|rv| written.get(&rv))
                .is_some_and(|w| *sent_at >= *w + lag)
        });
        late.then_some((*at, request, name, lag))
    });
    let (before, after): (Vec<_>, Vec<_>) = late_watches.partition(|(at, ..)| *at < since);
    // The lag explains the failure only if the last write reached the watcher that late too.
    let (last_at, last_rv) = e.trace.iter().rev().find_map(|event| match &event.kind {
        TraceKind::Write {
            resource_version, ..
        } => Some((event.at, *resource_version)),
        _ => None,
    })?;
    let last_late = e.requests.iter().any(|(_, request)| {
        let Some((_, lag)) = e.lagging_replica(request) else {
            return false;
        };
        (e.watches.get(&request.id)).is_some_and(|w| {
            (w.sent.iter()).any(|(t, s)| s.resource_version == Some(last_rv) && *t >= last_at + lag)
        })
    });
    if !last_late {
        return None;
    }
    let (at, request, name, lag) = after.into_iter().next().or(before.into_iter().last())?;
    found(
        Mechanism::LaggingReplica,
        vec![
            link(
                at,
                format!(
                    "the load balancer sent watch #{} at {} to {name}{}, whose watch cache hears etcd {} late",
                    request.id,
                    fmt(at),
                    why_there(e, at),
                    fmt(lag)
                ),
            ),
            link(
                at,
                format!(
                    "each change reached the watcher {} after etcd committed it, so its view trailed the truth for as long as writes came",
                    fmt(lag)
                ),
            ),
            Link {
                quotes: Some(stale.name),
                ..link(at, stale.detail.clone())
            },
        ],
    )
}

/// A lagging replica behind the load balancer: a relist it served took the view back in time,
/// or a watch it served delivered every change late.
pub(super) fn lagging_replica(e: &Evidence) -> Option<Explanation> {
    if e.scenario
        .server
        .replicas
        .iter()
        .all(|r| r.cache_lag.is_zero())
    {
        return None;
    }
    went_back_in_time(e).or_else(|| delivered_late(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{EventType, TraceEvent};
    use crate::verdict::fixtures::*;

    /// What the rule finds on `trace` for a server of two replicas, `b` 30 s behind.
    fn behind_a_balancer(
        trace: &[TraceEvent],
        checks: &[crate::verdict::scorecard::Check],
    ) -> Option<Explanation> {
        let scenario = crate::scenario::Scenario::from_yaml(
            "duration: 10m
resource: { version: v1, kind: ConfigMap, plural: configmaps, objects: [{ name: a }] }
server: { replicas: [{ name: a }, { name: b, cache_lag: 30s }], load_balancer: round_robin }
watchers: [{ name: w }]
expect: { deadline: 1m, recover: [w] }
",
        )
        .expect("valid");
        let trace = trace.to_vec();
        let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &trace, checks);
        lagging_replica(&evidence)
    }

    fn on(mut event: TraceEvent, replica: &str) -> TraceEvent {
        if let TraceKind::Request(r) = &mut event.kind {
            r.replica = Some(replica.into());
        }
        event
    }

    fn init_apply(secs: u64, rv: u64) -> TraceEvent {
        at(
            secs,
            TraceKind::InitApply {
                key: "default/a".into(),
                resource_version: rv,
            },
        )
    }

    /// etcd took version 5 of `a` at 20 s and version 9 at `superseded`; a watch emitted 9;
    /// the relist at 60 s reached `relist_on` and listed version 5.
    fn relisted_on(relist_on: &str, superseded: u64) -> Vec<TraceEvent> {
        vec![
            on(request(0, 1, Verb::List, "", 200), "a"),
            init_apply(0, 1),
            on(
                request(0, 2, Verb::Watch, "watch=1&resourceVersion=1", 200),
                "b",
            ),
            written(20, "default/a", 5),
            written(superseded, "default/a", 9),
            applied(superseded.max(40), "default/a", 9),
            at(60, TraceKind::Init),
            on(
                request(60, 3, Verb::List, "resourceVersion=0", 200),
                relist_on,
            ),
            init_apply(60, 5),
        ]
    }

    #[test]
    fn a_relist_a_lagging_replica_served_behind_what_the_watcher_had_seen_names_the_replica() {
        let found = behind_a_balancer(&relisted_on("b", 40), &[failed(CheckName::Monotonic)])
            .expect("it fits");
        assert_eq!(found.mechanism, Mechanism::LaggingReplica);
        let chain: Vec<&str> = found.chain.iter().map(|l| l.text.as_str()).collect();
        assert!(
            chain[0].contains("to b (no fault is needed for this: the round_robin balancer sends each request to the next replica), whose watch cache hears etcd 30s late")
                && chain[1].contains("at resourceVersion 5, behind the 9"),
            "{chain:?}"
        );
    }

    #[test]
    fn a_relist_the_replica_on_time_served_is_not_the_lagging_one_s_doing() {
        let monotonic = [failed(CheckName::Monotonic)];
        assert!(behind_a_balancer(&relisted_on("a", 40), &monotonic).is_none());
    }

    #[test]
    fn a_version_etcd_had_replaced_longer_than_the_lag_ago_is_not_the_lag_s_doing() {
        let monotonic = [failed(CheckName::Monotonic)];
        assert!(behind_a_balancer(&relisted_on("b", 25), &monotonic).is_none());
    }

    #[test]
    fn a_watch_on_the_lagging_replica_that_delivered_late_explains_a_missed_deadline() {
        let late = vec![
            on(
                request(0, 1, Verb::Watch, "watch=1&resourceVersion=1", 200),
                "b",
            ),
            opened(0, 1, Some(1), 1, 1),
            written(10, "default/a", 2),
            sent(40, 1, EventType::Modified, Some(2), None),
        ];
        let found = behind_a_balancer(&late, &[failed(CheckName::Deadline)]).expect("it fits");
        assert!(found.chain[1].text.contains("30s after etcd committed it"));
        let on_time = [
            &late[..3],
            &[sent(10, 1, EventType::Modified, Some(2), None)],
        ]
        .concat();
        assert!(behind_a_balancer(&on_time, &[failed(CheckName::Deadline)]).is_none());
    }
}
