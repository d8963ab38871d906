//! The store: objects of the watched resource, one global revision clock, history and compaction.
//!
//! Modelled on etcd's MVCC: every write takes the next global revision; each object keeps its
//! versions so a LIST can be served at any revision still in history; compaction forgets
//! revisions below a floor. Background churn takes revisions without touching the watched
//! resource, which is exactly why quiet watches go stale (reference §5.3).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;

use super::memo::Memo;
use super::object_body::ObjectBody;

use crate::fault::Restart;
use crate::scenario::ObjectSpec;

/// `namespace/name`, or `name` for cluster-scoped objects; sorts like etcd keys within a resource.
pub(crate) type Key = String;

/// One version of an object as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredObject {
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
    pub(crate) uid: String,
    pub(crate) resource_version: u64,
    /// Virtual time of creation.
    pub(crate) created: Duration,
    /// Shared with the object's older versions and the trace until an update changes them.
    pub(crate) labels: Arc<BTreeMap<String, String>>,
    /// Its fields besides `metadata`, each shared with the object's older versions until an
    /// update changes it.
    pub(crate) body: ObjectBody,
    /// Its serialized forms, made once for every reader.
    pub(crate) encodings: Encodings,
    /// The values of its kind's selectable fields, read once, when the trace first records
    /// them.
    pub(crate) selectable: Selectable,
}

impl StoredObject {
    pub(crate) fn key(&self) -> Key {
        key_of(self.namespace.as_deref(), &self.name)
    }
}

pub(crate) fn key_of(namespace: Option<&str>, name: &str) -> Key {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

/// A change to the watched resource, as history keeps it. Objects are shared (`Arc`) between
/// the versions and the history: a write allocates its new object once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub(crate) revision: u64,
    /// The object before the change (`None` for a create).
    pub(crate) before: Option<Arc<StoredObject>>,
    /// The object after the change (`None` for a delete).
    pub(crate) after: Option<Arc<StoredObject>>,
    /// The serialized forms of `before` at this revision: what a DELETED event carries.
    pub(crate) deleted: Encodings,
}

/// The serialized forms of one object — typed, and `PartialObjectMetadata` — each made once and
/// then shared by every GET, LIST and watch that sends it, as the apiserver's watch cache
/// serializes an object once for all its watchers (`cachingObject`, apiserver
/// `storage/cacher/caching_object.go`). A built-in type's LIST item is the typed form without
/// its `kind` and `apiVersion`, so it is cut from it rather than made again. A clone starts
/// empty ([`Memo`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Encodings([Memo<Bytes>; 2]);

impl Encodings {
    /// The slot of the typed form, or of the `PartialObjectMetadata` one.
    pub(crate) fn form(&self, metadata_only: bool) -> &OnceLock<Bytes> {
        self.0[usize::from(metadata_only)].cell()
    }
}

/// The values of an object's selectable fields (`spec.nodeName`, `status.phase`), read from
/// its body once and shared with the version before it when none changed: most writes change
/// none, and the trace keeps every write's. A clone starts empty ([`Memo`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Selectable(Memo<Arc<BTreeMap<String, String>>>);

impl StoredObject {
    /// The values of its selectable fields, `read` from its body the first time; the same
    /// allocation as `previous`'s (the version before it) when they are equal.
    pub(crate) fn selectable(
        &self,
        read: impl FnOnce(&ObjectBody) -> BTreeMap<String, String>,
        previous: Option<&Self>,
    ) -> Arc<BTreeMap<String, String>> {
        Arc::clone(self.selectable.0.cell().get_or_init(|| {
            let values = read(&self.body);
            match previous.and_then(|p| p.selectable.0.cell().get()) {
                Some(shared) if **shared == values => Arc::clone(shared),
                _ => Arc::new(values),
            }
        }))
    }
}

/// Why a write was refused; the timeline is validated, so this only happens on a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("object {0} already exists")]
    Exists(Key),
    #[error("object {0} does not exist")]
    Missing(Key),
}

