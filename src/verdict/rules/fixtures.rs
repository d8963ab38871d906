//! What the rules' tests build their traces from: a scenario, trace events of each kind, a
//! failed check, and `apply`, which runs one rule on a trace.

use std::time::Duration;

use super::explanation::Explanation;
use crate::mechanism::Mechanism;
use crate::scenario::Scenario;
use crate::trace::{
    ConsumerStop, Damage, EventType, FaultKind, RequestRecord, SentEvent, Trace, TraceEvent,
    TraceKind, Verb, WatcherErrorVariant, WatcherFault,
};
use crate::verdict::evidence::Evidence;
use crate::verdict::scorecard::{Check, CheckName};

pub(super) const S: fn(u64) -> Duration = Duration::from_secs;

pub(super) fn scenario(watchers: &str) -> Scenario {
    Scenario::from_yaml(&format!(
        "duration: 10m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{{ name: a }}] }}
watchers: {watchers}
expect: {{ deadline: 1m, recover: [w] }}
"
    ))
    .expect("the test scenario is valid")
}

pub(super) fn at(secs: u64, kind: TraceKind) -> TraceEvent {
    TraceEvent { at: S(secs), kind }
}

pub(super) fn request(secs: u64, id: u64, verb: Verb, query: &str, status: u16) -> TraceEvent {
    at(
        secs,
        TraceKind::Request(RequestRecord {
            id,
            method: "GET".into(),
            path: "/api/v1/configmaps".into(),
            query: query.into(),
            status,
            verb,
            agent: String::new(),
            process: None,
        }),
    )
}

pub(super) fn opened(
    secs: u64,
    id: u64,
    from: Option<u64>,
    floor: u64,
    revision: u64,
) -> TraceEvent {
    at(
        secs,
        TraceKind::WatchOpened {
            request: id,
            from,
            floor,
            revision,
        },
    )
}

pub(super) fn sent(
    secs: u64,
    id: u64,
    type_: EventType,
    rv: Option<u64>,
    damaged: Option<Damage>,
) -> TraceEvent {
    at(
        secs,
        TraceKind::Sent {
            request: id,
            event: SentEvent {
                type_,
                key: (!matches!(type_, EventType::Bookmark | EventType::Error))
                    .then(|| "default/a".to_owned()),
                resource_version: rv,
                damaged,
            },
        },
    )
}

pub(super) fn error(
    secs: u64,
    variant: WatcherErrorVariant,
    code: Option<u16>,
    message: &str,
) -> TraceEvent {
    at(
        secs,
        TraceKind::WatcherError(WatcherFault {
            variant,
            code,
            reason: None,
            status_message: None,
            timed_out: false,
            message: message.into(),
        }),
    )
}

/// A watch stream that failed because kube's read timeout ran out (its I/O error's kind).
pub(super) fn read_timed_out(secs: u64) -> TraceEvent {
    let mut event = error(
        secs,
        WatcherErrorVariant::WatchFailed,
        None,
        "error reading a body from connection",
    );
    if let TraceKind::WatcherError(fault) = &mut event.kind {
        fault.timed_out = true;
    }
    event
}

/// The server writing `key` at `rv` (it exists, with no labels).
pub(super) fn written(secs: u64, key: &str, rv: u64) -> TraceEvent {
    at(
        secs,
        TraceKind::Write {
            key: key.into(),
            labels: Default::default(),
            fields: Default::default(),
            resource_version: rv,
            exists: true,
        },
    )
}

/// The watcher emitting an `Apply` of `key` at `rv`.
pub(super) fn applied(secs: u64, key: &str, rv: u64) -> TraceEvent {
    at(
        secs,
        TraceKind::Apply {
            key: key.into(),
            resource_version: rv,
        },
    )
}

/// A fault of the kind `kind:` names `name` starting at `secs`.
pub(super) fn fault(secs: u64, name: &str) -> TraceEvent {
    let fault = FaultKind::named(name).expect("the test names a fault kind");
    at(secs, TraceKind::Fault { fault })
}

/// The consumer stopping at `secs`, for `cause`.
pub(super) fn consumer_stopped(secs: u64, cause: ConsumerStop) -> TraceEvent {
    at(secs, TraceKind::StreamEnded { cause })
}

pub(super) fn client(read_timeout: Option<u64>) -> TraceEvent {
    at(
        0,
        TraceKind::Client {
            read_timeout: read_timeout.map(S),
            retry: true,
        },
    )
}

pub(super) fn failed(name: CheckName) -> Check {
    Check {
        name,
        passed: false,
        detail: format!("{name:?} failed"),
    }
}

/// Runs `rule` on `trace` for the first set-up of `watchers`, with `checks`.
pub(super) fn apply(
    rule: fn(&Evidence) -> Option<Explanation>,
    watchers: &str,
    trace: &Trace,
    checks: &[Check],
) -> Option<Mechanism> {
    explain(rule, watchers, trace, checks).map(|f| {
        assert!(!f.chain.is_empty(), "a finding tells its chain");
        f.mechanism
    })
}

/// What `rule` finds on `trace`, chain and all, as [`apply`] runs it.
pub(super) fn explain(
    rule: fn(&Evidence) -> Option<Explanation>,
    watchers: &str,
    trace: &Trace,
    checks: &[Check],
) -> Option<Explanation> {
    let scenario = scenario(watchers);
    let evidence = Evidence::gather(&scenario, &scenario.watchers[0], trace, checks);
    rule(&evidence)
}

/// The server's word that a fault of the kind `kind:` names `name` acted on request `request`.
pub(super) fn hit(secs: u64, request: u64, name: &str) -> TraceEvent {
    let fault = FaultKind::named(name).expect("the test names a fault kind");
    at(secs, TraceKind::FaultHit { request, fault })
}

pub(super) const PLAIN: &str = "[{ name: w }]";
