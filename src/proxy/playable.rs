//! What a proxy can honestly do to a real apiserver's traffic, and what it must refuse.
//!
//! A proxy sees requests and streams, so it can do anything an intermediary (a load balancer,
//! an API gateway, a flaky network) could: cut, stall or delay a stream, leave a request
//! unanswered, answer in the apiserver's place with an error or an HTTP 410, drop or alter a
//! bookmark, damage a line. It cannot change what the apiserver knows: a compaction, a watch
//! cache re-list or a restart happen inside the server, and faking their symptoms on the wire
//! would make the server say what it does not stand by.

use crate::fault::{Fault, GoneForm};
use crate::scenario::{Action, Scenario, format_duration};

/// One line per step the proxy cannot play, each naming the step and why; empty when it can
/// play them all. `etcd`: the proxy was given etcd's URL, so `compact` is done for real.
pub(crate) fn refusals(scenario: &Scenario, etcd: bool) -> Vec<String> {
    let mut refused = Vec::new();
    if !scenario.resource.namespaced {
        refused.push(format!(
            "resource ({} {}): it is cluster-scoped, and the proxy writes the workload only into namespaces of its own",
            scenario.resource.api_version(),
            scenario.resource.plural
        ));
    }
    if !scenario.server.replicas.is_empty() {
        refused.push(
            "server.replicas: the proxy stands in front of one real apiserver, not several behind a load balancer".to_owned(),
        );
    }
    for step in &scenario.timeline {
        let Action::Fault(fault) = &step.action else {
            continue;
        };
        let why = match fault {
            Fault::Compact { .. } if !etcd => {
                "a compaction happens in etcd; give the proxy etcd's client URL (`--etcd http://HOST:2379`) and it compacts there for real"
            }
            Fault::ExpireWatches => {
                "it takes history away inside the apiserver (its watch cache re-lists); a proxy cannot, and an ERROR 410 made up on the wire is one the apiserver would not stand by"
            }
            Fault::ExpireContinue { .. } => {
                "it expires continue tokens inside etcd at a revision only the token knows; a proxy cannot"
            }
            Fault::Watch410 {
                form: GoneForm::Event,
                ..
            } => {
                "the apiserver's own 410 (an ERROR event) is true only once its history is gone; use `form: http`, the 410 a proxy gives"
            }
            Fault::EarlyBookmarks { .. } => {
                "it is etcd's progress notification overtaking its events inside the apiserver; a proxy relays one stream in order and cannot send a bookmark ahead of events it has not seen"
            }
            Fault::WatchError { .. } => {
                "it is the apiserver's own answer about its storage (what etcd can do); made up on the wire, it would be one the apiserver does not stand by"
            }
            Fault::Restart { .. } => {
                "it restarts the apiserver or etcd; a proxy cannot (restart them yourself, on the scenario's clock)"
            }
            Fault::Failover { .. } => {
                "it moves clients between apiservers behind a load balancer; a proxy stands in front of one"
            }
            _ => continue,
        };
        refused.push(format!(
            "timeline ({} at {}): {why}",
            fault.kind(),
            format_duration(step.at)
        ));
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(timeline: &str) -> Scenario {
        Scenario::from_yaml(&format!(
            "duration: 10m\n\
             resource: {{ version: v1, kind: ConfigMap, plural: configmaps,\n\
               objects: [{{ name: a, namespace: shop }}] }}\n\
             timeline: [{timeline}]\n\
             watchers: [{{ name: any }}]\n\
             expect: {{ deadline: 1m, recover: [any] }}\n"
        ))
        .expect("the scenario loads")
    }

    #[test]
    fn what_an_intermediary_can_do_is_played() {
        let faults = scenario(
            "{ at: 1m, kind: cut_stream, how: reset }, { at: 2m, kind: watch_410, form: http }, \
             { at: 3m, kind: stale_bookmarks, for: 1m }, { at: 4m, kind: hang_headers, count: 1 }",
        );
        assert_eq!(refusals(&faults, false), Vec::<String>::new());
    }

    #[test]
    fn what_only_the_apiserver_can_do_is_refused_by_name_and_time() {
        let faults = scenario(
            "{ at: 1m, kind: expire_watches }, { at: 2m, kind: watch_410 }, \
             { at: 3m, kind: restart, revision: keep }, { at: 4m, kind: compact }, \
             { at: 5m, kind: watch_error }",
        );
        let refused = refusals(&faults, false);
        let named: Vec<&str> = refused
            .iter()
            .map(|r| r.split_once(':').map_or(r.as_str(), |(what, _)| what))
            .collect();
        assert_eq!(
            named,
            [
                "timeline (expire_watches at 1m)",
                "timeline (watch_410 at 2m)",
                "timeline (restart at 3m)",
                "timeline (compact at 4m)",
                "timeline (watch_error at 5m)",
            ]
        );
        // One apiserver cannot be in both states (the loader refuses them together).
        let early = scenario("{ at: 6m, kind: early_bookmarks, for: 1m }");
        assert!(refusals(&early, false)[0].starts_with("timeline (early_bookmarks at 6m):"));
    }

    #[test]
    fn a_compaction_is_played_when_the_proxy_has_etcd() {
        assert!(refusals(&scenario("{ at: 4m, kind: compact }"), true).is_empty());
    }
}
