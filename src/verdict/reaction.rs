//! What a client did after each 410 it was told, read off its calls. Both judges read it: the
//! relists check counts the relists that followed a 410, and the exec story tells a re-watch of
//! the resourceVersion the server said is gone.

use std::time::Duration;

use crate::trace::Verb;
use crate::verdict::call::Call;
use crate::verdict::request_log::lists;

/// What a client did after it was told 410.
pub(in crate::verdict) enum Reaction {
    /// Nothing: no request after it (yet).
    None,
    /// A list (or streaming list) from scratch.
    Relisted,
    /// A watch from the very resourceVersion it was told is gone, at.
    SameResourceVersion(Duration),
    /// Something else.
    Other,
}

/// What it did after each 410: when it heard it, on which request, and what came next.
pub(in crate::verdict) fn after_gone<'c, 'a>(
    calls: &'c [Call<'a>],
) -> Vec<(Duration, &'c Call<'a>, Reaction)> {
    let mut after_gone = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let Some(heard) = call.gone() else { continue };
        let next = calls[i + 1..].iter().find(|c| c.at >= heard);
        let reaction = match next {
            None => Reaction::None,
            Some(next) if lists(next.record) => Reaction::Relisted,
            Some(next)
                if next.record.verb == Verb::Watch
                    && next.resource_version() == call.resource_version() =>
            {
                Reaction::SameResourceVersion(next.at)
            }
            Some(_) => Reaction::Other,
        };
        after_gone.push((heard, call, reaction));
    }
    after_gone
}

/// How many of the 410s a relist came next after.
pub(in crate::verdict) fn relisted(after_gone: &[(Duration, &Call<'_>, Reaction)]) -> usize {
    after_gone
        .iter()
        .filter(|(_, _, r)| matches!(r, Reaction::Relisted))
        .count()
}
