//! Rules for where a watch resumed from: a bookmark that ran ahead of its events, ahead of the
//! server, from an empty bookmark, from a resourceVersion the server no longer had, or from
//! behind what the watcher had emitted.

use std::time::Duration;

use super::explanation::{Explanation, after_fault, found, link};
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::format_duration as fmt;
use crate::trace::{EventType, FaultKind, TraceKind, Verb};
use crate::verdict::evidence::{Evidence, ServedWatch, resource_version};
use crate::verdict::scorecard::Link;
use crate::verdict::watcher_history::first_skip;

/// A watch sent a bookmark while changes below its revision were still owed to it (the server
/// says so: an `early_bookmarks` hit), ended before it sent them, and the watcher resumed from
/// that bookmark: the first change its resumes skipped is one of those.
pub(super) fn bookmark_ahead_of_events(e: &Evidence) -> Option<Explanation> {
    // The server's hits on bookmarks it sent ahead: the watch, and when.
    let early: Vec<(u64, Duration)> = e
        .trace
        .iter()
        .filter_map(|event| match event.kind {
            TraceKind::FaultHit {
                request,
                fault: FaultKind::EarlyBookmarks,
            } => Some((request, event.at)),
            _ => None,
        })
        .collect();
    // Most failed runs had no such bookmark: the resume walk is for those that did.
    if early.is_empty() {
        return None;
    }
    let skip = first_skip(e.trace, &e.setup.config.selector, e.setup.shape).err()?;
    // The bookmark the watcher resumed from is one of those.
    let (id, bookmarked) = e.watches.iter().find_map(|(id, watch)| {
        watch
            .sent
            .iter()
            .find(|(at, sent)| {
                sent.type_ == EventType::Bookmark
                    && sent.resource_version == Some(skip.to)
                    && early.contains(&(*id, *at))
            })
            .map(|(at, _)| (*id, *at))
    })?;
    // The skipped change (at or below the bookmark's revision, as every skip is) was never
    // sent whole on that watch: a cut can take it in half.
    let sent_it = e.watches[&id].sent.iter().any(|(_, s)| {
        s.key.as_ref() == Some(&skip.key)
            && s.resource_version == Some(skip.rv)
            && s.damaged.is_none()
    });
    if sent_it {
        return None;
    }
    let fault = e
        .faults
        .iter()
        .rev()
        .find(|(t, k)| matches!(k, FaultKind::EarlyBookmarks) && *t <= bookmarked)
        .map(|(t, k)| format!(" ({k} at {})", fmt(*t)))
        .unwrap_or_default();
    let ended = e
        .watch_ends
        .get(&id)
        .map(|end| format!(" ({})", end.describe()))
        .unwrap_or_default();
    found(
        Mechanism::BookmarkAheadOfEvents,
        vec![
            link(
                bookmarked,
                format!(
                    "the bookmark watch #{id} sent at {} carried resourceVersion {}, while the change to {} at resourceVersion {} was still owed to it{fault}: etcd's progress notification ran ahead of its events, and the watch cache handed its revision on (etcd#15220)",
                    fmt(bookmarked),
                    skip.to,
                    skip.key,
                    skip.rv
                ),
            ),
            link(
                skip.at,
                format!(
                    "the watch ended{ended} before it sent the change whole, and at {} the watcher resumed from resourceVersion {}, the bookmark's, past it: kube's watcher takes a bookmark's resourceVersion as its resume point, and the server never sends the change again",
                    fmt(skip.at),
                    skip.to
                ),
            ),
        ],
    )
}

pub(super) fn resumed_from_future(e: &Evidence) -> Option<Explanation> {
    // A lagging replica's revision is behind etcd's by design: a watch ahead of it is waiting
    // for it to hear etcd, not for a clock that went back (`lagging_replica`).
    let (id, watch, from) = e.watches.iter().find_map(|(id, w)| {
        (w.from.filter(|f| *f > w.revision))
            .filter(|_| !e.served_lagging(*id))
            .map(|f| (id, w, f))
    })?;
    found(
        Mechanism::ResumedFromFuture,
        vec![
            link(
                watch.at,
                format!(
                    "the server's revision went back to {}{}",
                    watch.revision,
                    after_fault(e, watch.at)
                ),
            ),
            link(
                watch.at,
                format!(
                    "watch #{id} at {} resumed from resourceVersion {from}, ahead of it: a watch from the future waits for the clock to get there",
                    fmt(watch.at)
                ),
            ),
            link(
                watch.at,
                format!(
                    "the writes made meanwhile, at revisions up to {from}, were never sent to it, and nothing relisted"
                ),
            ),
        ],
    )
}

