//! How a finished (or given-up) set-up becomes an [`Outcome`]: the wall-clock deadline and the
//! delivery lag its verdict forgives, and the verdict held to what the scenario expects.
//! A world judges its own run on its own thread (`world.rs`); the waiting side judges a run it
//! gave up on.

use std::time::Duration;

use super::run_options::{Mode, RunOptions};
use crate::outcome::Outcome;
use crate::scenario::{Scenario, SetUp};
use crate::trace::Trace;
use crate::verdict::{self, Verdict};

/// The wall-clock deadline of a run and the delivery lag its verdict forgives.
pub(super) fn limits(scenario: &Scenario, options: &RunOptions) -> (Duration, Duration) {
    let mut wall_timeout = options.wall_timeout;
    let mut lag = verdict::DELIVERY_LAG;
    if let Mode::Live { speed } = options.mode {
        wall_timeout += scenario.duration / speed.max(1);
        lag = verdict::live_delivery_lag(speed);
    }
    (wall_timeout, lag)
}

/// How a run ended: with its trace, or not at all, and why.
pub(super) enum Finished {
    Trace(Trace),
    /// It did not finish within its wall-clock deadline.
    Hung(String),
    /// The harness thread running it died.
    Died(String),
}

/// The outcome of a finished (or given up) run of `setup`.
pub(super) fn judged(
    scenario: &Scenario,
    setup: &SetUp,
    finished: Finished,
    lag: Duration,
) -> Outcome {
    // Tolerating a breach that did not happen is an expectation gone stale.
    let (trace, verdict, stale) = match finished {
        Finished::Trace(trace) => {
            let verdict = verdict::judge_with_lag(scenario, setup, &trace, lag);
            let stale = (setup.tolerate.iter())
                .find(|c| !verdict.tolerated.contains(c))
                .copied();
            (trace, verdict, stale)
        }
        Finished::Hung(why) => (Trace::new(), Verdict::not_finished(why, true), None),
        Finished::Died(why) => (Trace::new(), Verdict::not_finished(why, false), None),
    };
    let mut outcome = Outcome::held_to(
        setup.name.clone(),
        setup.expected,
        setup.expected_mechanism,
        verdict,
        trace,
    );
    if let Some(held) = stale {
        outcome.as_expected = false;
        outcome.verdict.diagnosis.get_or_insert_with(|| {
            format!(
                "`expect.tolerate` names `{}` for it, and it held: the expectation is stale",
                held.name()
            )
        });
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::Mechanism;

    fn scenario(fail: &str) -> Scenario {
        Scenario::from_yaml(&format!(
            "duration: 1m
resource: {{ version: v1, kind: ConfigMap, plural: configmaps }}
watchers: [{{ name: w }}]
expect: {{ deadline: 1m, fail: {{ w: {fail} }} }}
"
        ))
        .expect("the test scenario is valid")
    }

    #[test]
    fn a_hung_run_is_the_expected_failure_only_when_the_scenario_expects_a_hang() {
        let hung = || Finished::Hung("hung: the run did not finish".into());
        let expects_other = scenario("stopped_on_recoverable_error");
        let outcome = judged(
            &expects_other,
            &expects_other.watchers[0],
            hung(),
            Duration::ZERO,
        );
        assert_eq!(outcome.verdict.mechanism, Some(Mechanism::Hung));
        assert!(!outcome.as_expected, "a hang is not the failure it expects");
        let expects_hang = scenario("hung");
        let outcome = judged(
            &expects_hang,
            &expects_hang.watchers[0],
            hung(),
            Duration::ZERO,
        );
        assert!(outcome.as_expected);
    }
}
