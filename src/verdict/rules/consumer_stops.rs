//! Rules for a run the consumer ended: it hung, it panicked, or it stopped on an error kube's
//! watcher would have recovered from by itself (a store's driver included).

use std::time::Duration;

use super::consumer_pace::closed_as_unresponsive;
use super::explanation::{Explanation, caused, describe, found, link};
use crate::mechanism::Mechanism;
use crate::scenario::Consumer;
use crate::scenario::format_duration as fmt;
use crate::trace::{
    Asked, ConsumerStop, FaultKind, RequestRecord, TraceKind, WatchEnd, WatcherErrorVariant,
};
use crate::verdict::answer::Answer;
use crate::verdict::delivery_lag::DELIVERY_LAG;
use crate::verdict::evidence::{Evidence, resource_version, verb};

pub(super) fn hung(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    matches!(cause, ConsumerStop::Hung { .. }).then(|| Explanation {
        mechanism: Mechanism::Hung,
        chain: vec![link(at, format!("the run did not finish: {cause}"))],
    })
}

pub(super) fn consumer_panicked(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    (*cause == ConsumerStop::Panicked).then(|| Explanation {
        mechanism: Mechanism::ConsumerPanicked,
        chain: vec![link(
            at,
            format!(
                "the consumer panicked at {}: a bug in the code that reads the stream, not a state of the server",
                fmt(at)
            ),
        )],
    })
}

/// ` (no fault: the server's own compaction at 4m)`: a 410 no fault gave to a watch etcd
/// served (no watch cache, whose window would answer instead), from a resume point the
/// server's periodic compaction had taken away by the time the watch ended; nothing
/// otherwise.
fn own_compaction(e: &Evidence, request: &RequestRecord) -> String {
    if e.scenario.server.watch_cache || !e.answer(request).is_gone() {
        return String::new();
    }
    let Asked::At(from) = request.asked() else {
        return String::new();
    };
    let ended = e
        .trace
        .iter()
        .find_map(|event| match &event.kind {
            TraceKind::WatchEnded { request: id, .. } if *id == request.id => Some(event.at),
            _ => None,
        })
        .unwrap_or(Duration::MAX);
    e.trace
        .iter()
        .rev()
        .filter(|event| event.at <= ended)
        .find_map(|event| match event.kind {
            // etcd's floor: revisions below `revision` are gone, and a watch from `from`
            // needs `from + 1` on (the store's `changes_after`).
            TraceKind::Compacted { revision } if revision > from + 1 => Some(format!(
                " (no fault: the server's own compaction at {})",
                fmt(event.at)
            )),
            _ => None,
        })
        .unwrap_or_default()
}

pub(super) fn stopped_on_recoverable_error(e: &Evidence) -> Option<Explanation> {
    let (at, cause) = e.stream_end?;
    match cause {
        ConsumerStop::DriverReturned => return driver_stopped_on_an_error(e, at),
        ConsumerStop::ReturnedError(_) => {}
        _ => return None,
    }
    let (error_at, error) = e.errors.iter().rev().find(|(t, _)| *t <= at)?;
    let mut chain = Vec::new();
    if let Some((request_at, request)) = e.requests.iter().rev().find(|(t, _)| t <= error_at) {
        chain.push(link(
            *request_at,
            format!(
                "the server answered the {} at {}{} with {}{}",
                verb(request),
                fmt(*request_at),
                resource_version(request)
                    .filter(|rv| !rv.is_empty())
                    .map(|rv| format!(" from resourceVersion={rv}"))
                    .unwrap_or_default(),
                e.answer(request),
                match caused(e, *request_at, request, &e.answer(request)) {
                    cause if cause.is_empty() => match own_compaction(e, request) {
                        own if own.is_empty() && e.answer(request).is_gone() => {
                            closed_as_unresponsive(e, *request_at)
                        }
                        own => own,
                    },
                    cause => cause,
                }
            ),
        ));
    }
    // An attempt the server never saw: a restart between the last request it answered and
    // the error had it down, refusing connections.
    let last_request = e
        .requests
        .iter()
        .rev()
        .find(|(t, _)| t <= error_at)
        .map_or(Duration::ZERO, |(t, _)| *t);
    let restart = e
        .faults
        .iter()
        .rev()
        .find(|(t, kind)| *kind == FaultKind::Restart && *t > last_request && t <= error_at);
    if let Some((restart_at, _)) = restart {
        chain.push(link(
            *restart_at,
            format!(
                "its next attempt reached no server: the apiserver was down (restart at {})",
                fmt(*restart_at)
            ),
        ));
    }
    chain.push(link(
        *error_at,
        format!("the watcher emitted {}", describe(error)),
    ));
    // kube-runtime relists on an in-stream 410 and retries everything else, from the same
    // resourceVersion (an HTTP 410 at watch start included).
    let remedy = if error.variant == WatcherErrorVariant::WatchError && error.code == Some(410) {
        "relisted"
    } else {
        "retried"
    };
    let consumer = match e.setup.consumer {
        Consumer::StopOnError => "the consumer (stop_on_error)".to_owned(),
        other => format!("the consumer ({})", other.as_str()),
    };
    chain.push(link(
        at,
        format!(
            "{consumer} stopped on it at {}: kube's watcher recovers from that error by itself, and would have {remedy}",
            fmt(at)
        ),
    ));
    found(Mechanism::StoppedOnRecoverableError, chain)
}

