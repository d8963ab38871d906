//! Checks on the watcher's history, not only its end state — client-side cousins of etcd's
//! watch validators (`tests/robustness/validate` in etcd): per object the resourceVersion
//! never goes backwards; a resumed watch delivers every change after its resume point; and at
//! each checkpoint the view has no ghosts and no losses.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::fold::{Objects, Truth, ViewFold, apply_truth};
use crate::scenario::Shape;
use crate::scenario::format_duration as fmt;
use crate::selector::Selector;
use crate::trace::{ObjectKey, Trace, TraceKind, Verb};

/// The object and resourceVersion of an event the watcher emitted.
fn emitted_change(kind: &TraceKind) -> Option<(&ObjectKey, u64)> {
    match kind {
        TraceKind::InitApply {
            key,
            resource_version,
        }
        | TraceKind::Apply {
            key,
            resource_version,
        }
        | TraceKind::Delete {
            key,
            resource_version,
        } => Some((key, *resource_version)),
        _ => None,
    }
}

/// Per object, the resourceVersions the watcher emitted never go backwards, unless the truth
/// itself did: etcd restored from a backup writes an object back at an older resourceVersion,
/// and a watcher that shows it is right. Returns how many objects were followed, or the first
/// regression in words.
pub(super) fn monotonic(trace: &Trace) -> Result<usize, String> {
    let mut last: BTreeMap<&ObjectKey, u64> = BTreeMap::new();
    let mut followed: BTreeSet<&ObjectKey> = BTreeSet::new();
    let mut written: BTreeMap<&ObjectKey, u64> = BTreeMap::new();
    for event in trace {
        if let TraceKind::Write {
            key,
            resource_version,
            ..
        } = &event.kind
        {
            if written
                .insert(key, *resource_version)
                .is_some_and(|before| *resource_version < before)
            {
                last.remove(key);
            }
            continue;
        }
        let Some((key, rv)) = emitted_change(&event.kind) else {
            continue;
        };
        if rv == 0 {
            continue;
        }
        if let Some(previous) = last.get(key).filter(|p| rv < **p) {
            return Err(format!(
                "{key} went back from resourceVersion {previous} to {rv} at {}",
                fmt(event.at)
            ));
        }
        last.insert(key, rv);
        followed.insert(key);
    }
    Ok(followed.len())
}

/// The changes a watcher with `selector` must deliver, as `(key, resourceVersion, when)`: a
/// write that leaves the object selected (ADDED/MODIFIED) or unselects it (DELETED).
/// An `applied_objects()` consumer sees no deletes, so none is expected of it. A change that a
/// later write of the same object at a lower resourceVersion undid (etcd restored from a
/// backup) is history no server holds any more, so none is expected of it either.
fn expected_changes(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
) -> Vec<(ObjectKey, u64, Duration)> {
    let mut truth = Objects::new();
    let mut out = Vec::new();
    let mut last_written: BTreeMap<&ObjectKey, u64> = BTreeMap::new();
    for event in trace {
        if let TraceKind::Write {
            key,
            resource_version,
            ..
        } = &event.kind
        {
            let before = truth.contains_key(key);
            apply_truth(&mut truth, &event.kind, selector);
            let after = truth.contains_key(key);
            if after || (before && shape != Shape::AppliedObjects) {
                out.push((key.clone(), *resource_version, event.at));
            }
            // Revisions only rise on a live etcd: a lower one is a restore undoing the later.
            if last_written
                .insert(key, *resource_version)
                .is_some_and(|before| *resource_version < before)
            {
                out.retain(|(k, rv, _)| k != key || rv <= resource_version);
            }
        }
    }
    out
}

/// A watch request's resume point: `Some(N)` for `resourceVersion=N` (N > 0) without
/// `sendInitialEvents`; `None` for anything that (re)loads the whole state.
fn resume_point(query: &str) -> Option<u64> {
    let mut version = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "sendInitialEvents" if value != "false" && value != "0" => return None,
            "resourceVersion" => version = value.parse::<u64>().ok().filter(|n| *n > 0),
            _ => {}
        }
    }
    version
}

/// A change a resumed watch skipped: the watcher resumed from `to` at `at`, after watching
/// from `from` since `since`, and never saw the change to `key` at `rv` in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Skip {
    pub(super) key: ObjectKey,
    pub(super) rv: u64,
    pub(super) from: u64,
    pub(super) since: Duration,
    pub(super) to: u64,
    pub(super) at: Duration,
}

/// After each re-watch, no change between the previous resume point and the new one is
/// missing from what the watcher emitted — events silently skipped fail this even when a later
/// relist hides them. Returns how many resumes were checked, or the first skipped change in
/// words.
///
/// A store shows states, not every change, so for [`Shape::Store`] nothing is checked.
pub(super) fn walk_resumes(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
) -> Result<usize, String> {
    first_skip(trace, selector, shape).map_err(|skip| {
        format!(
            "the watcher resumed from resourceVersion={} at {} after watching from {} since {}, but never saw the change to {} at resourceVersion {} in between",
            skip.to,
            fmt(skip.at),
            skip.from,
            fmt(skip.since),
            skip.key,
            skip.rv
        )
    })
}

