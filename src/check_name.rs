//! The checks a verdict runs, by name: what a report lists, what explore counts a finding
//! under, and what a scenario's `expect.tolerate` may name.

use serde::Serialize;

/// The invariants, in the order they are reported.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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
    /// A client's open watch was sent every write it selects (`harness exec`: a reader that
    /// stops reading falls behind).
    KeptUp,
    /// After every 410 the server sent, the client loaded the state again before it resumed.
    RelistAfterGone,
    /// Every watch resumed from the last resourceVersion the client was sent: never from an
    /// empty one, never from one behind.
    ResumeFromLast,
    /// After every answer with a `Retry-After`, the client waited that long before asking
    /// again.
    RetryAfter,
    /// After errors, the client backed off: never sixteen failures in a row retried with waits
    /// that neither grew nor reached 10 s.
    Backoff,
    /// The client did not repeat, unchanged to the end, a request the server refused with a
    /// 4xx that no fault was behind.
    RefusedRepeat,
}

impl CheckName {
    /// Every check, in the order they are reported.
    pub const ALL: &'static [CheckName] = &[
        Self::Survived,
        Self::Converged,
        Self::Deadline,
        Self::Relists,
        Self::RequestRate,
        Self::Monotonic,
        Self::Resumable,
        Self::Checkpoints,
        Self::KeptUp,
        Self::RelistAfterGone,
        Self::ResumeFromLast,
        Self::RetryAfter,
        Self::Backoff,
        Self::RefusedRepeat,
    ];

    /// Whether it judges the protocol (how the client reacted to what the server said)
    /// rather than the outcome (what its view came to): the checks a scenario may tolerate.
    #[must_use]
    pub fn protocol(self) -> bool {
        matches!(
            self,
            Self::RelistAfterGone
                | Self::ResumeFromLast
                | Self::RetryAfter
                | Self::Backoff
                | Self::RefusedRepeat
        )
    }

    /// The name scenarios and reports use: `relist_after_gone`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Survived => "survived",
            Self::Converged => "converged",
            Self::Deadline => "deadline",
            Self::Relists => "relists",
            Self::RequestRate => "request_rate",
            Self::Monotonic => "monotonic",
            Self::Resumable => "resumable",
            Self::Checkpoints => "checkpoints",
            Self::KeptUp => "kept_up",
            Self::RelistAfterGone => "relist_after_gone",
            Self::ResumeFromLast => "resume_from_last",
            Self::RetryAfter => "retry_after",
            Self::Backoff => "backoff",
            Self::RefusedRepeat => "refused_repeat",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_listed_once_and_named_as_serde_writes_it() {
        for check in CheckName::ALL {
            let json = serde_json::to_string(check).unwrap();
            assert_eq!(json, format!("\"{}\"", check.name()));
        }
        let mut names: Vec<&str> = CheckName::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CheckName::ALL.len());
    }
}
