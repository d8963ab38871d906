//! What a run found: per scenario a [`RunReport`], per set-up an [`Outcome`] with its verdict
//! and trace. `run` fills them in; the reports and `harness explain` read them.

use std::time::Duration;

use serde::Serialize;

use crate::mechanism::Mechanism;
use crate::scenario::Expected;
use crate::trace::Trace;
use crate::verdict::Verdict;

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// Its seed.
    pub seed: u64,
    /// Its virtual duration.
    pub duration: Duration,
    /// One outcome per set-up, in the scenario's order.
    pub outcomes: Vec<Outcome>,
}

impl RunReport {
    /// Whether every set-up did what the scenario expects of it.
    #[must_use]
    pub fn as_expected(&self) -> bool {
        self.outcomes.iter().all(|o| o.as_expected)
    }

    /// Panics, naming each set-up and why, unless every set-up did what the scenario expects.
    ///
    /// # Panics
    /// When a set-up's verdict differs from its `expect` block.
    #[track_caller]
    pub fn assert_as_expected(&self) {
        let unexpected: Vec<String> = self
            .outcomes
            .iter()
            .filter(|o| !o.as_expected)
            .map(|o| {
                format!(
                    "{} (expected to {}): {}",
                    o.setup,
                    if o.expected == Expected::Recover {
                        "recover"
                    } else {
                        "fail"
                    },
                    o.verdict.diagnosis.as_deref().unwrap_or("recovered")
                )
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "scenario {}: {}",
            self.scenario,
            unexpected.join("; ")
        );
    }
}

/// The outcome of one set-up.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The set-up's name.
    pub setup: String,
    /// What the scenario expects.
    pub expected: Expected,
    /// The mechanism it is expected to fail by, when it is expected to fail.
    pub expected_mechanism: Option<Mechanism>,
    /// What the verdict found.
    pub verdict: Verdict,
    /// Whether the verdict is what the scenario expects.
    pub as_expected: bool,
    /// The run's trace.
    #[serde(skip)]
    pub trace: Trace,
}

impl Outcome {
    /// Set-up `setup`'s `verdict`, held to what is expected of it. An expected failure is a
    /// specific one: the mechanism must be the one the scenario names.
    pub(crate) fn held_to(
        setup: String,
        expected: Expected,
        expected_mechanism: Option<Mechanism>,
        verdict: Verdict,
        trace: Trace,
    ) -> Self {
        let as_expected = match expected {
            Expected::Recover => verdict.recovered,
            Expected::Fail => !verdict.recovered && verdict.mechanism == expected_mechanism,
        };
        Self {
            setup,
            expected,
            expected_mechanism,
            verdict,
            as_expected,
            trace,
        }
    }

    /// Panics with the mechanism and the diagnosis unless the set-up recovered.
    ///
    /// # Panics
    /// When the verdict is "not recovered"; the message says how and why:
    /// ``set-up `defaults` did not recover (stale_resume_point): ...``.
    #[track_caller]
    pub fn assert_recovered(&self) {
        if !self.verdict.recovered {
            panic!(
                "set-up `{}` did not recover ({}): {}",
                self.setup,
                self.verdict.mechanism.unwrap_or(Mechanism::Unknown).name(),
                self.verdict.diagnosis.as_deref().unwrap_or("no diagnosis")
            );
        }
    }
}
