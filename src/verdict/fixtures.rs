//! What the checks' and rules' tests build their traces from: a scenario, trace events of each
//! kind, a failed check, and `apply`, which runs one rule on a trace.

use std::time::Duration;

use super::rules::explanation::Explanation;
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::Scenario;
use crate::trace::{
    ConsumerStop, Damage, EventType, FaultKind, RequestRecord, SentEvent, Trace, TraceEvent,
    TraceKind, Verb, WatchEnd, WatcherErrorVariant, WatcherFault,
};
use crate::verdict::evidence::Evidence;
use crate::verdict::scorecard::Check;

pub(in crate::verdict) const S: fn(u64) -> Duration = Duration::from_secs;

pub(in crate::verdict) fn scenario(watchers: &str) -> Scenario {
    Scenario::from_yaml(&format!(
        "duration: 10m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps, objects: [{{ name: a }}] }}
watchers: {watchers}
expect: {{ deadline: 1m, recover: [w] }}
"
    ))
    .expect("the test scenario is valid")
}

pub(in crate::verdict) fn at(secs: u64, kind: TraceKind) -> TraceEvent {
    TraceEvent { at: S(secs), kind }
}

pub(in crate::verdict) fn request(
    secs: u64,
    id: u64,
    verb: Verb,
    query: &str,
    status: u16,
) -> TraceEvent {
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
            retry_after: None,
            replica: None,
        }),
    )
}

/// A request whose answer carried `Retry-After: seconds`.
pub(in crate::verdict) fn throttled(
    secs: u64,
    id: u64,
    verb: Verb,
    status: u16,
    seconds: u32,
) -> TraceEvent {
    let mut event = request(secs, id, verb, "", status);
    if let TraceKind::Request(r) = &mut event.kind {
        r.retry_after = Some(seconds);
    }
    event
}

/// A watch that ended so.
pub(in crate::verdict) fn ended(secs: u64, id: u64, reason: WatchEnd) -> TraceEvent {
    at(
        secs,
        TraceKind::WatchEnded {
            request: id,
            reason,
            events: 0,
        },
    )
}

pub(in crate::verdict) fn opened(
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

pub(in crate::verdict) fn sent(
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

pub(in crate::verdict) fn error(
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
pub(in crate::verdict) fn read_timed_out(secs: u64) -> TraceEvent {
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
pub(in crate::verdict) fn written(secs: u64, key: &str, rv: u64) -> TraceEvent {
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
pub(in crate::verdict) fn applied(secs: u64, key: &str, rv: u64) -> TraceEvent {
    at(
        secs,
        TraceKind::Apply {
            key: key.into(),
            resource_version: rv,
        },
    )
}

/// A fault of the kind `kind:` names `name` starting at `secs`.
pub(in crate::verdict) fn fault(secs: u64, name: &str) -> TraceEvent {
    let fault = FaultKind::named(name).expect("the test names a fault kind");
    at(secs, TraceKind::Fault { fault })
}

/// The consumer stopping at `secs`, for `cause`.
pub(in crate::verdict) fn consumer_stopped(secs: u64, cause: ConsumerStop) -> TraceEvent {
    at(secs, TraceKind::StreamEnded { cause })
}

pub(in crate::verdict) fn client(read_timeout: Option<u64>) -> TraceEvent {
    at(
        0,
        TraceKind::Client {
            read_timeout: read_timeout.map(S),
            retry: true,
        },
    )
}

pub(in crate::verdict) fn failed(name: CheckName) -> Check {
    Check {
        name,
        passed: false,
        detail: format!("{name:?} failed"),
    }
}

/// Runs `rule` on `trace` for the first set-up of `watchers`, with `checks`.
pub(in crate::verdict) fn apply(
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
pub(in crate::verdict) fn explain(
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
pub(in crate::verdict) fn hit(secs: u64, request: u64, name: &str) -> TraceEvent {
    let fault = FaultKind::named(name).expect("the test names a fault kind");
    at(secs, TraceKind::FaultHit { request, fault })
}

pub(in crate::verdict) const PLAIN: &str = "[{ name: w }]";
