//! Each check of the kube-rs judge, with a trace that passes it and one that fails it.

use super::judge::judge;
use crate::check_name::CheckName;
use crate::scenario::Scenario;
use crate::trace::{ConsumerStop, Trace, TraceEvent, TraceKind, Verb};
use crate::verdict::fixtures::{self, S, at};
use crate::verdict::scorecard::Check;

/// A 10-minute scenario with a fault at 1m, deadline 1m, at most 1 relist and 5 requests a
/// minute.
fn scenario() -> Scenario {
    Scenario::from_yaml(
        "duration: 10m
resource: { version: v1, kind: ConfigMap, plural: configmaps, objects: [{ name: a }] }
timeline: [{ at: 1m, kind: expire_watches }]
watchers: [{ name: w }]
expect: { deadline: 1m, max_relists: 1, max_requests_per_minute: 5, recover: [w] }
",
    )
    .expect("the test scenario is valid")
}

fn request(secs: u64, id: u64, verb: Verb, status: u16) -> TraceEvent {
    fixtures::request(secs, id, verb, "", status)
}

fn write(secs: u64, rv: u64) -> TraceEvent {
    at(
        secs,
        TraceKind::Write {
            key: "default/a".into(),
            labels: Default::default(),
            fields: Default::default(),
            resource_version: rv,
            exists: true,
        },
    )
}

fn apply(secs: u64, rv: u64) -> TraceEvent {
    at(
        secs,
        TraceKind::Apply {
            key: "default/a".into(),
            resource_version: rv,
        },
    )
}

/// The object, listed and watched: a healthy run.
fn healthy() -> Trace {
    vec![
        write(0, 1),
        request(0, 1, Verb::List, 200),
        at(0, TraceKind::Init),
        at(
            0,
            TraceKind::InitApply {
                key: "default/a".into(),
                resource_version: 1,
            },
        ),
        at(0, TraceKind::InitDone),
        request(0, 2, Verb::Watch, 200),
    ]
}

fn check(trace: &Trace, name: CheckName) -> Check {
    let scenario = scenario();
    judge(&scenario, &scenario.watchers[0], trace)
        .checks
        .into_iter()
        .find(|c| c.name == name)
        .expect("the check ran")
}

#[test]
fn survived_passes_while_the_stream_lives_and_fails_when_it_ends() {
    assert!(check(&healthy(), CheckName::Survived).passed);
    let mut ended = healthy();
    ended.push(at(
        70,
        TraceKind::StreamEnded {
            cause: ConsumerStop::WatcherReturned,
        },
    ));
    let failed = check(&ended, CheckName::Survived);
    assert!(!failed.passed);
    assert!(
        failed.detail.starts_with("the stream ended at 1m10s"),
        "{}",
        failed.detail
    );
}

#[test]
fn converged_passes_when_the_view_ends_equal_to_the_truth_and_fails_on_a_missed_write() {
    let mut caught_up = healthy();
    caught_up.extend([write(120, 5), apply(120, 5)]);
    assert!(check(&caught_up, CheckName::Converged).passed);
    let mut missed = healthy();
    missed.push(write(120, 5));
    let failed = check(&missed, CheckName::Converged);
    assert!(!failed.passed);
    assert!(
        failed.detail.contains("stale default/a"),
        "{}",
        failed.detail
    );
}

#[test]
fn deadline_passes_when_back_in_sync_in_time_and_fails_when_late() {
    let disrupted = |back: u64| {
        let mut trace = healthy();
        trace.extend([
            expired(60),
            write(61, 3),
            request(back, 3, Verb::List, 200),
            apply(back, 3),
        ]);
        trace
    };
    assert!(check(&disrupted(90), CheckName::Deadline).passed);
    let late = check(&disrupted(300), CheckName::Deadline);
    assert!(!late.passed);
    assert!(
        late.detail.contains("back in sync at 5m"),
        "{}",
        late.detail
    );
}

/// A watcher error at `secs`: the Status `code` the server answered, or none of the
/// client's own.
fn watcher_error(secs: u64, code: Option<u16>, message: &str) -> TraceEvent {
    at(
        secs,
        TraceKind::WatcherError(crate::trace::WatcherFault {
            variant: crate::trace::WatcherErrorVariant::WatchError,
            code,
            reason: code.map(|_| "Expired".into()),
            status_message: None,
            timed_out: false,
            message: message.into(),
        }),
    )
}

