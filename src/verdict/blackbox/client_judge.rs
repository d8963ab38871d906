//! The verdict on one exec client: each check (one file each under `verdict/check/`) run on
//! what the server saw it do, and, when one fails, the story that explains it (`story.rs`).

use std::time::Duration;

use super::client::Client;
use super::facts::Facts;
use super::pattern::{longest_idle, repeated_pattern};
use super::reactions::{Resumes, resumes};
use super::story;
use super::waits::Waits;
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::Scenario;
use crate::trace::{Trace, Verb};
use crate::verdict::call::{self, Call};
use crate::verdict::check::converged::{Held, converged};
use crate::verdict::check::deadline::{Comeback, Recovery, Sight, back_within, last_fault};
use crate::verdict::check::kept_up::{kept_up, open_watch};
use crate::verdict::check::relists::{Relisting, relists_within};
use crate::verdict::check::request_rate::{pacing, peak_per_minute, rate_within};
use crate::verdict::check::resumable::{ResumeEvidence, WatchStarts, resumable};
use crate::verdict::check::survived::{Ending, survived};
use crate::verdict::delivery_lag::live_delivery_lag;
use crate::verdict::fold::{Objects, apply_truth};
use crate::verdict::protocol::protocol_checks;
use crate::verdict::reaction::after_gone;
use crate::verdict::request_log::StormStop;
use crate::verdict::scorecard::{Check, Figures, Link, Marks, Verdict};
use crate::verdict::selection::selector_of;

/// Judges one client from the live server's trace.
#[must_use]
pub fn judge_client(scenario: &Scenario, trace: &Trace, client: Client<'_>) -> Verdict {
    let end = client.end;
    let calls = call::calls(trace, |r| client.id.sent(r), end);
    let deadline = scenario.expect.deadline;
    let first_fault = scenario.first_fault();
    let last_fault = last_fault(scenario, trace, |id| {
        calls.iter().any(|c| c.record.id == id)
    });
    let after_gone = after_gone(&calls);
    let resumes = resumes(&calls);
    let peak = peak_per_minute(&calls.iter().map(|c| c.at).collect::<Vec<_>>());
    let relisting = Relisting::of(&calls, &after_gone);
    let storm = StormStop::in_trace(trace, end);
    let stop = storm.map_or(end, |s| s.at.min(end)); // a storm stops the run early
    let pending = calls.iter().find(|c| c.record.status == 0);
    let open = open_watch(&calls);
    // A wait of the client's own took `speed` times as long in virtual time as it would have
    // at 1×: the checks hold it to what it would have been.
    let waits = Waits::new(scenario, client.speed);
    let ending = ending(
        &calls,
        &client,
        (first_fault, storm),
        deadline,
        &waits,
        open.is_some() || pending.is_some(),
    );
    let (disrupted_at, recovery) = disruption(&calls, (first_fault, last_fault), stop, &waits);
    let mut checks = vec![
        survived(
            &ending,
            end,
            (deadline, waits.speed()),
            scenario.server.max_requests,
        ),
        rate_within(
            peak,
            scenario.expect.max_requests_per_minute,
            storm.is_some(),
            pacing(&calls),
        ),
        relists_within(&relisting, scenario.expect.max_relists),
        back_within(&recovery, deadline),
        resumable(&ResumeEvidence::Counted(watch_starts(&resumes))),
        kept_up(
            trace,
            open,
            end.saturating_sub(deadline),
            &scenario.resource,
        ),
    ];
    let bounds = (live_delivery_lag(waits.speed()), deadline, end);
    checks.extend(protocol_checks(trace, &calls, bounds, |s| waits.at_1x(s)));
    // Converged: the cache it wrote against the truth it selects.
    if let Some(cache) = client.view {
        let held = Held {
            sight: Sight::Requests,
            objects: cache,
            store: None,
            stopped_early: false,
        };
        checks.push(converged(
            &held,
            &truth_selected(scenario, trace, &calls, end),
        ));
    }

    // In the order every verdict lists them.
    checks.sort_by_key(|c| CheckName::ALL.iter().position(|n| *n == c.name));
    // The mechanism: the first story that fits, in the order of how much it explains.
    let recovered_ok = checks.iter().all(|c| c.passed);
    let (mechanism, chain) = if recovered_ok {
        (None, Vec::new())
    } else {
        let failed = |name| checks.iter().find(|c| c.name == name && !c.passed);
        let pattern = repeated_pattern(&calls);
        let facts = Facts {
            trace,
            calls: &calls,
            checks: &checks,
            end,
            deadline,
            waits: &waits,
            storm: storm.map(|s| s.at),
            rate: failed(CheckName::RequestRate).map(|c| (c, pattern.as_deref())),
            first_fault,
            pending,
            after_gone: &after_gone,
            survived: failed(CheckName::Survived),
            resumes: &resumes,
            open,
            behind: failed(CheckName::KeptUp),
        };
        let (mechanism, chain) = story::tell(&facts);
        (Some(mechanism), chain)
    };
    let diagnosis = (!recovered_ok).then(|| diagnosis(mechanism, &chain, &checks));
    Verdict {
        recovered: recovered_ok,
        checks,
        tolerated: Vec::new(),
        figures: figures(
            &calls,
            (relisting.relists, peak),
            disrupted_at,
            match recovery.comeback {
                Comeback::Back(at, _) => Some(at),
                _ => None,
            },
        ),
        mechanism,
        chain,
        first_divergence: None,
        diagnosis,
        marks: Marks::default(),
    }
}

