//! Folding a trace into the truth and the watcher's view over time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::scenario::Shape;
use crate::selector::Selector;
use crate::trace::{ObjectKey, Trace, TraceKind};

/// Objects and their resourceVersions.
pub type Objects = BTreeMap<ObjectKey, u64>;

/// The watcher's view as a reflector store builds it: `Init` starts a buffer, `InitApply`
/// fills it, `InitDone` swaps it in (kube-runtime `reflector/store.rs`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ViewFold {
    /// The view so far.
    pub view: Objects,
    buffer: Option<Objects>,
}

impl ViewFold {
    /// Applies one trace event; events that are not the watcher's are ignored.
    pub fn apply(&mut self, kind: &TraceKind) {
        match kind {
            TraceKind::Init => self.buffer = Some(Objects::new()),
            TraceKind::InitApply {
                key,
                resource_version,
            } => {
                self.buffer
                    .as_mut()
                    .unwrap_or(&mut self.view)
                    .insert(key.clone(), *resource_version);
            }
            TraceKind::InitDone => {
                if let Some(buffer) = self.buffer.take() {
                    self.view = buffer;
                }
            }
            TraceKind::Apply {
                key,
                resource_version,
            } => {
                self.view.insert(key.clone(), *resource_version);
            }
            TraceKind::Delete { key, .. } => {
                self.view.remove(key);
            }
            _ => {}
        }
    }
}

/// The server's truth as a watcher with `selector` sees it, and which objects left it (deleted,
/// or no longer selected) and have not come back.
#[derive(Debug, Default, Clone)]
pub(super) struct Truth {
    /// The objects the watcher should hold.
    pub(super) alive: Objects,
    gone: BTreeSet<ObjectKey>,
}

impl Truth {
    /// Applies one trace event; events that are not writes are ignored.
    pub(super) fn apply(&mut self, kind: &TraceKind, selector: &Selector) {
        let TraceKind::Write { key, .. } = kind else {
            return;
        };
        let before = self.alive.contains_key(key);
        apply_truth(&mut self.alive, kind, selector);
        match (before, self.alive.contains_key(key)) {
            (true, false) => {
                self.gone.insert(key.clone());
            }
            (_, true) => {
                self.gone.remove(key);
            }
            (false, false) => {}
        }
    }

    /// `view` less what a consumer of `shape` cannot be expected to drop. `applied_objects()`
    /// never yields a delete and `touched_objects()` yields one as the object itself, and only
    /// on a live watch (a relist drops it silently): neither can tell that an object went, so
    /// an object gone from the truth is not judged from their view. The resumable check still
    /// holds `touched_objects()` to every delete its watch delivered.
    pub(super) fn seen(&self, view: &Objects, shape: Shape) -> Objects {
        self.judged(view, shape)
            .map(|(key, rv)| (key.clone(), *rv))
            .collect()
    }

    /// Whether `view`, as a consumer of `shape` sees it, is the truth; without a copy, as it is
    /// asked at every instant something changed, of views of up to a whole cluster.
    pub(super) fn agrees(&self, view: &Objects, shape: Shape) -> bool {
        self.judged(view, shape).eq(self.alive.iter())
    }

    fn judged<'v>(
        &'v self,
        view: &'v Objects,
        shape: Shape,
    ) -> impl Iterator<Item = (&'v ObjectKey, &'v u64)> {
        view.iter().filter(move |(key, _)| match shape {
            Shape::AppliedObjects | Shape::TouchedObjects => !self.gone.contains(*key),
            Shape::Events | Shape::Store => true,
        })
    }
}

/// The server's truth as a watcher with `selector` should see it: every write applied, and an
/// object present only while the selector selects it.
pub(super) fn apply_truth(truth: &mut Objects, kind: &TraceKind, selector: &Selector) {
    if let TraceKind::Write {
        key,
        labels,
        fields,
        resource_version,
        exists,
    } = kind
    {
        let (namespace, name) = match key.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, key.as_str()),
        };
        if *exists && selector.matches(name, namespace, labels, || BTreeMap::clone(fields)) {
            truth.insert(key.clone(), *resource_version);
        } else {
            truth.remove(key);
        }
    }
}

