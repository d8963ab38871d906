//! Monotonic: per object, the resourceVersions the kube-rs watcher emitted never went back
//! (the walk itself is `watcher_history.rs`'s). The exec-client judge has no such check: it
//! does not see what a client emitted.

use crate::check_name::CheckName;
use crate::trace::Trace;
use crate::verdict::scorecard::Check;
use crate::verdict::watcher_history::monotonic;

/// The check on the watcher's emitted resourceVersions.
pub(in crate::verdict) fn versions_rose(trace: &Trace) -> Check {
    match monotonic(trace) {
        Ok(objects) => Check {
            name: CheckName::Monotonic,
            passed: true,
            detail: format!("resourceVersions rose for each of {objects} objects the watcher saw"),
        },
        Err(detail) => Check {
            name: CheckName::Monotonic,
            passed: false,
            detail,
        },
    }
}
