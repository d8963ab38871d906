//! What a verdict says.

use std::time::Duration;

use serde::Serialize;

/// The judgement of one set-up's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Every check passed.
    pub recovered: bool,
    /// Each invariant with its outcome.
    pub checks: Vec<Check>,
    /// Costs and timings.
    pub figures: Figures,
    /// Why it did not recover, in words; `None` when it recovered.
    pub diagnosis: Option<String>,
}

/// One invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// Which invariant.
    pub name: CheckName,
    /// Whether it held.
    pub passed: bool,
    /// What was found, in words.
    pub detail: String,
}

/// The invariants, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckName {
    /// The consumer kept reading to the end.
    Survived,
    /// The view equals the truth at the end, and has since it was back in sync.
    Converged,
    /// Back in sync within the deadline after the last fault.
    Deadline,
    /// Relists within the bound.
    Relists,
    /// Requests per sliding minute within the bound.
    RequestRate,
    /// Per object, the resourceVersions the watcher emitted never went backwards.
    Monotonic,
    /// Every resumed watch delivered every change after its resume point.
    Resumable,
    /// No ghosts and no losses at the scenario's checkpoints.
    Checkpoints,
}

/// Costs and timings of one run, in virtual time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Requests the watcher made.
    pub requests: u64,
    /// Full LISTs after the first one.
    pub relists: u32,
    /// Errors the watcher emitted.
    pub errors: u32,
    /// Most requests in any sliding minute.
    pub peak_requests_per_minute: u32,
    /// When the faults first disrupted the watcher (its first error, or its view leaving the
    /// truth); `None` if they never did.
    pub disrupted_at: Option<Duration>,
    /// When it was back in sync for good; `None` if never.
    pub recovered_at: Option<Duration>,
    /// `recovered_at - disrupted_at`.
    pub recovery_latency: Option<Duration>,
    /// The longest stretch in which the view differed from the truth (past the delivery lag);
    /// `None` if it never did.
    pub blind_time: Option<Duration>,
}

impl Verdict {
    /// The verdict for a set-up whose run could not finish (it hung past the wall-clock
    /// deadline, or the harness thread running it died): not recovered, with `why`.
    #[must_use]
    pub fn not_finished(why: String) -> Self {
        Self {
            recovered: false,
            checks: vec![Check {
                name: CheckName::Survived,
                passed: false,
                detail: why.clone(),
            }],
            figures: Figures::default(),
            diagnosis: Some(why),
        }
    }
}