/// The view and the truth after every instant at which either changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The instant.
    pub at: Duration,
    /// Whether the view equals the truth then.
    pub in_sync: bool,
}

/// Samples the comparison after all events of each instant: the in-memory transport delivers
/// a write to a healthy watcher at the same virtual instant, so a healthy watcher is never out
/// of sync at any sample.
#[must_use]
///
/// The view is compared as a consumer of `shape` sees it (see [`Shape`]); the view returned is
/// that one.
pub fn samples(
    trace: &Trace,
    selector: &Selector,
    shape: Shape,
) -> (Vec<Sample>, Objects, Objects) {
    let mut truth = Truth::default();
    let mut fold = ViewFold::default();
    let mut out = Vec::new();
    let mut i = 0;
    while i < trace.len() {
        let at = trace[i].at;
        let mut changed = false;
        while i < trace.len() && trace[i].at == at {
            let kind = &trace[i].kind;
            changed |= matches!(
                kind,
                TraceKind::Write { .. }
                    | TraceKind::InitDone
                    | TraceKind::Apply { .. }
                    | TraceKind::Delete { .. }
                    | TraceKind::InitApply { .. }
            );
            truth.apply(kind, selector);
            fold.apply(kind);
            i += 1;
        }
        if changed {
            out.push(Sample {
                at,
                in_sync: truth.agrees(&fold.view, shape),
            });
        }
    }
    (out, truth.seen(&fold.view, shape), truth.alive)
}