/// A watch resumed from a resourceVersion that etcd, restored from a backup, had since handed
/// out again: the restore wrote an object back at a resourceVersion at or below it after the
/// server had served it, and no relist came between. The server takes the resume as any
/// other, so neither what the restore changed nor the writes at reused revisions reach it.
pub(super) fn resumed_into_reused_revisions(e: &Evidence) -> Option<Explanation> {
    let mut served = 0;
    let mut restores: Vec<(Duration, u64, &str, u64)> = Vec::new();
    let mut relisted: Vec<Duration> = Vec::new();
    for event in e.trace {
        match &event.kind {
            TraceKind::Write {
                key,
                resource_version,
                ..
            } => {
                // Revisions only rise on a live etcd: a write below one already served is the
                // restore's.
                if *resource_version <= served {
                    restores.push((event.at, *resource_version, key, served));
                }
                served = served.max(*resource_version);
            }
            TraceKind::Sent { event: sent, .. } => {
                served = served.max(sent.resource_version.unwrap_or(0));
            }
            TraceKind::Init => relisted.push(event.at),
            _ => {}
        }
    }
    let (id, watch, from, (restored_at, rv, key, _)) = e.watches.iter().find_map(|(id, w)| {
        let from = w.from?;
        let restore = restores.iter().find(|(at, rv, _, before)| {
            *at <= w.at
                && *rv <= from
                && from <= *before
                && !relisted.iter().any(|t| at <= t && *t <= w.at)
        })?;
        Some((id, w, from, *restore))
    })?;
    found(
        Mechanism::ResumedFromFuture,
        vec![
            link(
                restored_at,
                format!(
                    "etcd was restored to an older revision{}: {key} was written back at resourceVersion {rv}, after the server had served up to {from}, and the restore sent no watch event",
                    after_fault(e, restored_at)
                ),
            ),
            link(
                watch.at,
                format!(
                    "watch #{id} at {} resumed from resourceVersion {from}, its last, which the restored etcd hands out again for different writes; the server took the resume as any other, so the watch served only writes after {from}",
                    fmt(watch.at)
                ),
            ),
            link(
                watch.at,
                "neither what the restore changed nor a write at a reused revision reaches a watch, only a relist shows them, and kube's watcher relists only on a 410: no watch client can tell. The remedy is the restore's: `etcdutl snapshot restore --bump-revision N --mark-compacted` turns every old resume point into a 410 and a relist",
            ),
        ],
    )
}

pub(super) fn resumed_from_empty(e: &Evidence) -> Option<Explanation> {
    let (empty_at, _) = e
        .watches
        .values()
        .flat_map(|w| &w.sent)
        .find(|(_, s)| s.type_ == EventType::Bookmark && s.resource_version.is_none())?;
    let (at, request) = e.requests.iter().find(|(t, r)| {
        t >= empty_at && r.verb == Verb::Watch && resource_version(r).as_deref() == Some("")
    })?;
    found(
        Mechanism::ResumedFromEmpty,
        vec![
            link(
                *empty_at,
                format!(
                    "the bookmark at {} carried an empty resourceVersion{}",
                    fmt(*empty_at),
                    after_fault(e, *empty_at)
                ),
            ),
            link(
                *at,
                format!(
                    "kube's watcher took it as its resume point: watch #{} at {} asked for resourceVersion=\"\", a fresh state from then, not the changes since its last event",
                    request.id,
                    fmt(*at)
                ),
            ),
            link(
                *at,
                "what changed in between was never delivered as a change: a delete among it leaves a ghost",
            ),
        ],
    )
}

pub(super) fn stale_resume_point(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Relists) && !e.failed(CheckName::Deadline) {
        return None;
    }
    let first_fault = e.faults.first().map_or(Duration::ZERO, |(t, _)| *t);
    let stale: Vec<(u64, &ServedWatch<'_>, u64)> = e
        .watches
        .iter()
        .filter(|(_, w)| w.at >= first_fault)
        .filter_map(|(id, w)| w.from.filter(|f| *f < w.floor).map(|f| (*id, w, f)))
        .collect();
    let (id, first, from) = stale.first()?;
    let bookmarks = if e.setup.config.bookmarks == Some(false) {
        "bookmarks are off (`bookmarks: false`)".to_owned()
    } else if let Some(f) = e.fault(FaultKind::DropBookmarks) {
        format!("bookmarks were dropped ({f})")
    } else if let Some(f) = e.fault(FaultKind::StaleBookmarks) {
        format!("bookmarks carried a stale resourceVersion ({f})")
    } else {
        format!(
            "the watcher was away longer than the server keeps history{}",
            after_fault(e, first.at)
        )
    };
    let cost = e
        .checks
        .iter()
        .find(|c| (c.name == CheckName::Relists || c.name == CheckName::Deadline) && !c.passed);
    let mut chain = vec![
        link(
            first.at,
            format!(
                "{} watches resumed from a resourceVersion the server no longer had, the first (#{id}) at {}{}: from {from}, where the oldest it could resume from was {}",
                stale.len(),
                fmt(first.at),
                after_fault(e, first.at),
                first.floor
            ),
        ),
        link(
            first.at,
            format!(
                "the resume point was the watcher's own last event, as {bookmarks}; each 410 cost a relist"
            ),
        ),
    ];
    chain.extend(cost.map(|c| Link::quoting(first.at, c)));
    found(Mechanism::StaleResumePoint, chain)
}

