//! The oracle for the kube-rs watcher: (scenario, set-up, trace) → [`Verdict`]. Pure: no I/O,
//! no clock. It reads the run once, works out when the watcher was disrupted and back, and runs
//! each check (one file each under `check/`); a failure is diagnosed (`diagnosis.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::check::checkpoints::no_ghosts_or_losses;
use super::check::converged::view_converged;
use super::check::deadline::{Recovery, back_in_sync};
use super::check::monotonic::versions_rose;
use super::check::relists::{relists, relists_within};
use super::check::request_rate::{peak_per_minute, rate_within};
use super::check::resumable::resumed_watches_delivered;
use super::check::survived::stream_survived;
use super::delivery_lag::DELIVERY_LAG;
use super::diagnosis;
use super::fold::{Objects, Sample, gaps, samples};
use super::request_log::{lists, watch_ends};
use super::scorecard::{Figures, Marks, Verdict};
use crate::scenario::{Scenario, SetUp};
use crate::trace::{ConsumerStop, RequestRecord, Trace, TraceKind, Verb, WatchEnd};

/// Judges one set-up's run from its trace, forgiving [`DELIVERY_LAG`] of delivery time.
#[must_use]
pub fn judge(scenario: &Scenario, setup: &SetUp, trace: &Trace) -> Verdict {
    judge_with_lag(scenario, setup, trace, DELIVERY_LAG)
}

/// Judges one set-up's run from its trace. A stretch where the view differs from the truth
/// counts as a disruption only if it lasts longer than `lag`: a live server sped up N× turns
/// each millisecond of real delivery time into N of virtual time.
#[must_use]
pub fn judge_with_lag(scenario: &Scenario, setup: &SetUp, trace: &Trace, lag: Duration) -> Verdict {
    let run = Run::read(trace, setup);
    let gaps = gaps(&run.samples, lag);
    let recovery = recovery(scenario, trace, &run, &gaps);
    let relists = relists(run.requests.iter().map(|(_, r)| *r));
    let peak = peak_per_minute(&run.requests.iter().map(|(at, _)| *at).collect::<Vec<_>>());
    let figures = figures(scenario, &run, &gaps, &recovery, relists, peak);

    let (selector, expect) = (&setup.config.selector, &scenario.expect);
    let mut checks = vec![
        stream_survived(run.ended, run.storm, scenario.server.max_requests),
        view_converged(
            recovery.converged,
            &run.view,
            &run.truth,
            run.store.as_ref(),
        ),
        back_in_sync(&recovery, expect.deadline),
    ];
    checks.extend(expect.max_relists.map(|max| relists_within(relists, max)));
    checks.extend(
        expect
            .max_requests_per_minute
            .map(|max| rate_within(peak, max)),
    );
    checks.push(versions_rose(trace));
    checks.push(resumed_watches_delivered(trace, selector, setup.shape));
    if !expect.checkpoints.is_empty() {
        checks.push(no_ghosts_or_losses(
            trace,
            selector,
            setup.shape,
            &expect.checkpoints,
            lag,
        ));
    }
    let marks = marks(&run, gaps.clone(), lag);
    let recovered = checks.iter().all(|c| c.passed);
    if recovered {
        return Verdict {
            recovered,
            checks,
            figures,
            mechanism: None,
            chain: Vec::new(),
            first_divergence: None,
            diagnosis: None,
            marks,
        };
    }
    let found = diagnosis::diagnose(scenario, setup, trace, &checks, &gaps);
    Verdict {
        recovered,
        checks,
        figures,
        mechanism: Some(found.mechanism),
        chain: found.chain,
        first_divergence: found.first_divergence,
        diagnosis: Some(found.text),
        marks,
    }
}

