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
            Fault::Restart { .. } => {
                "it restarts the apiserver or etcd; a proxy cannot (restart them yourself, on the scenario's clock)"
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