/// As [`resumable`], with the first skipped change as a [`Skip`].
pub(super) fn first_skip(trace: &Trace, selector: &Selector, shape: Shape) -> Result<usize, Skip> {
    if shape == Shape::Store {
        return Ok(0);
    }
    let expected = expected_changes(trace, selector, shape);
    // When the watcher first emitted each change: only what came before the resume counts.
    let mut emitted: BTreeMap<(&ObjectKey, u64), Duration> = BTreeMap::new();
    for (change, at) in trace
        .iter()
        .filter_map(|e| emitted_change(&e.kind).map(|change| (change, e.at)))
    {
        emitted.entry(change).or_insert(at);
    }
    let mut previous: Option<(u64, Duration)> = None;
    let mut checked = 0;
    for event in trace {
        let TraceKind::Request(request) = &event.kind else {
            continue;
        };
        match request.verb {
            Verb::List => previous = None,
            Verb::Watch => match resume_point(&request.query) {
                None => previous = None,
                Some(to) => {
                    if let Some((from, since)) = previous.filter(|(from, _)| *from < to) {
                        checked += 1;
                        // Written before this resume (revisions can be reused after an etcd
                        // restore), after the previous resume point, and not seen by now.
                        if let Some((key, rv, _)) = expected.iter().find(|(key, rv, written)| {
                            *written <= event.at
                                && (from + 1..=to).contains(rv)
                                && emitted.get(&(key, *rv)).is_none_or(|seen| *seen > event.at)
                        }) {
                            return Err(Skip {
                                key: key.clone(),
                                rv: *rv,
                                from,
                                since,
                                to,
                                at: event.at,
                            });
                        }
                    }
                    previous = Some((to, event.at));
                }
            },
            _ => {}
        }
    }
    Ok(checked)
}

/// The view (as a consumer of `shape` sees it) and the truth after everything up to and
/// including `at`.
fn state_at(trace: &Trace, selector: &Selector, shape: Shape, at: Duration) -> (Objects, Objects) {
    let mut truth = Truth::default();
    let mut fold = ViewFold::default();
    for event in trace.iter().take_while(|e| e.at <= at) {
        truth.apply(&event.kind, selector);
        fold.apply(&event.kind);
    }
    (truth.seen(&fold.view, shape), truth.alive)
}

/// Keys in one map and not the other: ghosts (in the view only) and losses (in the truth only).
fn ghosts_and_losses(view: &Objects, truth: &Objects) -> BTreeSet<(bool, ObjectKey)> {
    let ghosts = view
        .keys()
        .filter(|k| !truth.contains_key(*k))
        .map(|k| (true, k.clone()));
    let losses = truth
        .keys()
        .filter(|k| !view.contains_key(*k))
        .map(|k| (false, k.clone()));
    ghosts.chain(losses).collect()
}

