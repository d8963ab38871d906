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
