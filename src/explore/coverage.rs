//! Coverage feedback ([`Coverage`]): what the verdicts of earlier timelines saw, and the weights
//! it gives the next draw's choices, higher for the choices that produced something new.
//!
//! New is a failure of a set-up by a mechanism not seen before, a check failing for a set-up
//! for the first time, or a pair of consecutive requests (verb and answer class) not seen
//! before. It learns only from what it is fed, in the order fed, so a lane of timelines fed in
//! index order gives the same weights however the lanes are run.

use std::collections::{BTreeMap, BTreeSet};

use super::drawn::Drawn;
use super::feature::Feature;
use crate::mechanism::Mechanism;
use crate::outcome::Outcome;
use crate::trace::{TraceKind, Verb};
use crate::verdict::CheckName;

/// Every choice's weight before anything was learned about it, and its floor.
pub(super) const BASE: u32 = 16;
/// The most a choice's weight rises above [`BASE`].
const MOST: u32 = 112;
/// How much one unit of gain a try raises the weight.
const GAIN: u32 = 32;
/// The most gain one timeline credits, so one lucky run does not swamp the rest.
const MOST_GAIN: u32 = 8;

/// What earlier timelines showed, and the weights it gives the next draw's choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    seen: BTreeSet<Seen>,
    tallies: BTreeMap<Feature, Tally>,
}

/// Something a verdict saw; set-ups by their place in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Seen {
    Failure(usize, Mechanism),
    Check(usize, CheckName),
    Requests(Request, Request),
}

/// A request as a pattern sees it: the verb, and the class of the answer.
type Request = (Verb, Answer);

/// An answer's class: what a client does differently after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    Ok,
    Gone,
    TooMany,
    Client,
    Server,
    Other,
}

impl Answer {
    fn of(status: u16) -> Self {
        match status {
            200..=299 => Self::Ok,
            410 => Self::Gone,
            429 => Self::TooMany,
            400..=499 => Self::Client,
            500..=599 => Self::Server,
            _ => Self::Other,
        }
    }
}

/// How often a choice was drawn, and the gain credited to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    tries: u32,
    gains: u32,
}

impl Coverage {
    /// Learns from one timeline: what its set-ups' verdicts saw, credited to the choices it was
    /// drawn with. Gains: 4 for a new failure (set-up × mechanism), 2 for a newly failing
    /// check, 1 for a new request pair.
    pub fn learn(&mut self, drawn: &Drawn, outcomes: &[Outcome]) {
        let mut gain = 0;
        for (setup, outcome) in outcomes.iter().enumerate() {
            let verdict = &outcome.verdict;
            if !verdict.recovered {
                let mechanism = verdict.mechanism.unwrap_or(Mechanism::Unknown);
                gain += 4 * u32::from(self.seen.insert(Seen::Failure(setup, mechanism)));
                for check in verdict.checks.iter().filter(|c| !c.passed) {
                    gain += 2 * u32::from(self.seen.insert(Seen::Check(setup, check.name)));
                }
            }
            let mut last: Option<Request> = None;
            for event in &outcome.trace {
                if let TraceKind::Request(record) = &event.kind {
                    let request = (record.verb, Answer::of(record.status));
                    if let Some(before) = last.replace(request) {
                        gain += u32::from(self.seen.insert(Seen::Requests(before, request)));
                    }
                }
            }
        }
        let gain = gain.min(MOST_GAIN);
        for feature in &drawn.features {
            let tally = self.tallies.entry(*feature).or_default();
            tally.tries = tally.tries.saturating_add(1);
            tally.gains = tally.gains.saturating_add(gain);
        }
    }

    /// The weight of `feature` in the next draw: `BASE` for a choice that never gained, up to
    /// eight times that for one whose tries mostly showed something new. A choice is never
    /// weighted below the base, so nothing drops out of the search.
    #[must_use]
    pub fn weight(&self, feature: Feature) -> u32 {
        let tally = self.tallies.get(&feature).copied().unwrap_or_default();
        BASE + (GAIN.saturating_mul(tally.gains) / (tally.tries + 2)).min(MOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::FaultKind;
    use crate::scenario::Expected;
    use crate::trace::{RequestRecord, TraceEvent};
    use crate::verdict::Verdict;

    fn outcome(mechanism: Option<Mechanism>, statuses: &[u16]) -> Outcome {
        let verdict = Verdict {
            recovered: mechanism.is_none(),
            checks: Vec::new(),
            tolerated: Vec::new(),
            figures: crate::verdict::Figures::default(),
            mechanism,
            chain: Vec::new(),
            first_divergence: None,
            diagnosis: None,
            marks: crate::verdict::Marks::default(),
        };
        let trace = statuses
            .iter()
            .zip(1..)
            .map(|(&status, id)| TraceEvent {
                at: std::time::Duration::ZERO,
                kind: TraceKind::Request(RequestRecord {
                    id,
                    method: "GET".into(),
                    path: "/api/v1/configmaps".into(),
                    query: String::new(),
                    status,
                    verb: Verb::List,
                    agent: String::new(),
                    process: None,
                    retry_after: None,
                    replica: None,
                }),
            })
            .collect();
        Outcome::held_to("defaults".into(), Expected::Recover, None, verdict, trace)
    }

    fn drawn(kind: FaultKind) -> Drawn {
        Drawn {
            features: vec![Feature::Kind(kind)],
            ..Drawn::default()
        }
    }

    #[test]
    fn coverage_learns_and_weights_shift_towards_a_kind_that_produced_something_new() {
        let mut coverage = Coverage::default();
        let (new, old) = (FaultKind::HttpError, FaultKind::Compact);
        assert_eq!(coverage.weight(Feature::Kind(new)), BASE);
        coverage.learn(&drawn(old), &[outcome(None, &[200, 200])]);
        coverage.learn(&drawn(old), &[outcome(None, &[200, 200])]);
        let after_plain = coverage.weight(Feature::Kind(old));
        coverage.learn(
            &drawn(new),
            &[outcome(
                Some(Mechanism::BackoffResetByInit),
                &[200, 500, 500],
            )],
        );
        let gained = coverage.weight(Feature::Kind(new));
        assert!(gained > after_plain, "{gained} > {after_plain}");
        // The same again is nothing new: the weight falls back towards the base.
        coverage.learn(
            &drawn(new),
            &[outcome(
                Some(Mechanism::BackoffResetByInit),
                &[200, 500, 500],
            )],
        );
        let again = coverage.weight(Feature::Kind(new));
        assert!(again < gained && again >= BASE, "{again} < {gained}");
        assert_eq!(coverage.weight(Feature::Kind(FaultKind::Idle)), BASE);
    }

    #[test]
    fn coverage_fed_the_same_timelines_in_order_is_the_same() {
        let feed = |coverage: &mut Coverage| {
            coverage.learn(&drawn(FaultKind::Restart), &[outcome(None, &[200, 410])]);
            coverage.learn(
                &drawn(FaultKind::Idle),
                &[outcome(Some(Mechanism::Unknown), &[200])],
            );
        };
        let (mut one, mut two) = (Coverage::default(), Coverage::default());
        feed(&mut one);
        feed(&mut two);
        assert_eq!(one, two);
    }
}
