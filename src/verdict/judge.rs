//! The oracle for the kube-rs watcher: (scenario, set-up, trace) → [`Verdict`]. Pure: no I/O,
//! no clock. It reads the run once, works out when the watcher was disrupted and back, and runs
//! each check (one file each under `check/`); a failure is diagnosed (`diagnosis.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::call::calls;
use super::check::checkpoints::no_ghosts_or_losses;
use super::check::converged::{Held, converged};
use super::check::deadline::{BackAfter, Comeback, Recovery, Sight, back_within, last_fault};
use super::check::kept_up::{kept_up, open_watch};
use super::check::monotonic::versions_rose;
use super::check::relists::{Relisting, relists_within};
use super::check::request_rate::{pacing, peak_per_minute, rate_within};
use super::check::resumable::{ResumeEvidence, resumable};
use super::check::survived::{Ending, survived};
use super::delivery_lag::DELIVERY_LAG;
use super::diagnosis;
use super::fold::{Objects, Sample, gaps, samples};
use super::protocol::protocol_checks;
use super::reaction::after_gone;
use super::request_log::{StormStop, lists, watch_ends};
use super::scorecard::{Check, Figures, Marks, Verdict};
use super::watcher_history::walk_resumes;
use crate::check_name::CheckName;
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
    let recovery = disruption(scenario, trace, &run, &gaps);
    let calls = calls(trace, |_| true, Duration::MAX);
    let relisting = Relisting::of(&calls, &after_gone(&calls));
    let peak = peak_per_minute(&run.requests.iter().map(|(at, _)| *at).collect::<Vec<_>>());
    let figures = figures(scenario, &run, &gaps, &recovery, relisting.relists, peak);

    let (selector, expect) = (&setup.config.selector, &scenario.expect);
    let stopped = run.storm.map_or(scenario.duration, |s| s.at);
    let ending = match (run.ended, run.storm) {
        (Some((at, cause)), _) => Ending::StreamEnded(at, cause),
        (None, Some(storm)) => Ending::Storm(storm),
        (None, None) => Ending::ReadOn,
    };
    let mut checks = vec![
        survived(
            &ending,
            scenario.duration,
            (expect.deadline, 1),
            scenario.server.max_requests,
        ),
        converged(
            &Held {
                sight: Sight::View,
                objects: &run.view,
                store: run.store.as_ref(),
                stopped_early: run.ended.is_some() || run.storm.is_some(),
            },
            &run.truth,
        ),
        back_within(&recovery.recovery(stopped), expect.deadline),
        relists_within(&relisting, expect.max_relists),
        rate_within(
            peak,
            expect.max_requests_per_minute,
            run.storm.is_some(),
            pacing(&calls),
        ),
    ];
    checks.push(versions_rose(trace));
    checks.push(resumable(&ResumeEvidence::Walked(walk_resumes(
        trace,
        selector,
        setup.shape,
    ))));
    if !expect.checkpoints.is_empty() {
        checks.push(no_ghosts_or_losses(
            trace,
            selector,
            setup.shape,
            &expect.checkpoints,
            lag,
        ));
    }
    checks.push(kept_up(
        trace,
        open_watch(&calls),
        stopped.saturating_sub(expect.deadline),
        &scenario.resource,
    ));
    // The protocol: how it reacted to what the server said, whatever came of it.
    let bounds = (lag, expect.deadline, scenario.duration);
    checks.extend(protocol_checks(trace, &calls, bounds, |(from, to)| {
        to - from
    }));
    let marks = marks(&run, gaps.clone(), lag);
    let tolerated: Vec<CheckName> = checks
        .iter()
        .filter(|c| !c.passed && setup.tolerate.contains(&c.name))
        .map(|c| c.name)
        .collect();
    let recovered = checks
        .iter()
        .all(|c| c.passed || tolerated.contains(&c.name));
    if recovered {
        return Verdict {
            recovered,
            checks,
            tolerated,
            figures,
            mechanism: None,
            chain: Vec::new(),
            first_divergence: None,
            diagnosis: None,
            marks,
        };
    }
    // A tolerated breach is no part of why it failed.
    let judged: Vec<Check> = checks
        .iter()
        .map(|c| Check {
            passed: c.passed || tolerated.contains(&c.name),
            ..c.clone()
        })
        .collect();
    let found = diagnosis::diagnose(scenario, setup, trace, &judged, (&gaps, lag));
    Verdict {
        recovered,
        checks,
        tolerated,
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
    storm: Option<StormStop>,
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
        let storm = StormStop::in_trace(trace, Duration::MAX);
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

/// When the watcher was disrupted and back in sync, and whether its view converged.
struct Disruption {
    /// The view ended equal to the truth, and the run neither ended early nor was stopped.
    converged: bool,
    disrupted_at: Option<Duration>,
    recovered_at: Option<Duration>,
    /// The last of the watcher's errors that counted as a disruption.
    last_error: Option<Duration>,
    /// When the last fault ended (or last acted), if one played.
    last_fault: Option<Duration>,
}

impl Disruption {
    /// The deadline check's view of it; `stopped` where the run stopped.
    fn recovery(&self, stopped: Duration) -> Recovery {
        let comeback = match (self.converged, self.disrupted_at, self.recovered_at) {
            (false, ..) => Comeback::NeverInSync,
            (true, None, _) => Comeback::Undisrupted,
            (true, Some(_), None) => Comeback::ErrorsToTheEnd(self.last_error.unwrap_or_default()),
            (true, Some(_), Some(at)) => Comeback::Back(
                at,
                BackAfter::as_played(at.saturating_sub(self.last_fault.unwrap_or_default())),
            ),
        };
        Recovery {
            sight: Sight::View,
            comeback,
            last_fault: self.last_fault,
            stopped,
            speed: 1,
        }
    }
}

/// When the watcher was disrupted and when it was back in sync.
fn disruption(
    scenario: &Scenario,
    trace: &Trace,
    run: &Run<'_>,
    gaps: &[(Duration, Option<Duration>)],
) -> Disruption {
    let first_fault = scenario.first_fault().unwrap_or(Duration::ZERO);
    let faulted_until = last_fault(scenario, trace, |_| true);
    let last_fault = faulted_until.unwrap_or_default();
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
        .all(|error| error.0 <= last_fault || steady(error))
    {
        // An error at the instant of the last fault (an instant fault's 410) is that fault's.
        run.errors
            .iter()
            .copied()
            .filter(|t| *t <= last_fault)
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
    Disruption {
        converged,
        disrupted_at,
        recovered_at,
        last_error,
        last_fault: faulted_until,
    }
}

/// The run's figures for the reports.
fn figures(
    scenario: &Scenario,
    run: &Run<'_>,
    gaps: &[(Duration, Option<Duration>)],
    recovery: &Disruption,
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