/// A watch resumed from behind what the watcher had already emitted — a resume point moved
/// back, by a stale bookmark — and the server, which still had that history, replayed it: the
/// watcher emitted older versions after newer ones.
pub(super) fn replayed_from_behind(e: &Evidence) -> Option<Explanation> {
    if !e.failed(CheckName::Monotonic) {
        return None;
    }
    let mut reached = 0;
    let mut replayed = None;
    for event in e.trace {
        match &event.kind {
            TraceKind::Apply {
                resource_version, ..
            }
            | TraceKind::Delete {
                resource_version, ..
            } => reached = reached.max(*resource_version),
            // A relist starts the watcher's state over: what it replays after it is not a
            // regression of the watch.
            TraceKind::Init => reached = 0,
            TraceKind::WatchOpened {
                request,
                from: Some(from),
                floor,
                ..
            } if *from < reached && *from >= *floor => {
                replayed = Some((event.at, *request, *from, reached));
                break;
            }
            _ => {}
        }
    }
    let (at, id, from, reached) = replayed?;
    let moved = match e.fault(FaultKind::StaleBookmarks) {
        Some(f) => format!("bookmarks carried a stale resourceVersion ({f})"),
        None => "its resume point went back".to_owned(),
    };
    let regression = e.failure(CheckName::Monotonic);
    found(
        Mechanism::StaleResumePoint,
        vec![
            link(
                at,
                format!(
                    "watch #{id} at {} resumed from resourceVersion={from}, behind the {reached} the watcher had already emitted, as {moved}",
                    fmt(at)
                ),
            ),
            Link {
                quotes: regression.map(|c| c.name),
                ..link(
                    at,
                    format!(
                        "the server still had that history and replayed it from {from} on, and the watcher emitted it again: {}",
                        regression.map_or("", |c| c.detail.as_str())
                    ),
                )
            },
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_name::CheckName;
    use crate::trace::{EventType, TraceKind, Verb};
    use crate::verdict::fixtures::*;

    /// A watch from 5 sends a bookmark at 10 while the change to default/a at 9 is owed to
    /// it, ends at its timeout, and the watcher resumes from 10; `early` says whether the server
    /// said the bookmark ran ahead.
    fn resumed_from_a_bookmark_ahead_of(early: bool) -> Vec<crate::trace::TraceEvent> {
        let mut trace = vec![
            request(0, 1, Verb::List, "limit=500", 200),
            request(0, 2, Verb::Watch, "watch=1&resourceVersion=5", 200),
            opened(0, 2, Some(5), 1, 5),
            fault(60, "early_bookmarks"),
            written(100, "default/a", 9),
        ];
        if early {
            trace.push(hit(102, 2, "early_bookmarks"));
        }
        trace.extend([
            sent(102, 2, EventType::Bookmark, Some(10), None),
            ended(104, 2, crate::trace::WatchEnd::Timeout),
            request(104, 3, Verb::Watch, "watch=1&resourceVersion=10", 200),
            opened(104, 3, Some(10), 1, 10),
        ]);
        trace
    }

    #[test]
    fn a_resume_from_a_bookmark_that_ran_ahead_of_an_owed_change_is_found() {
        let found = explain(
            bookmark_ahead_of_events,
            PLAIN,
            &resumed_from_a_bookmark_ahead_of(true),
            &[],
        )
        .expect("it fits");
        assert_eq!(found.mechanism, Mechanism::BookmarkAheadOfEvents);
        assert!(
            found.chain[0].text.starts_with(
                "the bookmark watch #2 sent at 1m42s carried resourceVersion 10, while the change to default/a at resourceVersion 9 was still owed to it (early_bookmarks at 1m)"
            ),
            "{}",
            found.chain[0].text
        );
        assert!(found.chain[1].text.starts_with(
            "the watch ended (timeout) before it sent the change whole, and at 1m44s the watcher resumed from resourceVersion 10"
        ));
    }

    #[test]
    fn a_change_the_watch_did_send_whole_is_not_skipped_by_its_bookmark() {
        // The watch sent the MODIFIED at 9 whole before it ended; the watcher lost it itself.
        let mut trace = resumed_from_a_bookmark_ahead_of(true);
        trace.insert(7, sent(103, 2, EventType::Modified, Some(9), None));
        assert_eq!(apply(bookmark_ahead_of_events, PLAIN, &trace, &[]), None);
        let mut halved = resumed_from_a_bookmark_ahead_of(true);
        let cut = Some(crate::trace::Damage::Cut);
        halved.insert(7, sent(103, 2, EventType::Modified, Some(9), cut));
        assert_eq!(
            apply(bookmark_ahead_of_events, PLAIN, &halved, &[]),
            Some(Mechanism::BookmarkAheadOfEvents),
            "half a line is not the change"
        );
    }

    #[test]
    fn a_skip_past_a_bookmark_the_server_did_not_send_ahead_is_not_one() {
        assert_eq!(
            apply(
                bookmark_ahead_of_events,
                PLAIN,
                &resumed_from_a_bookmark_ahead_of(false),
                &[]
            ),
            None
        );
    }

    #[test]
    fn a_resume_from_the_future_is_found_and_one_from_the_past_is_not() {
        let trace = |from| vec![fault(300, "restart"), opened(300, 4, Some(from), 2, 2)];
        assert_eq!(
            apply(resumed_from_future, PLAIN, &trace(577), &[]),
            Some(Mechanism::ResumedFromFuture)
        );
        assert_eq!(apply(resumed_from_future, PLAIN, &trace(2), &[]), None);
    }

    #[test]
    fn a_resume_into_revisions_a_restore_handed_out_again_is_found_and_one_after_a_relist_is_not() {
        let served_850 = vec![
            written(700, "default/rollout-4", 709),
            written(720, "default/a", 850),
            fault(722, "restart"),
        ];
        let mut restored = served_850.clone();
        restored.push(written(722, "default/rollout-4", 709));
        restored.push(opened(723, 5, Some(850), 849, 851));
        assert_eq!(
            apply(resumed_into_reused_revisions, PLAIN, &restored, &[]),
            Some(Mechanism::ResumedFromFuture)
        );
        let mut kept = served_850;
        kept.push(opened(723, 5, Some(850), 850, 851));
        assert_eq!(
            apply(resumed_into_reused_revisions, PLAIN, &kept, &[]),
            None,
            "a restart that keeps etcd's revision hands nothing out again"
        );
        let mut relisted = restored.clone();
        relisted.insert(4, at(722, TraceKind::Init));
        assert_eq!(
            apply(resumed_into_reused_revisions, PLAIN, &relisted, &[]),
            None,
            "a relist after the restore starts from the restored history"
        );
    }

    #[test]
    fn a_resume_from_an_empty_bookmark_is_found_and_one_from_a_number_is_not() {
        let trace = |rv: &str| {
            vec![
                opened(0, 2, Some(1), 1, 1),
                fault(30, "empty_bookmarks"),
                sent(60, 2, EventType::Bookmark, None, None),
                request(
                    120,
                    3,
                    Verb::Watch,
                    &format!("watch=1&resourceVersion={rv}"),
                    200,
                ),
            ]
        };
        assert_eq!(
            apply(resumed_from_empty, PLAIN, &trace(""), &[]),
            Some(Mechanism::ResumedFromEmpty)
        );
        assert_eq!(apply(resumed_from_empty, PLAIN, &trace("7"), &[]), None);
    }

    #[test]
    fn a_stale_resume_point_is_found_and_a_fresh_one_is_not() {
        let trace = |from| {
            vec![
                fault(120, "drop_bookmarks"),
                opened(290, 3, Some(from), 300, 900),
            ]
        };
        let checks = [failed(CheckName::Relists)];
        assert_eq!(
            apply(stale_resume_point, PLAIN, &trace(10), &checks),
            Some(Mechanism::StaleResumePoint)
        );
        assert_eq!(apply(stale_resume_point, PLAIN, &trace(800), &checks), None);
    }

    #[test]
    fn a_watch_resumed_from_behind_what_was_emitted_is_a_replay_and_one_from_ahead_is_not() {
        let trace = |from| {
            vec![
                fault(120, "stale_bookmarks"),
                at(
                    130,
                    TraceKind::Apply {
                        key: "default/a".into(),
                        resource_version: 500,
                    },
                ),
                opened(290, 3, Some(from), 100, 900),
            ]
        };
        let checks = [failed(CheckName::Monotonic)];
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(360), &checks),
            Some(Mechanism::StaleResumePoint)
        );
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(500), &checks),
            None
        );
        assert_eq!(
            apply(replayed_from_behind, PLAIN, &trace(360), &[]),
            None,
            "only when the watcher went back"
        );
    }
}
