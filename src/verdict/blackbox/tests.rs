//! The black-box verdict on traces: each story with a trace that fits.

use std::time::Duration;

use super::client::{Client, Exit};
use super::client_judge::judge_client;
use super::identity::ClientId;
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::Scenario;
use crate::verdict::scorecard::Verdict;

use crate::trace::{
    EventType, RequestRecord, SentEvent, Trace, TraceEvent, TraceKind, Verb, WatchEnd,
};

fn scenario() -> Scenario {
    Scenario::from_yaml(
        "duration: 10m\n\
         resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
           objects: [{ name: a, namespace: default }] }\n\
         timeline: [{ at: 1m, kind: expire_watches }]\n\
         watchers: [{ name: any }]\n\
         expect: { deadline: 1m, max_requests_per_minute: 30, recover: [any] }\n",
    )
    .expect("the scenario loads")
}

fn request(at: u64, id: u64, verb: Verb, query: &str, status: u16) -> TraceEvent {
    TraceEvent {
        at: Duration::from_secs(at),
        kind: TraceKind::Request(RequestRecord {
            id,
            method: "GET".into(),
            path: "/api/v1/configmaps".into(),
            query: query.into(),
            status,
            verb,
            agent: "kubectl/v1.33".into(),
            process: None,
            retry_after: None,
            replica: None,
        }),
    }
}

fn opened(at: u64, request: u64, from: Option<u64>) -> TraceEvent {
    TraceEvent {
        at: Duration::from_secs(at),
        kind: TraceKind::WatchOpened {
            request,
            from,
            floor: 1,
            revision: 5,
        },
    }
}

fn gone(at: u64, request: u64) -> TraceEvent {
    TraceEvent {
        at: Duration::from_secs(at),
        kind: TraceKind::WatchEnded {
            request,
            reason: WatchEnd::Error {
                code: 410,
                reason: "Expired".into(),
                message: "too old resource version: 2 (5)".into(),
            },
            events: 1,
        },
    }
}

fn sent(at: u64, request: u64, rv: u64) -> TraceEvent {
    TraceEvent {
        at: Duration::from_secs(at),
        kind: TraceKind::Sent {
            request,
            event: SentEvent {
                type_: EventType::Modified,
                key: Some("default/a".into()),
                resource_version: Some(rv),
                damaged: None,
            },
        },
    }
}

fn judged(trace: &Trace, exit: Option<u64>) -> Verdict {
    judged_at(trace, exit, 1)
}

fn judged_at(trace: &Trace, exit: Option<u64>, speed: u32) -> Verdict {
    let exit = Exit {
        at: exit.map(Duration::from_secs),
        status: "exit 1".into(),
    };
    judge_client(
        &scenario(),
        trace,
        Client {
            id: &ClientId::Agent("kubectl/v1.33".into()),
            view: None,
            exit: &exit,
            end: Duration::from_secs(600),
            speed,
        },
    )
}

#[test]
fn a_client_that_relists_after_the_410_and_watches_on_recovered() {
    let trace = vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        gone(60, 2),
        request(61, 3, Verb::List, "", 200),
        request(61, 4, Verb::Watch, "watch=true&resourceVersion=5", 200),
        opened(61, 4, Some(5)),
    ];
    let verdict = judged(&trace, None);
    assert!(verdict.recovered, "{:?}", verdict.checks);
    assert_eq!(verdict.figures.relists, 1);
}

#[test]
fn a_client_idle_for_longer_than_the_deadline_after_a_410_was_stuck_meanwhile() {
    let trace = vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        gone(60, 2),
        request(360, 3, Verb::List, "", 200),
        request(360, 4, Verb::Watch, "watch=true&resourceVersion=5", 200),
        opened(360, 4, Some(5)),
    ];
    let verdict = judged(&trace, None);
    assert!(!verdict.recovered);
    let survived = &verdict.checks[0];
    assert_eq!(survived.name, CheckName::Survived);
    assert_eq!(
        survived.detail,
        "it had no open watch and made no request from 1m to 6m, 5m (deadline 1m)"
    );
}

