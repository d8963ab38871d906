//! The verdict on a client the harness did not build (`harness exec`): judged from what the
//! server saw it do — its lists and watches, where each watch resumed from, what it did after
//! each 410, whether it stormed, stopped or fell behind — and, when it wrote one, from the
//! cache it ended with. Pure: no I/O, no clock.
//!
//! A client is the requests of one process, or of one `User-Agent` where the process is not
//! known (`identity.rs`); the trace is the live server's.

mod call;
mod identity;
mod pattern;
mod story;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::time::Duration;

use super::fold::{Objects, apply_truth, describe_difference};
use super::judge::peak_per_minute;
use super::request_log::lists;
use super::scorecard::{Check, CheckName, Figures, Marks, Verdict};
use crate::mechanism::Mechanism;
use crate::scenario::{Scenario, format_duration as fmt};
use crate::trace::{Trace, TraceKind, Verb, storm_words};
use call::selector_of;
use pattern::{backoff_words, behind, idle_stretches, longest_idle, repeated_pattern};
use story::{Reaction, Resumes};

pub use identity::{ClientId, agents_of, clients};

/// How the client's process ended, as `harness exec` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// When, in virtual time; `None`: it was still running at the end and was stopped.
    pub at: Option<Duration>,
    /// Its exit status in words: `exit 1`, `signal 15`.
    pub status: String,
}

/// What is known of one client besides the trace.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Who it is.
    pub id: &'a ClientId,
    /// The cache it wrote at the end, when it wrote one.
    pub view: Option<&'a Objects>,
    /// How its process ended.
    pub exit: &'a Exit,
    /// The end of the timeline: the client is judged as of then.
    pub end: Duration,
    /// How many times faster than real time the timeline played: every wait of the client's
    /// own (its backoff, its timeouts) took that many times as long in virtual time.
    pub speed: u32,
}