/// At each checkpoint, no ghosts (objects deleted in truth still in the view) and no losses
/// (objects in truth missing from the view); a difference that is gone `lag` later is
/// delivery, not a failure. Returns how many checkpoints held, or the first that did not.
pub(super) fn checkpoints(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
    at: &[Duration],
    lag: Duration,
) -> Result<usize, String> {
    for checkpoint in at {
        let (view, truth) = state_at(trace, selector, shape, *checkpoint);
        let now = ghosts_and_losses(&view, &truth);
        let (view, truth) = state_at(trace, selector, shape, *checkpoint + lag);
        let later = ghosts_and_losses(&view, &truth);
        let lasting: Vec<String> = now
            .intersection(&later)
            .map(|(ghost, key)| {
                if *ghost {
                    format!("ghost {key}")
                } else {
                    format!("lost {key}")
                }
            })
            .collect();
        if !lasting.is_empty() {
            return Err(format!(
                "at the checkpoint {}: {}",
                fmt(*checkpoint),
                lasting.join(", ")
            ));
        }
    }
    Ok(at.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{RequestRecord, TraceEvent};

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn at(secs: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent { at: S(secs), kind }
    }

    fn write(secs: u64, key: &str, rv: u64, exists: bool) -> TraceEvent {
        at(
            secs,
            TraceKind::Write {
                key: key.into(),
                labels: Default::default(),
                fields: Default::default(),
                resource_version: rv,
                exists,
            },
        )
    }

    fn apply(secs: u64, key: &str, rv: u64) -> TraceEvent {
        at(
            secs,
            TraceKind::Apply {
                key: key.into(),
                resource_version: rv,
            },
        )
    }

    fn request(secs: u64, verb: Verb, query: &str) -> TraceEvent {
        at(
            secs,
            TraceKind::Request(RequestRecord {
                id: secs,
                method: "GET".into(),
                path: "/api/v1/configmaps".into(),
                query: query.into(),
                status: 200,
                verb,
                agent: String::new(),
                process: None,
                retry_after: None,
                replica: None,
            }),
        )
    }

    #[test]
    fn monotonic_holds_while_each_objects_versions_rise_and_fails_when_one_goes_back() {
        let rising = vec![
            apply(1, "ns/a", 5),
            apply(2, "ns/b", 3),
            apply(3, "ns/a", 7),
        ];
        assert_eq!(monotonic(&rising), Ok(2));
        let mut back = rising;
        back.push(apply(4, "ns/a", 6));
        assert_eq!(
            monotonic(&back),
            Err("ns/a went back from resourceVersion 7 to 6 at 4s".into())
        );
    }

    #[test]
    fn monotonic_follows_the_truth_back_when_a_restore_wrote_an_object_at_an_older_version() {
        let restored = vec![
            write(1, "ns/a", 4, true),
            apply(1, "ns/a", 4),
            write(10, "ns/a", 886, false),
            apply(10, "ns/a", 886),
            write(12, "ns/a", 4, true),
            apply(16, "ns/a", 4),
        ];
        assert_eq!(monotonic(&restored), Ok(1));
        let unrestored: Trace = restored
            .into_iter()
            .filter(|e| e.at != Duration::from_secs(12))
            .collect();
        assert_eq!(
            monotonic(&unrestored),
            Err("ns/a went back from resourceVersion 886 to 4 at 16s".into())
        );
    }

    #[test]
    fn resumable_expects_no_change_a_restore_undid_and_every_other_one() {
        let trace = |restored: bool| {
            let mut trace = vec![
                request(0, Verb::Watch, "watch=true&resourceVersion=370"),
                write(1, "ns/a", 374, true),
            ];
            if restored {
                trace.push(write(1, "ns/a", 366, true));
            }
            trace.push(request(2, Verb::Watch, "watch=true&resourceVersion=378"));
            trace
        };
        assert_eq!(
            walk_resumes(&trace(true), &Selector::default(), Shape::Events),
            Ok(1)
        );
        let err = walk_resumes(&trace(false), &Selector::default(), Shape::Events).unwrap_err();
        assert!(err.contains("ns/a at resourceVersion 374"), "{err}");
    }

    #[test]
    fn resumable_holds_when_every_change_before_the_new_resume_point_was_seen() {
        let trace = vec![
            request(0, Verb::Watch, "watch=true&resourceVersion=2"),
            write(1, "ns/a", 3, true),
            apply(1, "ns/a", 3),
            request(2, Verb::Watch, "watch=true&resourceVersion=3"),
        ];
        assert_eq!(
            walk_resumes(&trace, &Selector::default(), Shape::Events),
            Ok(1)
        );
    }

    #[test]
    fn resumable_fails_when_the_resume_point_skipped_a_change_even_if_a_relist_follows() {
        let trace = vec![
            request(0, Verb::Watch, "watch=true&resourceVersion=2"),
            write(1, "ns/a", 3, true),
            request(2, Verb::Watch, "watch=true&resourceVersion=9"),
            request(3, Verb::List, "limit=500"),
            apply(3, "ns/a", 3),
        ];
        let err = walk_resumes(&trace, &Selector::default(), Shape::Events).unwrap_err();
        assert!(
            err.contains("never saw the change to ns/a at resourceVersion 3"),
            "{err}"
        );
    }

    #[test]
    fn a_relist_between_watches_resets_what_resumable_expects() {
        let trace = vec![
            request(0, Verb::Watch, "watch=true&resourceVersion=2"),
            write(1, "ns/a", 3, true),
            request(2, Verb::List, "limit=500"),
            request(3, Verb::Watch, "watch=true&resourceVersion=9"),
        ];
        assert_eq!(
            walk_resumes(&trace, &Selector::default(), Shape::Events),
            Ok(0)
        );
    }

    #[test]
    fn checkpoints_hold_without_ghosts_or_losses_and_fail_on_a_lasting_ghost() {
        let synced = vec![write(1, "ns/a", 1, true), apply(1, "ns/a", 1)];
        assert_eq!(
            checkpoints(&synced, &Selector::default(), Shape::Events, &[S(5)], S(1)),
            Ok(1)
        );
        let ghost = vec![
            write(1, "ns/a", 1, true),
            apply(1, "ns/a", 1),
            write(2, "ns/a", 2, false),
        ];
        assert_eq!(
            checkpoints(&ghost, &Selector::default(), Shape::Events, &[S(5)], S(1)),
            Err("at the checkpoint 5s: ghost ns/a".into())
        );
    }

    #[test]
    fn a_difference_gone_within_the_delivery_lag_is_not_a_loss() {
        let late = vec![write(5, "ns/a", 1, true), apply(6, "ns/a", 1)];
        assert_eq!(
            checkpoints(&late, &Selector::default(), Shape::Events, &[S(5)], S(2)),
            Ok(1)
        );
        assert!(checkpoints(&late, &Selector::default(), Shape::Events, &[S(5)], S(0)).is_err());
    }
}