#[test]
fn a_client_that_exits_at_the_410_stopped_on_a_recoverable_error() {
    let trace = vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        gone(60, 2),
    ];
    let verdict = judged(&trace, Some(60));
    assert!(!verdict.recovered);
    assert_eq!(
        verdict.mechanism,
        Some(Mechanism::StoppedOnRecoverableError)
    );
    let diagnosis = verdict.diagnosis.unwrap();
    // The chain quotes the survived check, and the diagnosis does not say it again.
    assert_eq!(
        diagnosis
            .matches("the client exited (exit 1) at 1m")
            .count(),
        1,
        "{diagnosis}"
    );
}

#[test]
fn a_client_that_relists_in_a_tight_loop_after_an_http_410_is_a_storm_with_its_pattern() {
    // It loops to the end of the run: a loop that stopped midway would be a client that
    // stopped, which the stories tell first.
    let mut trace = Vec::new();
    for i in 0..540 {
        trace.push(request(60 + i, 2 * i + 1, Verb::List, "", 200));
        trace.push(request(
            60 + i,
            2 * i + 2,
            Verb::Watch,
            "watch=true&resourceVersion=2",
            410,
        ));
    }
    let verdict = judged(&trace, None);
    assert_eq!(verdict.mechanism, Some(Mechanism::HotLoopWithoutBackoff));
    let diagnosis = verdict.diagnosis.unwrap();
    assert!(
        diagnosis.contains("it repeated LIST → 200, WATCH → 410 (×540, from 1m)"),
        "{diagnosis}"
    );
    assert_eq!(
        diagnosis.matches("peak 120 requests in a minute").count(),
        1,
        "{diagnosis}"
    );
}

#[test]
fn a_client_that_re_watches_from_the_expired_resource_version_resumed_after_gone() {
    let mut trace = vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        gone(60, 2),
    ];
    for (i, at) in (61..600).step_by(60).enumerate() {
        trace.push(request(
            at,
            3 + i as u64,
            Verb::Watch,
            "watch=true&resourceVersion=2",
            410,
        ));
    }
    let verdict = judged(&trace, None);
    assert_eq!(verdict.mechanism, Some(Mechanism::ResumedAfterGone));
}

#[test]
fn an_open_watch_that_was_never_sent_a_write_it_selects_did_not_keep_up() {
    let write = |at: u64, rv: u64| TraceEvent {
        at: Duration::from_secs(at),
        kind: TraceKind::Write {
            key: "default/a".into(),
            labels: Default::default(),
            fields: Default::default(),
            resource_version: rv,
            exists: true,
        },
    };
    let kept_up = |trace: &Trace| {
        judged(trace, None)
            .checks
            .into_iter()
            .find(|c| c.name == CheckName::KeptUp)
            .unwrap()
    };
    let mut trace = vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        write(100, 6),
        sent(100, 2, 6),
    ];
    assert!(kept_up(&trace).passed);
    trace.push(write(200, 7));
    let check = kept_up(&trace);
    assert!(!check.passed);
    assert!(
        check
            .detail
            .contains("never sent 1 write it selects, the first at 3m20s"),
        "{}",
        check.detail
    );
}

/// After a 410 at 1m, its relist fails at 1m1s, and the client waits 100 s of virtual time before
/// it relists again: at 20× that is 5 s of its own real waiting, 5 s at 1×, within the 1m
/// deadline; at 1× it is 100 s.
fn a_client_that_waits_100s_after_the_410() -> Trace {
    vec![
        request(0, 1, Verb::List, "", 200),
        request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
        opened(0, 2, Some(2)),
        gone(60, 2),
        request(61, 3, Verb::List, "", 503),
        request(161, 4, Verb::List, "", 200),
        request(161, 5, Verb::Watch, "watch=true&resourceVersion=5", 200),
        opened(161, 5, Some(5)),
    ]
}

#[test]
fn a_wait_of_the_client_s_own_counts_as_at_1x_on_a_faster_timeline() {
    let trace = a_client_that_waits_100s_after_the_410();
    let fast = judged_at(&trace, None, 20);
    assert!(fast.recovered, "{:?}", fast.checks);
    let deadline = fast
        .checks
        .iter()
        .find(|c| c.name == CheckName::Deadline)
        .expect("a deadline check");
    assert!(
        deadline
            .detail
            .contains("1m41s of it the client's own waiting with nothing open")
            && deadline.detail.contains(": 5.05s at 1×"),
        "{}",
        deadline.detail
    );
    let real_time = judged_at(&trace, None, 1);
    assert!(!real_time.recovered, "{:?}", real_time.checks);
}