/// How its reading ended, from what it was doing towards the end: exited; stopped as a storm;
/// stuck midway, with no watch open, no request pending and no request made for longer than
/// the deadline after the first fault; or still at work at the end (`busy`: a watch open or a
/// request pending), or within the deadline of it.
fn ending<'c>(
    calls: &[Call<'_>],
    client: &Client<'c>,
    (first_fault, storm): (Option<Duration>, Option<StormStop>),
    deadline: Duration,
    waits: &Waits,
    busy: bool,
) -> Ending<'c> {
    let end = client.end;
    if let Some(at) = client.exit.at {
        return Ending::Exited(at, client.exit.status.as_str());
    }
    if let Some(storm) = storm {
        return Ending::Storm(storm);
    }
    let quiet_since = calls
        .iter()
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .max();
    let active = busy || quiet_since.is_some_and(|at| waits.at_1x((at, end.max(at))) <= deadline);
    let idle = longest_idle(calls, first_fault.unwrap_or_default(), end)
        .filter(|(from, to)| waits.at_1x((*from, *to)) > deadline && *to < end);
    match (active, idle, quiet_since) {
        (true, Some((from, to)), _) => Ending::Idle(from, to),
        (true, None, _) => Ending::ReadOn,
        (false, _, None) => Ending::NoRequest,
        (false, _, Some(since)) => Ending::Quiet(since),
    }
}

/// When the client was first disrupted after the first fault (a failed request), and when it
/// was back: the first healthy list or watch after its last failed request (a watch counts once
/// it was sent something, or is still open), with how long that took. `stopped` where the run
/// stopped.
fn disruption(
    calls: &[Call<'_>],
    (first_fault, last_fault): (Option<Duration>, Option<Duration>),
    stopped: Duration,
    waits: &Waits,
) -> (Option<Duration>, Recovery) {
    let failures = || {
        calls
            .iter()
            .filter(|c| first_fault.is_some_and(|f| c.at >= f) && c.failed())
            .map(|c| c.ended.map_or(c.at, |(at, _)| at))
    };
    let disrupted_at = failures().min();
    let recovered_at = failures().max().and_then(|from| {
        calls
            .iter()
            .filter(|c| c.at >= from && !c.failed() && c.record.status == 200)
            .find(|c| c.record.verb != Verb::Watch || c.ended.is_none() || c.last_sent.is_some())
            .map(|c| c.at)
    });
    let comeback = match (disrupted_at, recovered_at) {
        (None, _) => Comeback::Undisrupted,
        (Some(from), None) => Comeback::NoHealthyRequest(from),
        (Some(_), Some(at)) => Comeback::Back(
            at,
            waits.back_after(calls, last_fault.unwrap_or_default(), at),
        ),
    };
    let recovery = Recovery {
        sight: Sight::Requests,
        comeback,
        last_fault,
        stopped,
        speed: waits.speed(),
    };
    (disrupted_at, recovery)
}

/// How its watches started, for the resumable check.
fn watch_starts(resumes: &Resumes) -> WatchStarts {
    WatchStarts {
        fresh: resumes.fresh,
        resumed: resumes.resumed,
        stale: resumes.stale,
        empty: resumes.empty.len(),
        future: resumes.future.len(),
    }
}

/// The truth at `end`, as the client's last request answered well selects it.
fn truth_selected(
    scenario: &Scenario,
    trace: &Trace,
    calls: &[Call<'_>],
    end: Duration,
) -> Objects {
    let selector = calls
        .iter()
        .rev()
        .find(|c| c.record.status == 200)
        .map(|c| selector_of(c.record, &scenario.resource))
        .unwrap_or_default();
    let mut truth = Objects::new();
    for event in trace.iter().filter(|e| e.at <= end) {
        apply_truth(&mut truth, &event.kind, &selector);
    }
    truth
}

/// The diagnosis in words: the chain, then each failed check it does not already quote.
fn diagnosis(mechanism: Option<Mechanism>, chain: &[Link], checks: &[Check]) -> String {
    let mut words: Vec<String> = chain.iter().map(|l| l.text.clone()).collect();
    if let Some(mechanism) = mechanism
        && mechanism != Mechanism::Unknown
    {
        words.extend(
            checks
                .iter()
                .filter(|c| !c.passed && !chain.iter().any(|l| l.quotes == Some(c.name)))
                .map(|c| c.detail.clone()),
        );
    }
    words.dedup();
    words.join("; ")
}

/// The figures of an exec client's run: its requests and errors, `relists` and the `peak`
/// requests in a minute, when it was disrupted and when it was back.
fn figures(
    calls: &[Call<'_>],
    (relists, peak): (u32, u32),
    disrupted_at: Option<Duration>,
    recovered_at: Option<Duration>,
) -> Figures {
    Figures {
        requests: calls.len() as u64,
        relists,
        errors: u32::try_from(calls.iter().filter(|c| c.failed()).count()).unwrap_or(u32::MAX),
        peak_requests_per_minute: peak,
        disrupted_at,
        recovered_at,
        recovery_latency: disrupted_at
            .zip(recovered_at)
            .map(|(d, r)| r.saturating_sub(d)),
        blind_time: None,
    }
}
