//! Checkpoints: at each of the scenario's checkpoints the kube-rs watcher's view had no ghosts
//! and no losses (the walk itself is `watcher_history.rs`'s).

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::Shape;
use crate::selector::Selector;
use crate::trace::Trace;
use crate::verdict::scorecard::Check;
use crate::verdict::watcher_history::checkpoints;

/// The check at `at`, each checkpoint, forgiving `lag` of delivery.
pub(in crate::verdict) fn no_ghosts_or_losses(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
    at: &[Duration],
    lag: Duration,
) -> Check {
    match checkpoints(trace, selector, shape, at, lag) {
        Ok(n) => Check {
            name: CheckName::Checkpoints,
            passed: true,
            detail: format!("no ghosts and no losses at the {n} checkpoints"),
        },
        Err(detail) => Check {
            name: CheckName::Checkpoints,
            passed: false,
            detail,
        },
    }
}