#[test]
fn a_request_a_fault_held_back_is_not_the_client_s_own_wait() {
    let mut trace = a_client_that_waits_100s_after_the_410();
    // The relist arrived at 62s and a `latency` fault held its answer back until 2m41s.
    trace.insert(
        5,
        TraceEvent {
            at: Duration::from_secs(62),
            kind: TraceKind::FaultHit {
                request: 4,
                fault: crate::trace::FaultKind::Latency,
            },
        },
    );
    let fast = judged_at(&trace, None, 20);
    assert!(!fast.recovered, "{:?}", fast.checks);
}

#[test]
fn a_restart_s_downtime_is_not_the_client_s_own_wait() {
    // The server is down for 1m40s from 1m; the client is back as soon as it serves again.
    let scenario = Scenario::from_yaml(
        "duration: 10m\n\
         resource: { version: v1, kind: ConfigMap, plural: configmaps,\n\
           objects: [{ name: a, namespace: default }] }\n\
         timeline: [{ at: 1m, kind: restart, revision: keep, down: 100s }]\n\
         watchers: [{ name: any }]\n\
         expect: { deadline: 1m, max_requests_per_minute: 30, recover: [any] }\n",
    )
    .expect("the scenario loads");
    let trace = a_client_that_waits_100s_after_the_410();
    let exit = Exit {
        at: None,
        status: "exit 1".into(),
    };
    let verdict = judge_client(
        &scenario,
        &trace,
        Client {
            id: &ClientId::Agent("kubectl/v1.33".into()),
            view: None,
            exit: &exit,
            end: Duration::from_secs(600),
            speed: 20,
        },
    );
    assert!(!verdict.recovered, "{:?}", verdict.checks);
}

#[test]
fn a_client_that_asks_again_before_retry_after_ignored_it_and_one_that_waits_did_not() {
    let trace = |wait: u64| {
        let mut told = request(60, 3, Verb::Watch, "watch=true&resourceVersion=2", 429);
        if let TraceKind::Request(r) = &mut told.kind {
            r.retry_after = Some(5);
        }
        vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
            TraceEvent {
                at: Duration::from_secs(59),
                kind: TraceKind::WatchEnded {
                    request: 2,
                    reason: WatchEnd::Timeout,
                    events: 0,
                },
            },
            told,
            request(
                60 + wait,
                4,
                Verb::Watch,
                "watch=true&resourceVersion=2",
                200,
            ),
            opened(60 + wait, 4, Some(2)),
        ]
    };
    let soon = judged(&trace(1), None);
    assert_eq!(
        soon.mechanism,
        Some(Mechanism::RetryAfterIgnored),
        "{:?}",
        soon.checks
    );
    let waited = judged(&trace(5), None);
    assert!(waited.recovered, "{:?}", waited.checks);
}

#[test]
fn a_client_that_repeats_a_refused_request_to_the_end_is_told_so_and_one_that_changes_it_is_not() {
    let streaming = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan";
    let refused = |until: u64| -> Trace {
        let mut trace = vec![
            request(0, 1, Verb::List, "", 200),
            request(0, 2, Verb::Watch, "watch=true&resourceVersion=2", 200),
            opened(0, 2, Some(2)),
        ];
        for (i, at) in (300..=until).step_by(60).enumerate() {
            trace.push(request(at, 3 + i as u64, Verb::Watch, streaming, 422));
        }
        trace
    };
    let repeated = judged(&refused(590), None);
    let check = repeated
        .checks
        .iter()
        .find(|c| c.name == CheckName::RefusedRepeat)
        .expect("the check ran");
    assert!(!check.passed, "{}", check.detail);
    let mut changed = refused(420);
    changed.push(request(430, 9, Verb::List, "", 200));
    changed.push(request(
        430,
        10,
        Verb::Watch,
        "watch=true&resourceVersion=5",
        200,
    ));
    changed.push(opened(430, 10, Some(5)));
    let verdict = judged(&changed, None);
    let check = verdict
        .checks
        .iter()
        .find(|c| c.name == CheckName::RefusedRepeat)
        .expect("the check ran");
    assert!(check.passed, "{}", check.detail);
}
