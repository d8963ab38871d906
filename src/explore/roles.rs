//! Which fault kinds change what a client carries and which expose it ([`role`]), and which
//! of them meet ([`pairs`]): the table guided draws pair from. A change alone often shows
//! nothing, as the client goes on from what it holds until it next lists or re-watches; a
//! trigger makes it do so now. Old search drew the two in the right order only by chance, one
//! timeline in hundreds.
//!
//! A trigger only exposes a change when it makes the request the change waits for: a relist
//! throws away the resume point a bookmark or an idle window left (the client resumes from
//! the list's revision), and a re-watch from the resume point never makes the LIST a failing
//! or paginated list waits for. So a pair is a change and a trigger that make the same request
//! ([`Meets`]), not every change with every trigger.

use crate::fault::{Fault, FaultKind, LatencyOn, Restart, TargetVerb};

/// The requests a change waits for, or a trigger makes: a re-watch from the resume point the
/// client carries, a relist, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Meets {
    /// A watch from the resume point the client carries.
    Rewatch,
    /// A LIST, and the watch from its revision.
    Relist,
    /// Either.
    Any,
}

impl Meets {
    /// Whether a change waiting for `self` is met by a trigger making `other`.
    fn meets(self, other: Self) -> bool {
        self == Self::Any || other == Self::Any || self == other
    }
}

/// What a fault kind does to a watcher, for pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Leaves something wrong in what the client carries (its resume point, its store, its
    /// backoff) or in wait for its next request; shows when the client next makes that
    /// request.
    Changes(Meets),
    /// Makes the client re-watch or relist now: exposes what a change left.
    Triggers(Meets),
    /// Changes (waiting for the first) and triggers (making the second).
    Both(Meets, Meets),
    /// Shows, or not, by itself: nothing it leaves needs a trigger, and it forces no relist.
    Alone,
}

/// The role of each kind, and why.
pub(super) fn role(kind: FaultKind) -> Role {
    use Meets::{Any, Relist, Rewatch};
    match kind {
        // No writes and no bookmarks while the global revision moves: the resume point ages,
        // which a re-watch after the window shows (stale or expired).
        FaultKind::Idle => Role::Changes(Rewatch),
        // History is gone: a continue token, an exact LIST, a watch without a cache must start
        // over, which is a relist.
        FaultKind::Compact => Role::Triggers(Relist),
        // The resume point stops moving; only a re-watch shows it has fallen out of the window.
        FaultKind::DropBookmarks => Role::Changes(Rewatch),
        // The resume point is set back to an old revision, used only at the next re-watch.
        FaultKind::StaleBookmarks => Role::Changes(Rewatch),
        // The resume point is emptied, used only at the next re-watch.
        FaultKind::EmptyBookmarks => Role::Changes(Rewatch),
        // Waits for a streaming list, which comes only with a relist; then the store is never
        // ready.
        FaultKind::DropInitialEventsEnd => Role::Changes(Relist),
        // Every open watch ends with 410 and the resourceVersions are too old: a relist now.
        FaultKind::ExpireWatches => Role::Triggers(Relist),
        // Waits for the next watch (a change until then), and that watch's 410 forces a relist.
        FaultKind::Watch410 => Role::Both(Any, Relist),
        // Waits for the next watches, whichever makes them; a cut makes the re-watch that
        // meets it.
        FaultKind::EmptyWatch => Role::Changes(Any),
        // Watches end now: the client re-watches from the resume point it carries.
        FaultKind::CutStream => Role::Triggers(Rewatch),
        // Silence until the client's own idle timeout (never, for some set-ups): it exposes
        // nothing another fault left, and the stall is the finding itself.
        FaultKind::StallStream => Role::Alone,
        // Waits for the next requests (a count of them): a relist or re-watch meets it.
        FaultKind::HangHeaders => Role::Changes(Any),
        // A window of failing requests: a LIST that keeps failing shows only when a relist is
        // forced inside it (kube's backoff, reset by `Init` at each relist).
        FaultKind::HttpError => Role::Changes(Relist),
        // Late events leave the resume point and the view behind (a re-watch shows it); late
        // requests slow the next relist, which a trigger inside the window makes.
        FaultKind::Latency => Role::Changes(Any),
        // A broken line ends the watch and may lose its event: the view carries the loss, which
        // any later request may or may not mend.
        FaultKind::MalformedEvent => Role::Changes(Any),
        // Waits for a paginated LIST, which comes only with a relist.
        FaultKind::ExpireContinue => Role::Changes(Relist),
        // Every restart cuts every watch (a re-watch) and re-lists the watch cache, which may no
        // longer hold the resume point (a relist); one that regresses or resets etcd leaves the
        // client a resourceVersion from another history, which only a re-watch shows (a relist
        // mends it).
        FaultKind::Restart => Role::Both(Rewatch, Any),
        // Turns streaming lists away (a window of them), which come only with a relist.
        FaultKind::WatchError => Role::Changes(Relist),
        // The resume point runs ahead of the events still owed, used only at the next
        // re-watch.
        FaultKind::EarlyBookmarks => Role::Changes(Rewatch),
        // Every watch on another replica is reset now: the client re-watches from its resume
        // point on the one it fails over to, whatever that one's cache has heard.
        FaultKind::Failover => Role::Triggers(Rewatch),
    }
}

