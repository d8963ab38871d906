//! Resumable: no watch resumed from where it would skip changes. The kube-rs judge checks that
//! each resumed watch delivered every change after its resume point (the walk itself is
//! `watcher_history.rs`'s); the exec-client judge, that no watch resumed from an empty
//! resourceVersion or from ahead of the server.

use crate::check_name::CheckName;
use crate::scenario::Shape;
use crate::selector::Selector;
use crate::trace::Trace;
use crate::verdict::scorecard::Check;
use crate::verdict::watcher_history::resumable;

/// The kube-rs watcher's resumed watches.
pub(in crate::verdict) fn resumed_watches_delivered(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
) -> Check {
    match resumable(trace, selector, shape) {
        Ok(resumes) => Check {
            name: CheckName::Resumable,
            passed: true,
            detail: match resumes {
                0 => "no watch resumed from an earlier resume point".to_owned(),
                1 => "the resumed watch delivered every change after its resume point".to_owned(),
                n => format!(
                    "all {n} resumed watches delivered every change after their resume points"
                ),
            },
        },
        Err(detail) => Check {
            name: CheckName::Resumable,
            passed: false,
            detail,
        },
    }
}

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

/// An exec client's watches: none from an empty resourceVersion or from the future.
pub(in crate::verdict) fn client_resumes(starts: &WatchStarts) -> Check {
    Check {
        name: CheckName::Resumable,
        passed: starts.empty + starts.future == 0,
        detail: format!(
            "watches: {} from the current state, {} resumed, {} of them from a resourceVersion the server no longer had, {} with an empty resourceVersion, {} from ahead of the server",
            starts.fresh, starts.resumed, starts.stale, starts.empty, starts.future
        ),
    }
}
