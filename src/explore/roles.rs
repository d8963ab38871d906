//! Which fault kinds change what a client carries and which expose it ([`role`]): the table
//! guided draws pair from. A change alone often shows nothing, as the client goes on from what
//! it holds until it next lists or re-watches; a trigger makes it do so now. Old search drew the
//! two in the right order only by chance, one timeline in hundreds.

use crate::fault::{Fault, FaultKind, LatencyOn, Restart, TargetVerb};

/// What a fault kind does to a watcher, for pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Leaves something wrong in what the client carries (its resume point, its store, its
    /// backoff) or in wait for its next request; shows when the client next lists or watches.
    Changes,
    /// Makes the client re-watch or relist now: exposes what a change left.
    Triggers,
    /// Changes and triggers.
    Both,
    /// Shows, or not, by itself: nothing it leaves needs a trigger, and it forces no relist.
    Alone,
}

/// The role of each kind, and why.
pub(super) fn role(kind: FaultKind) -> Role {
    match kind {
        // No writes and no bookmarks while the global revision moves: the resume point ages,
        // which a re-watch after the window shows (stale or expired).
        FaultKind::Idle => Role::Changes,
        // History is gone: a continue token, an exact LIST, a watch without a cache must start
        // over, which is a relist.
        FaultKind::Compact => Role::Triggers,
        // The resume point stops moving; only a re-watch shows it has fallen out of the window.
        FaultKind::DropBookmarks => Role::Changes,
        // The resume point is set back to an old revision, used only at the next re-watch.
        FaultKind::StaleBookmarks => Role::Changes,
        // The resume point is emptied, used only at the next re-watch.
        FaultKind::EmptyBookmarks => Role::Changes,
        // Waits for a streaming list, which comes only with a relist; then the store is never
        // ready.
        FaultKind::DropInitialEventsEnd => Role::Changes,
        // Every open watch ends with 410 and the resourceVersions are too old: a relist now.
        FaultKind::ExpireWatches => Role::Triggers,
        // Waits for the next watch (a change until then), and that watch's 410 forces a relist.
        FaultKind::Watch410 => Role::Both,
        // Waits for the next watches; a cut makes the re-watch that meets it.
        FaultKind::EmptyWatch => Role::Changes,
        // Watches end now: the client re-watches from the resume point it carries.
        FaultKind::CutStream => Role::Triggers,
        // Silence until the client's own idle timeout (never, for some set-ups): it exposes
        // nothing another fault left, and the stall is the finding itself.
        FaultKind::StallStream => Role::Alone,
        // Waits for the next requests (a count of them): a relist or re-watch meets it.
        FaultKind::HangHeaders => Role::Changes,
        // A window of failing requests: a LIST that keeps failing shows only when a relist is
        // forced inside it (kube's backoff, reset by `Init` at each relist).
        FaultKind::HttpError => Role::Changes,
        // Late events leave the resume point and the view behind; late requests slow the next
        // relist, which a trigger inside the window makes.
        FaultKind::Latency => Role::Changes,
        // A broken line ends the watch and may lose its event: the view carries the loss.
        FaultKind::MalformedEvent => Role::Changes,
        // Waits for a paginated LIST, which comes only with a relist.
        FaultKind::ExpireContinue => Role::Changes,
        // Every restart cuts every watch and re-lists the watch cache (a trigger); one that
        // regresses or resets etcd leaves the client a resourceVersion from another history.
        FaultKind::Restart => Role::Both,
    }
}

/// Whether `fault` is the form of its kind that changes what the client carries: a restart
/// that regresses or resets, a request error that LISTs meet; every form of the other kinds.
pub(super) fn carries(fault: &Fault) -> bool {
    match fault {
        Fault::Restart { restart, .. } => *restart != Restart::Keep,
        Fault::HttpError { target, .. } => {
            target.verbs.is_empty() || target.verbs.contains(&TargetVerb::List)
        }
        Fault::Latency { on, .. } => *on == LatencyOn::Events || target_lists(fault),
        _ => true,
    }
}

fn target_lists(fault: &Fault) -> bool {
    fault
        .target()
        .is_some_and(|t| t.verbs.is_empty() || t.verbs.contains(&TargetVerb::List))
}

/// The pairs of kinds in `kinds`: each that changes, with each that triggers, in
/// [`FaultKind::ALL`]'s order.
pub(super) fn pairs(kinds: &[FaultKind]) -> Vec<(FaultKind, FaultKind)> {
    let of = |wanted: Role| {
        kinds
            .iter()
            .copied()
            .filter(move |k| matches!(role(*k), r if r == wanted || r == Role::Both))
    };
    of(Role::Changes)
        .flat_map(|change| of(Role::Triggers).map(move |trigger| (change, trigger)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_is_a_change_then_a_trigger_and_the_issue_s_pair_is_one() {
        let pairs = pairs(FaultKind::ALL);
        assert!(pairs.contains(&(FaultKind::HttpError, FaultKind::ExpireWatches)));
        assert!(pairs.contains(&(FaultKind::StaleBookmarks, FaultKind::CutStream)));
        for (change, trigger) in pairs {
            assert!(matches!(role(change), Role::Changes | Role::Both));
            assert!(matches!(role(trigger), Role::Triggers | Role::Both));
        }
        assert!(
            !super::pairs(&[FaultKind::StallStream, FaultKind::CutStream])
                .iter()
                .any(|p| p.0 == FaultKind::StallStream)
        );
    }
}
