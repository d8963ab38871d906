//! A failed run's diagnosis: the mechanism the rules find, its causal chain, where the view
//! first left the truth, and all of it in words for the reports.

use std::time::Duration;

use super::evidence::Evidence;
use super::fold::{ViewFold, apply_truth, describe_difference};
use super::rules;
use super::scorecard::{Check, Divergence, Link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::{Scenario, SetUp, format_duration as fmt};
use crate::trace::Trace;

/// What the verdict says about a run that did not recover.
pub(super) struct Diagnosis {
    pub(super) mechanism: Mechanism,
    pub(super) chain: Vec<Link>,
    pub(super) first_divergence: Option<Divergence>,
    pub(super) text: String,
}

/// Diagnoses a failed run: `gaps` are the stretches it was out of sync by more than `lag`.
pub(super) fn diagnose(
    scenario: &Scenario,
    setup: &SetUp,
    trace: &Trace,
    checks: &[Check],
    (gaps, lag): (&[(Duration, Option<Duration>)], Duration),
) -> Diagnosis {
    let mut evidence = Evidence::gather(scenario, setup, trace, checks);
    evidence.lag = lag;
    let finding = rules::diagnose(&evidence);
    let first_fault = scenario.first_fault().unwrap_or(Duration::ZERO);
    let first_divergence = gaps
        .iter()
        .find(|(start, _)| *start >= first_fault)
        .and_then(|(start, _)| divergence_at(trace, setup, *start));
    let mut parts: Vec<String> = finding.chain.iter().map(|l| l.text.clone()).collect();
    if let Some(d) = &first_divergence {
        parts.push(format!(
            "the view first left the truth at {}: {}",
            fmt(d.at),
            d.difference
        ));
    }
    // The failing check, unless the chain already says it: the unknown mechanism names it,
    // every chain of a stream that ended tells how it ended, and some rules quote it.
    if let Some(check) = checks.iter().find(|c| !c.passed)
        && finding.mechanism != Mechanism::Unknown
        && check.name != CheckName::Survived
        && !finding.chain.iter().any(|l| l.quotes == Some(check.name))
    {
        parts.push(check.detail.clone());
    }
    let faults: Vec<String> = evidence
        .faults
        .iter()
        .map(|(at, kind)| format!("{kind} at {}", fmt(*at)))
        .collect();
    if !faults.is_empty() {
        parts.push(format!("faults: {}", faults.join(", ")));
    }
    Diagnosis {
        mechanism: finding.mechanism,
        chain: finding.chain,
        first_divergence,
        text: parts.join("; "),
    }
}

/// What differed between the view and the truth right after the events of instant `at`.
fn divergence_at(trace: &Trace, setup: &SetUp, at: Duration) -> Option<Divergence> {
    let mut truth = super::fold::Objects::new();
    let mut fold = ViewFold::default();
    for event in trace.iter().take_while(|e| e.at <= at) {
        apply_truth(&mut truth, &event.kind, &setup.config.selector);
        fold.apply(&event.kind);
    }
    (fold.view != truth).then(|| Divergence {
        at,
        difference: describe_difference(&fold.view, &truth),
    })
}
