//! Where each of an exec client's watches resumed from, as the server saw it.

use std::time::Duration;

use crate::trace::Verb;
use crate::verdict::call::Call;

/// Where the client's watches resumed from.
#[derive(Default)]
pub(super) struct Resumes {
    pub(super) fresh: usize,
    pub(super) resumed: usize,
    pub(super) stale: usize,
    pub(super) empty: Vec<Duration>,
    pub(super) future: Vec<(Duration, u64, u64)>,
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