/// A store's driver that returned the instant the server answered with an error: the
/// watcher's errors are not seen from a store, but a driver that ends right on one ended on it
/// (a `try_for_each`, or `?`, on the reflector's stream).
fn driver_stopped_on_an_error(e: &Evidence, at: Duration) -> Option<Explanation> {
    let (answered, request, answer) = e
        .trace
        .iter()
        .take_while(|event| event.at <= at)
        .filter_map(|event| match &event.kind {
            TraceKind::Request(r) if r.status >= 400 => {
                Some((event.at, r.id, Answer::Status(r.status)))
            }
            TraceKind::WatchEnded {
                request,
                reason: WatchEnd::Error { code, reason, .. },
                ..
            } => Some((
                event.at,
                *request,
                Answer::InStreamError {
                    code: *code,
                    reason: reason.clone(),
                },
            )),
            _ => None,
        })
        .last()?;
    if at.saturating_sub(answered) > DELIVERY_LAG {
        return None;
    }
    let (requested, r) = e.requests.iter().find(|(_, r)| r.id == request)?;
    let remedy = if matches!(answer, Answer::InStreamError { code: 410, .. }) {
        "relisted"
    } else {
        "retried"
    };
    found(
        Mechanism::StoppedOnRecoverableError,
        vec![
            link(
                answered,
                format!(
                    "the server answered the {} at {}{} with {answer}{}",
                    verb(r),
                    fmt(*requested),
                    resource_version(r)
                        .filter(|rv| !rv.is_empty())
                        .map(|rv| format!(" from resourceVersion={rv}"))
                        .unwrap_or_default(),
                    caused(e, answered, r, &answer)
                ),
            ),
            link(
                at,
                format!(
                    "the future driving the store returned at {}, as that answer came: the watcher's error ended it (a `try_for_each` or `?` on the reflector's stream), so the store was never updated again; kube's watcher recovers from that error by itself, and would have {remedy}",
                    fmt(at)
                ),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Verb;
    use crate::verdict::fixtures::*;

    #[test]
    fn a_consumer_that_stopped_on_a_recoverable_error_is_found_and_one_that_read_on_is_not() {
        let mut trace = vec![
            fault(60, "expire_watches"),
            request(60, 3, Verb::Watch, "watch=1&resourceVersion=5", 200),
            error(60, WatcherErrorVariant::WatchError, Some(410), "too old"),
        ];
        assert_eq!(
            apply(stopped_on_recoverable_error, PLAIN, &trace, &[]),
            None
        );
        let TraceKind::WatcherError(too_old) = trace[2].kind.clone() else {
            unreachable!("the third event is the watcher's error")
        };
        trace.push(consumer_stopped(60, ConsumerStop::ReturnedError(too_old)));
        assert_eq!(
            apply(stopped_on_recoverable_error, PLAIN, &trace, &[]),
            Some(Mechanism::StoppedOnRecoverableError)
        );
    }

    #[test]
    fn a_410_no_fault_gave_is_put_down_to_the_server_s_own_compaction() {
        let stopped = |compacted_through: u64, watch_cache: bool| {
            let mut trace = vec![
                at(
                    30,
                    TraceKind::Compacted {
                        revision: compacted_through,
                    },
                ),
                request(60, 3, Verb::Watch, "watch=1&resourceVersion=5", 200),
                ended(
                    60,
                    3,
                    WatchEnd::Error {
                        code: 410,
                        reason: "Expired".into(),
                        message: "too old".into(),
                    },
                ),
                error(60, WatcherErrorVariant::WatchError, Some(410), "too old"),
            ];
            let TraceKind::WatcherError(too_old) = trace[3].kind.clone() else {
                unreachable!("the fourth event is the watcher's error")
            };
            trace.push(consumer_stopped(60, ConsumerStop::ReturnedError(too_old)));
            let mut scenario = scenario(PLAIN);
            scenario.server.watch_cache = watch_cache;
            let evidence = Evidence::gather(&scenario, &scenario.watchers[0], &trace, &[]);
            let found = stopped_on_recoverable_error(&evidence).expect("it fits");
            found.chain[0].text.clone()
        };
        assert!(
            stopped(7, false).ends_with("(no fault: the server's own compaction at 30s)"),
            "{}",
            stopped(7, false)
        );
        assert!(
            !stopped(6, false).contains("compaction"),
            "a watch from 5 still had 6 on"
        );
        assert!(
            !stopped(7, true).contains("compaction"),
            "with a watch cache, its window answers, not etcd"
        );
    }

    #[test]
    fn a_hung_run_and_a_panicked_consumer_are_found_and_a_plain_end_is_neither() {
        let ended = |cause: ConsumerStop| vec![consumer_stopped(60, cause)];
        assert_eq!(
            apply(
                hung,
                PLAIN,
                &ended(ConsumerStop::Hung { within: S(10) }),
                &[]
            ),
            Some(Mechanism::Hung)
        );
        assert_eq!(
            apply(
                consumer_panicked,
                PLAIN,
                &ended(ConsumerStop::Panicked),
                &[]
            ),
            Some(Mechanism::ConsumerPanicked)
        );
        let plain = ended(ConsumerStop::WatcherReturned);
        assert_eq!(apply(hung, PLAIN, &plain, &[]), None);
        assert_eq!(apply(consumer_panicked, PLAIN, &plain, &[]), None);
    }
}