/// Judges one client from the live server's trace.
#[must_use]
pub fn judge_client(scenario: &Scenario, trace: &Trace, client: Client<'_>) -> Verdict {
    let end = client.end;
    let calls = call::calls(trace, client.id, end);
    let mut found = Findings::default();
    let deadline = scenario.expect.deadline;
    let first_fault = scenario.first_fault();
    let last_fault = scenario.last_fault_end().unwrap_or(Duration::ZERO);

    // What it did after each 410.
    let mut after_gone = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let Some(heard) = call.gone() else { continue };
        let next = calls[i + 1..].iter().find(|c| c.at >= heard);
        let reaction = match next {
            None => Reaction::None,
            Some(next) if lists(next.record) => Reaction::Relisted,
            Some(next)
                if next.record.verb == Verb::Watch
                    && next.resource_version() == call.resource_version() =>
            {
                Reaction::SameResourceVersion(next.at)
            }
            Some(_) => Reaction::Other,
        };
        after_gone.push((heard, call, reaction));
    }
    // Where each watch resumed from.
    let mut resumes = Resumes::default();
    for (i, call) in calls.iter().enumerate() {
        if call.record.verb != Verb::Watch || call.record.status != 200 {
            continue;
        }
        let earlier_watch = calls[..i].iter().any(|c| c.record.verb == Verb::Watch);
        match (call.resource_version().as_deref(), call.opened) {
            (Some(""), _) if earlier_watch => resumes.empty.push(call.at),
            (_, Some((Some(from), _, revision))) if from > revision => {
                resumes.future.push((call.at, from, revision));
            }
            (_, Some((Some(from), floor, _))) => {
                resumes.resumed += 1;
                if from < floor {
                    resumes.stale += 1;
                }
            }
            _ => resumes.fresh += 1,
        }
    }

    let request_times: Vec<Duration> = calls.iter().map(|c| c.at).collect();
    let peak = peak_per_minute(&request_times);
    let relists = calls
        .iter()
        .filter(|c| lists(c.record))
        .count()
        .saturating_sub(1);
    let relists = u32::try_from(relists).unwrap_or(u32::MAX);
    let errors = u32::try_from(calls.iter().filter(|c| c.failed()).count()).unwrap_or(u32::MAX);
    let storm = trace.iter().find_map(|e| match e.kind {
        TraceKind::Storm { requests, burst } if e.at <= end => Some((e.at, requests, burst)),
        _ => None,
    });

    // Survived: at the end it still has a watch open or a request pending, or it made one
    // within the deadline; and its process did not exit before the end.
    let pending = calls.iter().find(|c| c.record.status == 0);
    let open = calls
        .iter()
        .rev()
        .find(|c| c.record.verb == Verb::Watch && c.record.status == 200 && c.ended.is_none());
    let last_call = calls.last();
    let quiet_since = calls
        .iter()
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .max();
    // A wait of the client's own took `speed` times as long in virtual time as it would have
    // at 1×: the checks hold it to what it would have been.
    let speed = client.speed.max(1);
    // Not the client's own: while a restarting server refused or held connections.
    let held = held_by_server(scenario);
    let at_1x = |(from, to): (Duration, Duration)| {
        let server = overlap((from, to), &held);
        let own = (to.saturating_sub(from)).saturating_sub(server);
        server + own / speed
    };
    let active = open.is_some()
        || pending.is_some()
        || quiet_since.is_some_and(|at| at_1x((at, end.max(at))) <= deadline);
    let survived_detail = match (&client.exit.at, active, last_call) {
        (Some(at), _, _) => format!(
            "the client exited ({}) at {}, before the end at {}",
            client.exit.status,
            fmt(*at),
            fmt(end)
        ),
        (None, true, _) => "still watching at the end".to_owned(),
        (None, false, None) => "it made no list or watch request".to_owned(),
        (None, false, Some(_)) => format!(
            "it had no open watch and made no request from {} to the end at {}",
            fmt(quiet_since.unwrap_or_default()),
            fmt(end)
        ),
    };
    // Stuck midway: a stretch after the first fault, longer than the deadline, with no watch
    // open, no request pending and no request made.
    let idle = longest_idle(&calls, first_fault.unwrap_or_default(), end)
        .filter(|(from, to)| at_1x((*from, *to)) > deadline && *to < end);
    let survived_detail = match idle {
        Some((from, to)) if active && client.exit.at.is_none() => format!(
            "it had no open watch and made no request from {} to {}, {}{} (deadline {})",
            fmt(from),
            fmt(to),
            fmt(to - from),
            own_wait_words(to - from, speed),
            fmt(deadline)
        ),
        _ => survived_detail,
    };
    let survived = client.exit.at.is_none() && active && idle.is_none();
    found.check(CheckName::Survived, survived, survived_detail.clone());

    // Request rate, with the pattern it repeated.
    let bound = scenario.expect.max_requests_per_minute;
    let rate_ok = storm.is_none() && bound.is_none_or(|b| peak <= b);
    let pattern = repeated_pattern(&calls);
    let mut rate_detail = match bound {
        Some(b) => format!("peak {peak} requests in a minute (bound {b})"),
        None => format!("peak {peak} requests in a minute (no bound)"),
    };
    if let Some((_, requests, burst)) = storm {
        let _ = write!(
            rate_detail,
            "; stopped as a request storm: {}",
            storm_words(requests, burst, scenario.server.max_requests)
        );
    }
    if let Some(backoff) = backoff_words(&calls) {
        let _ = write!(rate_detail, "; {backoff}");
    }
    found.check(CheckName::RequestRate, rate_ok, rate_detail.clone());

    let relists_ok = scenario.expect.max_relists.is_none_or(|m| relists <= m);
    found.check(
        CheckName::Relists,
        relists_ok,
        format!(
            "{relists} relist{} ({}); it relisted after {} of the {} 410s it was sent",
            if relists == 1 { "" } else { "s" },
            scenario
                .expect
                .max_relists
                .map_or("no bound".to_owned(), |m| format!("bound {m}")),
            after_gone
                .iter()
                .filter(|(_, _, r)| matches!(r, Reaction::Relisted))
                .count(),
            after_gone.len()
        ),
    );

    // Deadline: after the last fault, a healthy list or watch within the deadline.
    let disrupted_at = calls
        .iter()
        .filter(|c| first_fault.is_some_and(|f| c.at >= f) && c.failed())
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .min();
    // Back: the first healthy list or watch after its last failed request (a watch counts once
    // it was sent something, or is still open).
    let last_failure = calls
        .iter()
        .filter(|c| first_fault.is_some_and(|f| c.at >= f) && c.failed())
        .map(|c| c.ended.map_or(c.at, |(at, _)| at))
        .max();
    let recovered_at = last_failure.and_then(|from| {
        calls
            .iter()
            .filter(|c| c.at >= from && !c.failed() && c.record.status == 200)
            .find(|c| c.record.verb != Verb::Watch || c.ended.is_none() || c.last_sent.is_some())
            .map(|c| c.at)
    });
    // How long it took to be back, with its own waits in it counted as at 1×.
    let back_after = |at: Duration| {
        let span = at.saturating_sub(last_fault);
        let stretches = idle_stretches(&calls, last_fault, at);
        let idle: Duration = stretches.iter().map(|(a, b)| *b - *a).sum();
        let as_1x: Duration = stretches.iter().map(|s| at_1x(*s)).sum();
        let own = idle.saturating_sub(stretches.iter().map(|s| overlap(*s, &held)).sum());
        (span, own, span.saturating_sub(idle) + as_1x)
    };
    let deadline_ok = match (disrupted_at, recovered_at) {
        (None, _) => true,
        (Some(_), Some(at)) => back_after(at).2 <= deadline,
        (Some(_), None) => false,
    };
    found.check(
        CheckName::Deadline,
        deadline_ok,
        match (disrupted_at, recovered_at) {
            (None, _) => "no request of its failed after the first fault".to_owned(),
            (Some(_), Some(at)) => format!(
                "a healthy request at {}, {} after the last fault ended at {}{} (deadline {})",
                fmt(at),
                fmt(back_after(at).0),
                fmt(last_fault),
                match back_after(at) {
                    (_, own, as_1x) if speed > 1 && !own.is_zero() => format!(
                        "; {} of it the client's own waiting with nothing open, which a timeline at {speed}× stretches {speed}-fold: {} at 1×",
                        fmt(own),
                        fmt(as_1x)
                    ),
                    _ => String::new(),
                },
                fmt(deadline),
            ),
            (Some(from), None) => format!(
                "disrupted at {} and no healthy request after the last fault ended at {}",
                fmt(from),
                fmt(last_fault)
            ),
        },
    );

    // Resumable: no watch resumed from where it would skip changes.
    let skipping = resumes.empty.len() + resumes.future.len();
    found.check(
        CheckName::Resumable,
        skipping == 0,
        format!(
            "watches: {} from the current state, {} resumed, {} of them from a resourceVersion the server no longer had, {} with an empty resourceVersion, {} from ahead of the server",
            resumes.fresh,
            resumes.resumed,
            resumes.stale,
            resumes.empty.len(),
            resumes.future.len()
        ),
    );

    // Kept up: every open watch sent the writes it selects, up to a deadline before the end.
    let behind = open.and_then(|watch| {
        behind(
            trace,
            watch,
            end.saturating_sub(deadline),
            &scenario.resource,
        )
    });
    found.check(
        CheckName::KeptUp,
        behind.is_none(),
        match &behind {
            None => "its open watch, if any, was sent every write it selects".to_owned(),
            Some(words) => words.clone(),
        },
    );

    // Converged: the cache it wrote against the truth it selects.
    if let Some(view) = client.view {
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
        let difference = describe_difference(view, &truth);
        found.check(
            CheckName::Converged,
            difference.is_empty(),
            if difference.is_empty() {
                format!(
                    "the cache it wrote equals the truth ({} objects)",
                    truth.len()
                )
            } else {
                format!("the cache it wrote differs from the truth: {difference}")
            },
        );
    }

    // The mechanism: the first story that fits, in the order of how much it explains.
    let recovered = found.checks.iter().all(|c| c.passed);
    let (mechanism, chain) = if recovered {
        (None, Vec::new())
    } else {
        let facts = story::Facts {
            calls: &calls,
            checks: &found.checks,
            end,
            rate: (!rate_ok)
                .then(|| (storm.map(|s| s.0), rate_detail.as_str(), pattern.as_deref())),
            first_fault,
            pending,
            after_gone: &after_gone,
            survived: (!survived).then_some(survived_detail.as_str()),
            resumes: &resumes,
            open,
            behind: behind.as_deref(),
        };
        let (mechanism, chain) = story::tell(&facts);
        (Some(mechanism), chain)
    };
    let diagnosis = (!recovered).then(|| {
        let mut words: Vec<String> = chain.iter().map(|l| l.text.clone()).collect();
        if let Some(mechanism) = mechanism
            && mechanism != Mechanism::Unknown
        {
            words.extend(
                found
                    .checks
                    .iter()
                    .filter(|c| !c.passed && c.name != CheckName::RequestRate)
                    .filter(|c| !chain.iter().any(|l| l.text.contains(&c.detail)))
                    .map(|c| c.detail.clone()),
            );
        }
        words.dedup();
        words.join("; ")
    });
    Verdict {
        recovered,
        checks: found.checks,
        figures: Figures {
            requests: calls.len() as u64,
            relists,
            errors,
            peak_requests_per_minute: peak,
            disrupted_at,
            recovered_at,
            recovery_latency: disrupted_at
                .zip(recovered_at)
                .map(|(d, r)| r.saturating_sub(d)),
            blind_time: None,
        },
        mechanism,
        chain,
        first_divergence: None,
        diagnosis,
        marks: Marks::default(),
    }
}