/// One version of a key: its revision and the object then (`None` marks a deletion).
type Version = (u64, Option<Arc<StoredObject>>);

#[derive(Debug, Default)]
pub(crate) struct Store {
    revision: u64,
    /// Revisions below this are compacted away.
    compacted: u64,
    /// Per key, versions in revision order.
    versions: BTreeMap<Key, Vec<Version>>,
    /// Shared with the watches the changes were handed to.
    history: VecDeque<Arc<Change>>,
    /// When each revision was taken, for time-based compaction (`retain`).
    taken_at: VecDeque<(u64, Duration)>,
    uids: u64,
}

impl Store {
    /// The current global revision.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// The oldest revision still servable: a watch from below it, or an exact list at it, is 410.
    pub(crate) fn compacted(&self) -> u64 {
        self.compacted
    }

    fn next_revision(&mut self, now: Duration) -> u64 {
        self.revision += 1;
        self.taken_at.push_back((self.revision, now));
        self.revision
    }

    /// A write to another resource: the clock moves, the watched resource does not.
    pub(crate) fn churn(&mut self, now: Duration) -> u64 {
        self.next_revision(now)
    }

    pub(crate) fn create(
        &mut self,
        spec: &ObjectSpec,
        now: Duration,
    ) -> Result<Arc<Change>, WriteError> {
        let key = key_of(spec.namespace.as_deref(), &spec.name);
        if self.current(&key).is_some() {
            return Err(WriteError::Exists(key));
        }
        let revision = self.next_revision(now);
        self.uids += 1;
        let object = StoredObject {
            name: spec.name.clone(),
            namespace: spec.namespace.clone(),
            uid: format!("00000000-0000-4000-8000-{:012x}", self.uids),
            resource_version: revision,
            created: now,
            labels: Arc::new(spec.labels.clone()),
            body: ObjectBody::new(&spec.body),
            selectable: Selectable::default(),
            encodings: Encodings::default(),
        };
        Ok(self.commit(key, Some(object), revision))
    }

    /// Applies a merge patch (and the labels, if given) to `key`. `None` when that leaves the
    /// object as it was: the real server then writes nothing.
    pub(crate) fn update(
        &mut self,
        key: &Key,
        labels: Option<&BTreeMap<String, String>>,
        body: &BTreeMap<String, serde_json::Value>,
        now: Duration,
    ) -> Result<Option<Arc<Change>>, WriteError> {
        // NB: a clone starts with no serialized forms (`Encodings`), so none goes stale.
        let mut after = self
            .current(key)
            .cloned()
            .ok_or_else(|| WriteError::Missing(key.clone()))?;
        if let Some(labels) = labels
            && *after.labels != *labels
        {
            after.labels = Arc::new(labels.clone());
        }
        after.body = after.body.patched(body);
        let before = self.current(key).expect("read above");
        // etcd3's GuaranteedUpdate: new bytes equal to the stored ones are not written (no
        // revision, no event; storage/etcd3/store.go).
        if after.labels == before.labels && after.body == before.body {
            return Ok(None);
        }
        let revision = self.next_revision(now);
        after.resource_version = revision;
        Ok(Some(self.commit(key.clone(), Some(after), revision)))
    }

    pub(crate) fn delete(&mut self, key: &Key, now: Duration) -> Result<Arc<Change>, WriteError> {
        if self.current(key).is_none() {
            return Err(WriteError::Missing(key.clone()));
        }
        let revision = self.next_revision(now);
        Ok(self.commit(key.clone(), None, revision))
    }

    /// Records `after` (`None`: a deletion) as `key`'s version at `revision`. The version it
    /// replaces is shared, not copied: a write allocates its new object once.
    fn commit(&mut self, key: Key, after: Option<StoredObject>, revision: u64) -> Arc<Change> {
        let before = self
            .versions
            .get(&key)
            .and_then(|v| v.last())
            .and_then(|(_, o)| o.clone());
        let after = after.map(Arc::new);
        self.versions
            .entry(key)
            .or_default()
            .push((revision, after.clone()));
        let change = Arc::new(Change {
            revision,
            before,
            after,
            deleted: Encodings::default(),
        });
        self.history.push_back(Arc::clone(&change));
        change
    }