/// A 410 the server answered at `secs`.
fn expired(secs: u64) -> TraceEvent {
    watcher_error(secs, Some(410), "too old")
}

/// A read timeout on a quiet watch at `secs`.
fn timed_out(secs: u64) -> TraceEvent {
    watcher_error(secs, None, "timed out")
}

#[test]
fn errors_that_recur_after_the_faults_each_followed_by_a_healthy_request_have_settled() {
    // Every two minutes from 2m the watch times out and is made again at once.
    let mut trace = healthy();
    for (i, t) in (120..=540).step_by(120).enumerate() {
        trace.push(timed_out(t));
        trace.push(request(t + 1, 10 + i as u64, Verb::Watch, 200));
    }
    trace.push(timed_out(590));
    let deadline = check(&trace, CheckName::Deadline);
    assert!(deadline.passed, "{}", deadline.detail);
    assert_eq!(deadline.detail, "never out of sync: no recovery needed");
    // A 410 is the server's answer, not the watcher's steady state.
    let mut gone = trace.clone();
    gone.push(expired(400));
    gone.sort_by_key(|e| e.at);
    assert!(!check(&gone, CheckName::Deadline).passed);
}

#[test]
fn a_410_at_the_instant_of_the_last_fault_is_that_fault_s_and_later_timeouts_are_steady() {
    // The fault at 1m (`expire_watches`) sends its 410 at 1m; from then on, read timeouts on
    // a quiet watch, each followed by a good re-watch.
    let with_410_at = |secs| {
        let mut trace = healthy();
        trace.extend([
            expired(secs),
            request(secs + 1, 3, Verb::List, 200),
            request(secs + 1, 4, Verb::Watch, 200),
        ]);
        for (i, t) in (180..=420).step_by(120).enumerate() {
            trace.push(timed_out(t));
            trace.push(request(t + 1, 5 + i as u64, Verb::Watch, 200));
        }
        trace.sort_by_key(|e| e.at);
        trace
    };
    let at_the_fault = check(&with_410_at(60), CheckName::Deadline);
    assert!(at_the_fault.passed, "{}", at_the_fault.detail);
    let after_it = check(&with_410_at(61), CheckName::Deadline);
    assert!(
        !after_it.passed,
        "a 410 after the fault's instant is the server's later word: {}",
        after_it.detail
    );
}

#[test]
fn errors_that_go_on_with_no_healthy_request_after_the_faults_never_settled() {
    let mut trace = healthy();
    trace.extend([timed_out(120), request(121, 10, Verb::Watch, 403)]);
    trace.extend([timed_out(300), request(301, 11, Verb::Watch, 403)]);
    let deadline = check(&trace, CheckName::Deadline);
    assert!(!deadline.passed);
    assert!(
        deadline.detail.starts_with("never settled"),
        "{}",
        deadline.detail
    );
}

#[test]
fn relists_pass_within_the_bound_and_fail_past_it() {
    let mut once = healthy();
    once.push(request(70, 3, Verb::List, 200));
    assert!(check(&once, CheckName::Relists).passed);
    let mut twice = once;
    twice.push(request(80, 4, Verb::List, 200));
    assert!(!check(&twice, CheckName::Relists).passed);
}

#[test]
fn the_request_rate_passes_when_paced_and_fails_on_a_burst() {
    let paced: Trace = (0..10)
        .map(|i| request(i * 20, i, Verb::Watch, 200))
        .collect();
    assert!(check(&paced, CheckName::RequestRate).passed);
    let burst: Trace = (0..10)
        .map(|i| request(100 + i, i, Verb::Watch, 410))
        .collect();
    let failed = check(&burst, CheckName::RequestRate);
    assert!(!failed.passed);
    assert!(
        failed
            .detail
            .starts_with("peak 10 requests in a minute (bound 5)"),
        "{}",
        failed.detail
    );
}

#[test]
fn blind_time_is_the_longest_stretch_out_of_sync() {
    let mut trace = healthy();
    trace.extend([write(100, 3), apply(130, 3), write(200, 4), apply(210, 4)]);
    let scenario = scenario();
    let verdict = judge(&scenario, &scenario.watchers[0], &trace);
    assert_eq!(verdict.figures.blind_time, Some(S(30)));
}