/// Whether a change of `kind` is carried by bookmarks: it is in the client only from a
/// bookmark until the next event overwrites the resume point, so a trigger shows it only right
/// after a bookmark.
pub(super) fn carried_by_bookmarks(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::StaleBookmarks | FaultKind::EmptyBookmarks | FaultKind::EarlyBookmarks
    )
}

/// Whether `fault` is the form of its kind that changes what the client carries: a restart
/// that regresses or resets, a request error that LISTs meet, a 410 without its `code` (one
/// with it tells the client to relist, which it does: that is the kind's trigger, and leaves
/// nothing wrong; without it the client may not take it for "gone" and resume from what the
/// server said it no longer has); every form of the other kinds.
pub(super) fn carries(fault: &Fault) -> bool {
    match fault {
        Fault::Restart { restart, .. } => *restart != Restart::Keep,
        Fault::Watch410 { code, .. } => !*code,
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

/// What a change of `kind` waits for, if it is one.
fn waits_for(kind: FaultKind) -> Option<Meets> {
    match role(kind) {
        Role::Changes(meets) | Role::Both(meets, _) => Some(meets),
        Role::Triggers(_) | Role::Alone => None,
    }
}

/// What a trigger of `kind` makes, if it is one.
fn makes(kind: FaultKind) -> Option<Meets> {
    match role(kind) {
        Role::Triggers(meets) | Role::Both(_, meets) => Some(meets),
        Role::Changes(_) | Role::Alone => None,
    }
}

/// The kinds in `kinds` that change, and that some trigger in `kinds` meets, in their order.
pub(super) fn changes(kinds: &[FaultKind]) -> Vec<FaultKind> {
    kinds
        .iter()
        .copied()
        .filter(|&change| !triggers_for(change, kinds).is_empty())
        .collect()
}

/// The kinds in `kinds` that trigger the request a change of kind `change` waits for, in
/// their order.
pub(super) fn triggers_for(change: FaultKind, kinds: &[FaultKind]) -> Vec<FaultKind> {
    let Some(wanted) = waits_for(change) else {
        return Vec::new();
    };
    kinds
        .iter()
        .copied()
        .filter(|&trigger| makes(trigger).is_some_and(|made| wanted.meets(made)))
        .collect()
}

/// The pairs of kinds in `kinds`: each that changes, with each that triggers what it waits
/// for, in the order of `kinds`: what the draw chooses from, listed whole for the tests.
#[cfg(test)]
pub(super) fn pairs(kinds: &[FaultKind]) -> Vec<(FaultKind, FaultKind)> {
    changes(kinds)
        .into_iter()
        .flat_map(|change| {
            triggers_for(change, kinds)
                .into_iter()
                .map(move |trigger| (change, trigger))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_is_a_change_then_a_trigger_that_makes_what_it_waits_for() {
        let pairs = pairs(FaultKind::ALL);
        assert!(pairs.contains(&(FaultKind::HttpError, FaultKind::ExpireWatches)));
        assert!(pairs.contains(&(FaultKind::StaleBookmarks, FaultKind::CutStream)));
        assert!(pairs.contains(&(FaultKind::EmptyWatch, FaultKind::CutStream)));
        assert!(pairs.contains(&(FaultKind::HangHeaders, FaultKind::Compact)));
        for (change, trigger) in &pairs {
            assert!(matches!(role(*change), Role::Changes(_) | Role::Both(..)));
            assert!(matches!(role(*trigger), Role::Triggers(_) | Role::Both(..)));
        }
        // A relist throws the resume point away; a re-watch never lists.
        assert!(!pairs.contains(&(FaultKind::EmptyBookmarks, FaultKind::ExpireWatches)));
        assert!(!pairs.contains(&(FaultKind::Idle, FaultKind::Compact)));
        assert!(!pairs.contains(&(FaultKind::ExpireContinue, FaultKind::CutStream)));
        assert!(!pairs.contains(&(FaultKind::DropInitialEventsEnd, FaultKind::CutStream)));
        assert!(
            !super::pairs(&[FaultKind::StallStream, FaultKind::CutStream])
                .iter()
                .any(|p| p.0 == FaultKind::StallStream)
        );
    }

    #[test]
    fn a_410_changes_what_the_client_carries_only_without_its_code() {
        let gone = |code| Fault::Watch410 {
            form: crate::fault::GoneForm::Event,
            message: None,
            code,
            target: crate::fault::Target::default(),
        };
        assert!(carries(&gone(false)));
        assert!(!carries(&gone(true)));
    }

    #[test]
    fn a_change_no_trigger_in_the_budget_meets_is_not_drawn_as_one() {
        let kinds = [
            FaultKind::EmptyBookmarks,
            FaultKind::HttpError,
            FaultKind::Compact,
        ];
        assert_eq!(changes(&kinds), vec![FaultKind::HttpError]);
        assert_eq!(
            triggers_for(FaultKind::HttpError, &kinds),
            vec![FaultKind::Compact]
        );
        assert!(triggers_for(FaultKind::EmptyBookmarks, &kinds).is_empty());
    }
}
