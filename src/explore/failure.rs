//! A way a set-up failed ([`Failure`]): the unit explore groups findings by and shrinking keeps.

use crate::mechanism::Mechanism;
use crate::outcome::Outcome;
use crate::verdict::CheckName;

/// A way a set-up failed: its mechanism, and for an unknown one the first check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The set-up.
    pub setup: String,
    /// The mechanism the verdict names.
    pub mechanism: Mechanism,
    /// For [`Mechanism::Unknown`], the first check that failed, so two unknown failures are
    /// one finding only when they fail alike.
    pub check: Option<CheckName>,
}

impl Failure {
    pub(super) fn of(outcome: &Outcome) -> Option<Self> {
        if outcome.verdict.recovered {
            return None;
        }
        let mechanism = outcome.verdict.mechanism.unwrap_or(Mechanism::Unknown);
        Some(Self {
            setup: outcome.setup.clone(),
            mechanism,
            check: (mechanism == Mechanism::Unknown)
                .then(|| {
                    outcome
                        .verdict
                        .checks
                        .iter()
                        .find(|c| !c.passed)
                        .map(|c| c.name)
                })
                .flatten(),
        })
    }

    /// Whether `outcome` is this failure again.
    pub(super) fn is(&self, outcome: &Outcome) -> bool {
        Self::of(outcome).is_some_and(|f| f == *self)
    }
}
