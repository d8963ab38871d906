//! Whose wait a quiet stretch was: the server's (a restart refusing or holding connections) or
//! the client's own (its backoff, its timeouts), which a timeline played N× faster stretches
//! N-fold. The checks hold a client's own waits to what they would have been at 1×.

use std::time::Duration;

use super::pattern::idle_stretches;
use crate::scenario::Scenario;
use crate::verdict::call::Call;
use crate::verdict::check::deadline::BackAfter;

/// The stretches the server held every client, and how fast the timeline played.
pub(super) struct Waits {
    held: Vec<(Duration, Duration)>,
    speed: u32,
}

impl Waits {
    /// `speed`: how many times faster than real time the timeline played (0 counts as 1).
    pub(super) fn new(scenario: &Scenario, speed: u32) -> Self {
        Self {
            held: held_by_server(scenario),
            speed: speed.max(1),
        }
    }

    /// The timeline's speed, at least 1.
    pub(super) fn speed(&self) -> u32 {
        self.speed
    }

    /// A quiet stretch as it would have lasted at 1×: the server's holds as they were, the
    /// client's own waiting `speed` times shorter.
    pub(super) fn at_1x(&self, (from, to): (Duration, Duration)) -> Duration {
        let server = overlap((from, to), &self.held);
        let own = (to.saturating_sub(from)).saturating_sub(server);
        server + own / self.speed
    }

    /// How long the client took to be back at `at` since the last fault, with its own waits
    /// in it counted as at 1×.
    pub(super) fn back_after(
        &self,
        calls: &[Call<'_>],
        last_fault: Duration,
        at: Duration,
    ) -> BackAfter {
        let span = at.saturating_sub(last_fault);
        let stretches = idle_stretches(calls, last_fault, at);
        let idle: Duration = stretches.iter().map(|(a, b)| *b - *a).sum();
        let as_1x: Duration = stretches.iter().map(|s| self.at_1x(*s)).sum();
        let own = idle.saturating_sub(stretches.iter().map(|s| overlap(*s, &self.held)).sum());
        BackAfter {
            span,
            own,
            as_1x: span.saturating_sub(idle) + as_1x,
        }
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
