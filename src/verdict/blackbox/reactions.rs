//! What a client's requests show of its reactions: what it did after each 410, and where each
//! of its watches resumed from.

use std::time::Duration;

use super::story::{Reaction, Resumes};
use crate::trace::Verb;
use crate::verdict::call::Call;
use crate::verdict::request_log::lists;

/// What it did after each 410: when it heard it, on which request, and what came next.
pub(super) fn after_gone<'c, 'a>(calls: &'c [Call<'a>]) -> Vec<(Duration, &'c Call<'a>, Reaction)> {
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

/// Where each watch the server answered resumed from.
pub(super) fn resumes(calls: &[Call<'_>]) -> Resumes {
    let mut resumes = Resumes::default();
    for (i, call) in calls.iter().enumerate() {
        if call.record.verb != Verb::Watch || call.record.status != 200 {
            continue;
        }
        let earlier_watch = calls[..i].iter().any(|c| c.record.verb == Verb::Watch);
        match (call.resource_version().as_deref(), call.opened) {
            (Some(""), _) if earlier_watch => resumes.empty.push(call.at),
            (_, Some((Some(from), _, revision))) if from > revision => {
                resumes.future.push((call.at, from, revision));
            }
            (_, Some((Some(from), floor, _))) => {
                resumes.resumed += 1;
                if from < floor {
                    resumes.stale += 1;
                }
            }
            _ => resumes.fresh += 1,
        }
    }
    resumes
}