/// What differs between a view and the truth, in words for a diagnosis.
#[must_use]
pub fn describe_difference(view: &Objects, truth: &Objects) -> String {
    let missing: Vec<&str> = truth
        .keys()
        .filter(|k| !view.contains_key(*k))
        .map(String::as_str)
        .collect();
    let ghosts: Vec<&str> = view
        .keys()
        .filter(|k| !truth.contains_key(*k))
        .map(String::as_str)
        .collect();
    let stale: Vec<String> = view
        .iter()
        .filter_map(|(k, rv)| {
            truth
                .get(k)
                .filter(|t| *t != rv)
                .map(|t| format!("{k} at resourceVersion {rv}, truth {t}"))
        })
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", list(&missing)));
    }
    if !ghosts.is_empty() {
        parts.push(format!("ghosts (deleted in truth) {}", list(&ghosts)));
    }
    if !stale.is_empty() {
        parts.push(format!("stale {}", list(&stale)));
    }
    parts.join("; ")
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<&str> = items.iter().take(SHOWN).map(AsRef::as_ref).collect();
    if items.len() > SHOWN {
        format!("{} and {} more", shown.join(", "), items.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// The stretches where the view differed from the truth for longer than `lag`, as
/// `(start, end)`; `end` is `None` for one still open at the end of the trace.
#[must_use]
pub fn gaps(samples: &[Sample], lag: Duration) -> Vec<(Duration, Option<Duration>)> {
    let mut gaps = Vec::new();
    let mut open = None;
    for sample in samples {
        match (open, sample.in_sync) {
            (None, false) => open = Some(sample.at),
            (Some(start), true) => {
                if sample.at - start > lag {
                    gaps.push((start, Some(sample.at)));
                }
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        gaps.push((start, None));
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceEvent;

    fn at(s: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(s),
            kind,
        }
    }

    fn write(key: &str, rv: u64, exists: bool) -> TraceKind {
        TraceKind::Write {
            key: key.into(),
            labels: Default::default(),
            fields: Default::default(),
            resource_version: rv,
            exists,
        }
    }

    #[test]
    fn a_relist_replaces_the_view_only_when_it_is_done() {
        let mut fold = ViewFold::default();
        fold.apply(&TraceKind::Apply {
            key: "a".into(),
            resource_version: 1,
        });
        fold.apply(&TraceKind::Init);
        fold.apply(&TraceKind::InitApply {
            key: "b".into(),
            resource_version: 2,
        });
        assert_eq!(
            fold.view.keys().collect::<Vec<_>>(),
            ["a"],
            "the old view stands until InitDone"
        );
        fold.apply(&TraceKind::InitDone);
        assert_eq!(fold.view.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn a_missed_delete_leaves_a_ghost_and_samples_show_the_gap() {
        let trace = vec![
            at(0, write("a", 1, true)),
            at(0, TraceKind::Init),
            at(
                0,
                TraceKind::InitApply {
                    key: "a".into(),
                    resource_version: 1,
                },
            ),
            at(0, TraceKind::InitDone),
            at(5, write("a", 2, false)),
        ];
        let (samples, view, truth) = samples(&trace, &Selector::default(), Shape::Events);
        assert_eq!(
            samples,
            vec![
                Sample {
                    at: Duration::ZERO,
                    in_sync: true
                },
                Sample {
                    at: Duration::from_secs(5),
                    in_sync: false
                }
            ]
        );
        assert_eq!(
            describe_difference(&view, &truth),
            "ghosts (deleted in truth) a"
        );
    }

    #[test]
    fn a_selecting_watcher_is_judged_against_the_truth_it_selects() {
        let web = |rv, exists, app: &str| TraceKind::Write {
            key: "shop/web-0".into(),
            labels: std::sync::Arc::new([("app".to_owned(), app.to_owned())].into()),
            fields: Default::default(),
            resource_version: rv,
            exists,
        };
        let selector = Selector::parse(Some("app=web"), None).unwrap();
        let mut truth = Objects::new();
        apply_truth(&mut truth, &web(1, true, "web"), &selector);
        assert_eq!(truth.len(), 1);
        apply_truth(&mut truth, &web(2, true, "db"), &selector);
        assert!(
            truth.is_empty(),
            "an object that stops matching leaves the selected truth"
        );
    }

    #[test]
    fn an_object_stream_is_not_judged_on_an_object_it_cannot_see_go_but_is_on_the_living() {
        let apply = |key: &str, rv| TraceKind::Apply {
            key: key.into(),
            resource_version: rv,
        };
        let trace = vec![
            at(0, write("a", 1, true)),
            at(0, write("b", 2, true)),
            at(0, apply("a", 1)),
            at(0, apply("b", 2)),
            // `a` is deleted and `b` updated while the stream is away; only `b` is judged.
            at(5, write("a", 3, false)),
            at(5, write("b", 4, true)),
        ];
        for shape in [Shape::AppliedObjects, Shape::TouchedObjects] {
            let (_, view, truth) = samples(&trace, &Selector::default(), shape);
            assert_eq!(
                describe_difference(&view, &truth),
                "stale b at resourceVersion 2, truth 4",
                "{shape:?}"
            );
        }
        let (_, view, truth) = samples(&trace, &Selector::default(), Shape::Events);
        assert!(
            describe_difference(&view, &truth).contains("ghosts (deleted in truth) a"),
            "an event stream sees deletes and is judged on them"
        );
    }

    #[test]
    fn only_gaps_longer_than_the_delivery_lag_count_and_an_open_one_always_does() {
        let sample = |ms: u64, in_sync: bool| Sample {
            at: Duration::from_millis(ms),
            in_sync,
        };
        let samples = [
            sample(0, true),
            sample(100, false),
            sample(900, true),
            sample(2_000, false),
            sample(5_000, true),
            sample(9_000, false),
        ];
        let ms = Duration::from_millis;
        assert_eq!(
            gaps(&samples, ms(1_000)),
            vec![(ms(2_000), Some(ms(5_000))), (ms(9_000), None)]
        );
        assert_eq!(gaps(&samples, ms(0)).len(), 3);
    }
}
