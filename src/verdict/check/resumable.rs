//! Resumable: no watch resumed from where it would skip changes. One check for both judges over
//! what each can see ([`ResumeEvidence`]): the kube-rs judge walks each resumed watch's history
//! and checks it delivered every change after its resume point (the walk is
//! `watcher_history.rs`'s); the exec judge, which sees no history, counts where each watch
//! started and checks none did from an empty resourceVersion or from ahead of the server.

use crate::check_name::CheckName;
use crate::verdict::scorecard::Check;

/// How an exec client's watches started, counted.
pub(in crate::verdict) struct WatchStarts {
    /// From the current state.
    pub(in crate::verdict) fresh: usize,
    /// From a resourceVersion.
    pub(in crate::verdict) resumed: usize,
    /// Of those, from one the server no longer had.
    pub(in crate::verdict) stale: usize,
    /// From an empty resourceVersion, after an earlier watch.
    pub(in crate::verdict) empty: usize,
    /// From ahead of the server's revision.
    pub(in crate::verdict) future: usize,
}

/// What a judge can see of where a client's watches resumed from.
pub(in crate::verdict) enum ResumeEvidence {
    /// The kube-rs watcher's history walked: how many watches resumed, or the first that
    /// skipped changes, in words.
    Walked(Result<usize, String>),
    /// An exec client's watch starts, counted.
    Counted(WatchStarts),
}

/// Resumable: no watch resumed from where it would skip changes.
pub(in crate::verdict) fn resumable(evidence: &ResumeEvidence) -> Check {
    let (passed, detail) = match evidence {
        ResumeEvidence::Walked(Ok(resumes)) => (
            true,
            match resumes {
                0 => "no watch resumed from an earlier resume point".to_owned(),
                1 => "the resumed watch delivered every change after its resume point".to_owned(),
                n => format!(
                    "all {n} resumed watches delivered every change after their resume points"
                ),
            },
        ),
        ResumeEvidence::Walked(Err(skipped)) => (false, skipped.clone()),
        ResumeEvidence::Counted(starts) => (
            starts.empty + starts.future == 0,
            format!(
                "watches: {} from the current state, {} resumed, {} of them from a resourceVersion the server no longer had, {} with an empty resourceVersion, {} from ahead of the server",
                starts.fresh, starts.resumed, starts.stale, starts.empty, starts.future
            ),
        ),
    };
    Check {
        name: CheckName::Resumable,
        passed,
        detail,
    }
}
