//! A reflector store read into the trace. A consumer that reads a store (a `Controller` reads
//! `controller.store()`) sees states, not events, so the store's contents are what is judged:
//! they are diffed into `Apply`/`Delete` trace events every [`STORE_TICK`] of virtual time.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::Resource;
use kube::runtime::reflector::Store;

use super::record::{key_of, resource_version};
use crate::trace::{ObjectKey, Recorder, TraceKind};

/// How often (virtual time) a store is read. Well under the verdict's delivery lag, so reading
/// late never makes a healthy store look out of sync.
pub const STORE_TICK: Duration = Duration::from_millis(100);

/// Reads one store into the trace: each read records what changed since the last.
pub struct StoreSampler<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    store: Store<K>,
    recorder: Recorder,
    /// What the last read found, with the objects themselves held so that their addresses in
    /// `held` stay theirs.
    seen: BTreeMap<ObjectKey, (u64, Arc<K>)>,
    /// The addresses of the objects in `seen`: the reflector replaces an object's `Arc` when it
    /// changes, so a read that finds only these changed nothing, without a key being built.
    held: HashSet<usize>,
}

impl<K> StoreSampler<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// A sampler of `store` recording into `recorder`; nothing is read yet.
    #[must_use]
    pub fn new(store: Store<K>, recorder: Recorder) -> Self {
        Self {
            store,
            recorder,
            seen: BTreeMap::new(),
            held: HashSet::new(),
        }
    }

    /// Reads the store and records each object that appeared or changed (`Apply`) and each
    /// that went (`Delete`), in key order.
    pub fn sample(&mut self) {
        let state = self.store.state();
        if state.len() == self.held.len() && state.iter().all(|o| self.held.contains(&address(o))) {
            return;
        }
        let now: BTreeMap<ObjectKey, (u64, Arc<K>)> = state
            .into_iter()
            .map(|o| (key_of(o.as_ref()), (resource_version(o.as_ref()), o)))
            .collect();
        for (key, (rv, _)) in &now {
            if self.seen.get(key).map(|(seen, _)| seen) != Some(rv) {
                self.recorder.record(TraceKind::Apply {
                    key: key.clone(),
                    resource_version: *rv,
                });
            }
        }
        for (key, (rv, _)) in &self.seen {
            if !now.contains_key(key) {
                self.recorder.record(TraceKind::Delete {
                    key: key.clone(),
                    resource_version: *rv,
                });
            }
        }
        self.held = now.values().map(|(_, o)| address(o)).collect();
        self.seen = now;
    }

    /// Reads `sampler`'s store every [`STORE_TICK`] until dropped.
    pub async fn every_tick(sampler: Arc<Mutex<Self>>) {
        let tick = match sampler.lock() {
            Ok(s) => s.recorder.real(STORE_TICK),
            Err(_) => return,
        };
        loop {
            tokio::time::sleep(tick).await;
            match sampler.lock() {
                Ok(mut s) => s.sample(),
                Err(_) => return,
            }
        }
    }

    /// The last read, at the end of the run, and the store's contents as the run left them.
    pub fn finish(&mut self) {
        self.sample();
        record_store(&self.store, &self.recorder);
    }
}

fn address<K>(object: &Arc<K>) -> usize {
    Arc::as_ptr(object) as usize
}

/// Records `store`'s contents, sorted, as the run left them.
pub(super) fn record_store<K>(store: &Store<K>, recorder: &Recorder)
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    let mut objects: Vec<(ObjectKey, u64)> = store
        .state()
        .iter()
        .map(|o| (key_of(o.as_ref()), resource_version(o.as_ref())))
        .collect();
    objects.sort();
    recorder.record(TraceKind::Store { objects });
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;
    use kube::runtime::reflector::store::Writer;
    use kube::runtime::watcher::Event;

    fn config_map(name: &str, rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(rv.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn changes(recorder: &Recorder) -> Vec<TraceKind> {
        recorder.snapshot().into_iter().map(|e| e.kind).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn each_read_records_what_appeared_changed_and_went_since_the_last() {
        let mut writer = Writer::<ConfigMap>::default();
        let recorder = Recorder::start();
        let mut sampler = StoreSampler::new(writer.as_reader(), recorder.clone());
        for event in [
            Event::Init,
            Event::InitApply(config_map("a", "1")),
            Event::InitApply(config_map("b", "2")),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        sampler.sample();
        sampler.sample();
        writer.apply_watcher_event(&Event::Apply(config_map("a", "3")));
        writer.apply_watcher_event(&Event::Delete(config_map("b", "4")));
        sampler.sample();
        let apply = |key: &str, rv| TraceKind::Apply {
            key: key.into(),
            resource_version: rv,
        };
        assert_eq!(
            changes(&recorder),
            vec![
                apply("ns/a", 1),
                apply("ns/b", 2),
                apply("ns/a", 3),
                TraceKind::Delete {
                    key: "ns/b".into(),
                    resource_version: 2
                },
            ],
            "a read that finds nothing new records nothing"
        );
    }
}