/// What the judge reads off a run's trace, once.
struct Run<'a> {
    requests: Vec<(Duration, &'a RequestRecord)>,
    watch_ends: BTreeMap<u64, &'a WatchEnd>,
    /// Each error the watcher emitted, and whether it was its own (no Status: a transport
    /// error such as its read timeout) rather than one the server answered.
    emitted: Vec<(Duration, bool)>,
    errors: Vec<Duration>,
    /// How the consumer's stream ended, if it did.
    ended: Option<(Duration, &'a ConsumerStop)>,
    /// When the run was stopped as a request storm.
    storm: Option<(Duration, u64, Option<Duration>)>,
    samples: Vec<Sample>,
    view: Objects,
    truth: Objects,
    /// The reflector's store at the end, if the set-up kept one.
    store: Option<Objects>,
}

impl<'a> Run<'a> {
    fn read(trace: &'a Trace, setup: &SetUp) -> Self {
        let requests: Vec<(Duration, &RequestRecord)> = trace
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::Request(r) => Some((e.at, r)),
                _ => None,
            })
            .collect();
        let emitted: Vec<(Duration, bool)> = trace
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::WatcherError(f) => Some((e.at, f.code.is_none())),
                _ => None,
            })
            .collect();
        let errors: Vec<Duration> = emitted.iter().map(|(at, _)| *at).collect();
        let ended = trace.iter().find_map(|e| match &e.kind {
            TraceKind::StreamEnded { cause } => Some((e.at, cause)),
            _ => None,
        });
        let storm = trace.iter().find_map(|e| match e.kind {
            TraceKind::Storm { requests, burst } => Some((e.at, requests, burst)),
            _ => None,
        });
        let (samples, view, truth) = samples(trace, &setup.config.selector, setup.shape);
        let store = trace.iter().rev().find_map(|e| match &e.kind {
            TraceKind::Store { objects } => {
                Some(objects.iter().cloned().collect::<BTreeMap<_, _>>())
            }
            _ => None,
        });
        Self {
            requests,
            watch_ends: watch_ends(trace),
            emitted,
            errors,
            ended,
            storm,
            samples,
            view,
            truth,
            store,
        }
    }

    /// When the first request at or after `t` was answered well.
    fn healthy_after(&self, t: Duration) -> Option<Duration> {
        self.requests
            .iter()
            .find(|(at, r)| *at >= t && r.status == 200 && healthy(r, &self.watch_ends))
            .map(|(at, _)| *at)
    }
}

/// When the last fault ended: as the timeline says, or later when a fault aimed by a count
/// acted later (a request it hit, a damaged event line), which the timeline cannot know.
fn last_fault(scenario: &Scenario, trace: &Trace) -> Option<Duration> {
    let acted = trace
        .iter()
        .filter(|e| match &e.kind {
            TraceKind::FaultHit { .. } => true,
            TraceKind::Sent { event, .. } => event.damaged.is_some(),
            _ => false,
        })
        .map(|e| e.at)
        .max();
    scenario.last_fault_end().max(acted)
}

/// When the watcher was disrupted and when it was back in sync.
fn recovery(
    scenario: &Scenario,
    trace: &Trace,
    run: &Run<'_>,
    gaps: &[(Duration, Option<Duration>)],
) -> Recovery {
    let first_fault = scenario.first_fault().unwrap_or(Duration::ZERO);
    let (last_fault, faulted) = match last_fault(scenario, trace) {
        Some(at) => (at, true),
        None => (Duration::ZERO, false),
    };
    // Errors of the client's own (no Status: its read timeout on a quiet watch) that go on
    // after the faults are over, each followed within the deadline by a request answered
    // well, are the watcher's steady state: they cost requests, which the rate check counts,
    // but they are not a disruption it has to recover from. An error the server answered (a
    // 410 from a resume point it no longer has) is one, whenever it comes.
    let deadline = scenario.expect.deadline;
    let steady = |(t, own): &(Duration, bool)| {
        *own && (run.healthy_after(*t).is_some_and(|h| h - *t <= deadline)
            || *t + deadline >= scenario.duration)
    };
    let disruptive: Vec<Duration> = if run
        .emitted
        .iter()
        .all(|error| error.0 < last_fault || steady(error))
    {
        run.errors
            .iter()
            .copied()
            .filter(|t| *t < last_fault)
            .collect()
    } else {
        run.errors.clone()
    };
    let first_error = disruptive.iter().copied().find(|t| *t >= first_fault);
    let first_gap = gaps
        .iter()
        .find(|(start, _)| *start >= first_fault)
        .map(|(start, _)| *start);
    let disrupted_at = match (first_error, first_gap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // Back in sync: a healthy request after the last error, and the view equal to the truth
    // from the last gap on.
    let last_error = disruptive.last().copied();
    let last_gap_end = gaps.last().map(|(_, end)| *end);
    let in_sync_at_end = run.samples.last().is_none_or(|s| s.in_sync) && run.view == run.truth;
    let converged = in_sync_at_end
        && run.ended.is_none()
        && run.storm.is_none()
        && run.store.as_ref().is_none_or(|s| *s == run.truth);
    let recovered_at = if !converged {
        None
    } else {
        match disrupted_at {
            None => None,
            Some(_) => {
                // Settled once a request after the last error was answered well, or the watch
                // it came on went on delivering (a malformed event fails one line, not the
                // stream).
                let after_error = last_error.map_or(Some(Duration::ZERO), |t| {
                    match (run.healthy_after(t), delivered_after_last_error(trace)) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                });
                let after_gap = match last_gap_end {
                    None => Some(Duration::ZERO),
                    Some(end) => end,
                };
                match (after_error, after_gap) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                }
            }
        }
    };
    Recovery {
        converged,
        disrupted_at,
        recovered_at,
        last_error,
        last_fault,
        faulted,
    }
}