/// The stretches in which the server itself kept every client waiting: a restart, from its
/// SIGTERM through its drain and its downtime.
fn held_by_server(scenario: &Scenario) -> Vec<(Duration, Duration)> {
    scenario
        .timeline
        .iter()
        .filter_map(|step| match &step.action {
            crate::scenario::Action::Fault(crate::fault::Fault::Restart {
                down, drain, ..
            }) => Some((step.at, step.at + *drain + *down)),
            _ => None,
        })
        .collect()
}

/// How much of `stretch` falls within `held`.
fn overlap((from, to): (Duration, Duration), held: &[(Duration, Duration)]) -> Duration {
    held.iter()
        .map(|(a, b)| to.min(*b).saturating_sub(from.max(*a)))
        .sum()
}

/// `gap` when it was the client's own wait on a timeline played `speed` times faster: what it
/// would have been at 1×.
fn own_wait_words(gap: Duration, speed: u32) -> String {
    if speed > 1 {
        format!(
            " of the client's own waiting, which a timeline at {speed}× stretches {speed}-fold: {} at 1×",
            fmt(gap / speed)
        )
    } else {
        String::new()
    }
}

#[derive(Default)]
struct Findings {
    checks: Vec<Check>,
}

impl Findings {
    fn check(&mut self, name: CheckName, passed: bool, detail: String) {
        self.checks.push(Check {
            name,
            passed,
            detail,
        });
    }
}