    fn current(&self, key: &Key) -> Option<&StoredObject> {
        self.versions
            .get(key)
            .and_then(|v| v.last())
            .and_then(|(_, o)| o.as_deref())
    }

    /// One object as of now.
    pub(crate) fn get(&self, key: &Key) -> Option<&StoredObject> {
        self.current(key)
    }

    /// Every object alive at `revision`, in key order. `revision` must not be compacted.
    pub(crate) fn state_at(&self, revision: u64) -> Vec<&StoredObject> {
        self.versions
            .values()
            .filter_map(|versions| {
                versions
                    .iter()
                    .rev()
                    .find(|(rv, _)| *rv <= revision)
                    .and_then(|(_, o)| o.as_deref())
            })
            .collect()
    }

    /// The objects alive at `revision` whose keys sort after `after`, in key order: one LIST
    /// page scans from its continue key, not from the start.
    pub(crate) fn state_at_after<'a>(
        &'a self,
        revision: u64,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a StoredObject> + 'a {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.versions
            .range::<str, _>((from, Bound::Unbounded))
            .filter_map(move |(_, versions)| {
                versions
                    .iter()
                    .rev()
                    .find(|(rv, _)| *rv <= revision)
                    .and_then(|(_, o)| o.as_deref())
            })
    }

    /// Every change after `revision`, in order. `None` when some of them were compacted away.
    pub(crate) fn changes_after(
        &self,
        revision: u64,
    ) -> Option<impl Iterator<Item = &Arc<Change>>> {
        if revision + 1 < self.compacted {
            return None;
        }
        let start = self.history.partition_point(|c| c.revision <= revision);
        Some(self.history.range(start..))
    }

    /// Compacts history below `floor`, keeping for each object the newest version at or below
    /// the floor so state there stays servable. As etcd, it keeps the revision it compacts at,
    /// so the floor is at most the current revision, and it never moves back. Returns the new
    /// floor.
    pub(crate) fn compact(&mut self, floor: u64) -> u64 {
        self.compact_keeping(floor, u64::MAX)
    }

    /// Compacts at `floor` as [`Store::compact`] does, but keeps the state from `kept` on
    /// servable: a lagging watch cache still shows it, though etcd has compacted it away
    /// (`state_at` and `revision_at` answer for it; etcd's own reads do not).
    pub(crate) fn compact_keeping(&mut self, floor: u64, kept: u64) -> u64 {
        let floor = floor.min(self.revision).max(self.compacted);
        self.compacted = floor;
        let prune = floor.min(kept);
        while self.history.front().is_some_and(|c| c.revision < prune) {
            self.history.pop_front();
        }
        while self.taken_at.front().is_some_and(|(rv, _)| *rv < prune) {
            self.taken_at.pop_front();
        }
        self.versions.retain(|_, versions| {
            let keep_from = versions
                .iter()
                .rposition(|(rv, _)| *rv < prune)
                .unwrap_or(0);
            versions.drain(..keep_from);
            // A key whose only remaining version is an old deletion is gone for good.
            !(versions.len() == 1 && versions[0].1.is_none() && versions[0].0 < prune)
        });
        floor
    }

    /// A restart of etcd. `Keep` (only the apiserver restarts) leaves etcd as it is. `Reset`
    /// writes every object again from revision 1 (a fresh etcd); `Regress` brings back the
    /// state of `by` revisions ago (an etcd backup restore), and the clock counts on from
    /// there; either way etcd's history before the current revision is gone. Returns how each
    /// object changed, for the truth.
    pub(crate) fn restart(&mut self, restart: Restart, now: Duration) -> Vec<Change> {
        if restart == Restart::Keep {
            return Vec::new();
        }
        let before: BTreeMap<Key, StoredObject> = self
            .versions
            .iter()
            .filter_map(|(k, v)| {
                v.last()
                    .and_then(|(_, o)| o.as_deref().cloned())
                    .map(|o| (k.clone(), o))
            })
            .collect();
        let after: BTreeMap<Key, StoredObject> = match restart {
            Restart::Keep => unreachable!("handled above"),
            Restart::Reset => {
                self.revision = 0;
                self.taken_at.clear();
                before
                    .iter()
                    .map(|(key, object)| {
                        let revision = self.next_revision(now);
                        let mut object = object.clone();
                        object.resource_version = revision;
                        (key.clone(), object)
                    })
                    .collect()
            }
            Restart::Regress { by } => {
                let target = self.revision.saturating_sub(by).max(self.compacted);
                let restored = self
                    .state_at(target)
                    .into_iter()
                    .map(|o| (o.key(), o.clone()))
                    .collect();
                self.revision = target;
                self.taken_at.retain(|(rv, _)| *rv <= target);
                restored
            }
        };
        self.history.clear();
        self.versions = after
            .iter()
            .map(|(key, o)| {
                (
                    key.clone(),
                    vec![(o.resource_version, Some(Arc::new(o.clone())))],
                )
            })
            .collect();
        self.compacted = 0;
        self.compact(self.revision);
        before
            .keys()
            .chain(after.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|key| {
                let (old, new) = (before.get(key), after.get(key));
                (old != new).then(|| Change {
                    revision: new.map_or(self.revision, |o| o.resource_version),
                    before: old.cloned().map(Arc::new),
                    after: new.cloned().map(Arc::new),
                    deleted: Encodings::default(),
                })
            })
            .collect()
    }

    /// The revision etcd had at `at`: the last one taken by then (the compacted floor, when
    /// every revision taken by then was compacted away).
    pub(crate) fn revision_at(&self, at: Duration) -> u64 {
        let taken = self.taken_at.partition_point(|(_, t)| *t <= at);
        match taken {
            0 => self
                .taken_at
                .front()
                .map_or(self.revision, |(rv, _)| rv.saturating_sub(1)),
            n => self.taken_at[n - 1].0,
        }
    }

    /// When etcd took `revision`, if it has and still knows.
    pub(crate) fn taken_when(&self, revision: u64) -> Option<Duration> {
        let at = self.taken_at.partition_point(|(rv, _)| *rv < revision);
        self.taken_at.get(at).map(|(_, t)| *t)
    }

    /// The floor that keeps revisions taken within `retain` of `now`: the first revision taken
    /// at or after `now - retain`, or the current one if none was.
    pub(crate) fn floor_retaining(&self, retain: Duration, now: Duration) -> u64 {
        let since = now.saturating_sub(retain);
        self.taken_at
            .iter()
            .find(|(_, at)| *at >= since)
            .map_or(self.revision, |(rv, _)| *rv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> ObjectSpec {
        ObjectSpec {
            name: name.into(),
            namespace: Some("default".into()),
            labels: BTreeMap::new(),
            body: Arc::default(),
        }
    }

    const T: Duration = Duration::ZERO;

    fn patch(field: &str, value: &str) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([("data".to_owned(), serde_json::json!({ field: value }))])
    }

    #[test]
    fn an_update_that_changes_nothing_is_not_written() {
        let mut store = Store::default();
        store.create(&spec("a"), T).unwrap();
        let key = "default/a".into();
        assert!(
            store
                .update(&key, None, &patch("n", "1"), T)
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .update(&key, None, &patch("n", "1"), T)
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .update(&key, None, &BTreeMap::new(), T)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.revision(),
            2,
            "no revision for a write that changed nothing"
        );
        let labels = BTreeMap::from([("app".to_owned(), "x".to_owned())]);
        let relabelled = store
            .update(&key, Some(&labels), &BTreeMap::new(), T)
            .unwrap();
        assert_eq!(
            relabelled.map(|c| c.revision),
            Some(3),
            "new labels are a change"
        );
    }

    #[test]
    fn every_write_and_churn_takes_the_next_global_revision() {
        let mut store = Store::default();
        assert_eq!(store.create(&spec("a"), T).unwrap().revision, 1);
        assert_eq!(store.churn(T), 2);
        let change = store
            .update(&"default/a".into(), None, &patch("n", "1"), T)
            .unwrap()
            .unwrap();
        assert_eq!(change.revision, 3);
        assert_eq!(change.before.as_ref().unwrap().resource_version, 1);
        assert_eq!(store.delete(&"default/a".into(), T).unwrap().revision, 4);
        assert_eq!(store.revision(), 4);
    }

    #[test]
    fn state_at_an_old_revision_shows_the_versions_of_then() {
        let mut store = Store::default();
        store.create(&spec("a"), T).unwrap();
        store.create(&spec("b"), T).unwrap();
        store
            .update(&"default/a".into(), None, &patch("n", "1"), T)
            .unwrap();
        store.delete(&"default/b".into(), T).unwrap();
        let at = |rv| {
            store
                .state_at(rv)
                .iter()
                .map(|o| (o.name.clone(), o.resource_version))
                .collect::<Vec<_>>()
        };
        assert_eq!(at(2), vec![("a".into(), 1), ("b".into(), 2)]);
        assert_eq!(at(4), vec![("a".into(), 3)]);
    }

    #[test]
    fn compaction_keeps_state_at_the_floor_but_forgets_changes_below_it() {
        let mut store = Store::default();
        store.create(&spec("a"), T).unwrap();
        store.create(&spec("b"), T).unwrap();
        store.delete(&"default/b".into(), T).unwrap();
        store.churn(T);
        assert_eq!(store.compact(4), 4);
        assert!(
            store.changes_after(1).is_none(),
            "changes after 1 start at 2, below the floor"
        );
        assert_eq!(store.changes_after(3).unwrap().count(), 0);
        assert_eq!(store.state_at(4).len(), 1);
        assert_eq!(store.state_at(4)[0].name, "a");
    }

    #[test]
    fn a_reset_restart_restamps_every_object_from_revision_one_and_forgets_history() {
        let mut store = Store::default();
        store.churn(Duration::ZERO);
        for name in ["a", "b"] {
            store.create(&spec(name), Duration::ZERO).unwrap();
        }
        let changes = store.restart(Restart::Reset, Duration::ZERO);
        assert_eq!(store.revision(), 2);
        assert_eq!(
            changes.iter().map(|c| c.revision).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(
            store.changes_after(0).is_none(),
            "history before the restart is gone"
        );
        assert!(store.changes_after(2).is_some());
    }

    #[test]
    fn a_regress_restart_brings_back_the_state_of_then_and_reuses_revisions() {
        let mut store = Store::default();
        store.create(&spec("a"), Duration::ZERO).unwrap();
        store.create(&spec("b"), Duration::ZERO).unwrap();
        store
            .delete(&"default/a".to_owned(), Duration::ZERO)
            .unwrap();
        let changes = store.restart(Restart::Regress { by: 2 }, Duration::ZERO);
        assert_eq!(store.revision(), 1);
        let names: Vec<&str> = store.state_at(1).iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a"], "a is back, b never was");
        assert_eq!(changes.len(), 2);
        let next = store.create(&spec("c"), Duration::ZERO).unwrap();
        assert_eq!(next.revision, 2, "revision 2 is taken a second time");
    }

    #[test]
    fn retaining_a_window_compacts_only_revisions_taken_before_it() {
        let mut store = Store::default();
        store.churn(Duration::from_secs(10));
        store.churn(Duration::from_secs(100));
        let floor = store.floor_retaining(Duration::from_secs(30), Duration::from_secs(120));
        assert_eq!(floor, 2);
        assert_eq!(
            store.floor_retaining(Duration::from_secs(1), Duration::from_secs(120)),
            2,
            "nothing was taken in the last second: etcd keeps its current revision"
        );
    }
}