/// The run's figures for the reports.
fn figures(
    scenario: &Scenario,
    run: &Run<'_>,
    gaps: &[(Duration, Option<Duration>)],
    recovery: &Recovery,
    relists: u32,
    peak: u32,
) -> Figures {
    let (disrupted_at, recovered_at) = (recovery.disrupted_at, recovery.recovered_at);
    Figures {
        requests: run.requests.len() as u64,
        relists,
        errors: u32::try_from(run.errors.len()).unwrap_or(u32::MAX),
        peak_requests_per_minute: peak,
        disrupted_at,
        recovered_at,
        recovery_latency: recovered_at
            .zip(disrupted_at)
            .map(|(r, d)| r.saturating_sub(d)),
        blind_time: gaps
            .iter()
            .map(|(start, end)| end.unwrap_or(scenario.duration).saturating_sub(*start))
            .max(),
    }
}

/// What the timeline marks: the gaps, the relists, the errors, the requests that failed.
fn marks(run: &Run<'_>, gaps: Vec<(Duration, Option<Duration>)>, lag: Duration) -> Marks {
    Marks {
        lag,
        gaps,
        relists: run
            .requests
            .iter()
            .filter(|(at, r)| lists(r) && *at > Duration::ZERO)
            .map(|(at, _)| *at)
            .collect(),
        errors: run.errors.clone(),
        failed_requests: run
            .requests
            .iter()
            .filter(|(_, r)| r.status != 200 || !healthy(r, &run.watch_ends))
            .map(|(_, r)| r.id)
            .collect(),
    }
}

/// A request after which the watcher is served again: not a watch that only carried an ERROR.
/// When the watcher first emitted an event after its last error, if it did.
fn delivered_after_last_error(trace: &Trace) -> Option<Duration> {
    let last = trace
        .iter()
        .rposition(|e| matches!(e.kind, TraceKind::WatcherError(_)))?;
    trace[last + 1..]
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                TraceKind::Apply { .. }
                    | TraceKind::Delete { .. }
                    | TraceKind::InitApply { .. }
                    | TraceKind::InitDone
            )
        })
        .map(|e| e.at)
}

fn healthy(request: &RequestRecord, watch_ends: &BTreeMap<u64, &WatchEnd>) -> bool {
    request.verb != Verb::Watch
        || !matches!(watch_ends.get(&request.id), Some(WatchEnd::Error { .. }))
}

/// Each check of the judge, with a trace that passes it and one that fails it.
#[cfg(test)]
mod check_tests {

    use super::*;
    use crate::trace::TraceEvent;
    use crate::verdict::scorecard::{Check, CheckName};

    const S: fn(u64) -> Duration = Duration::from_secs;

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

    fn at(secs: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent { at: S(secs), kind }
    }

    fn request(secs: u64, id: u64, verb: Verb, status: u16) -> TraceEvent {
        at(
            secs,
            TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: String::new(),
                status,
                verb,
                agent: String::new(),
                process: None,
            }),
        )
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
            failed.detail.contains("at most 10 requests"),
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
}
