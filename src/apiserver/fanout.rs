//! Which open watches a change goes to. A write is handed only to the watches that can see it,
//! found through an index by namespace and by one label the selector requires, so a write costs
//! the same however many watches of other namespaces or labels are open. The apiserver's cacher
//! does the same: it keeps its watchers by scope and by trigger value, and hands each event to
//! those that may want it (`startDispatching` in apiserver `storage/cacher/cacher.go`).
//!
//! Changes are handed over while the store's lock is held, in commit order, so a watch sees
//! every change it selects exactly once and in order, however late it reads them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::apiserver::store::{Change, StoredObject};
use crate::apiserver::watcher_buffer::WatcherBuffer;
use crate::selector::Selector;

/// What one watch selects: its URL's namespace (none: all) and its selectors.
#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) namespace: Option<String>,
    pub(crate) selector: Selector,
}

impl Filter {
    /// Whether the watch sees `object`.
    pub(crate) fn sees(&self, object: &StoredObject) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| object.namespace.as_ref() == Some(ns))
            && self.selector.selects_fields(
                &object.name,
                object.namespace.as_deref(),
                &object.labels,
                &object.body,
            )
    }

    /// Whether a change is anything to the watch: it saw the object before, or sees it after.
    pub(crate) fn wants(&self, change: &Change) -> bool {
        [&change.before, &change.after]
            .into_iter()
            .flatten()
            .any(|o| self.sees(o))
    }
}

/// Where a change goes: a receiver per open watch.
pub(crate) type Inbox = mpsc::UnboundedReceiver<Arc<Change>>;

/// The open watches, indexed.
#[derive(Debug, Default)]
pub(crate) struct Fanout {
    next_id: u64,
    subscribers: HashMap<u64, Subscriber>,
    /// Watches across all namespaces.
    cluster: Scope,
    /// Watches of one namespace.
    namespaced: HashMap<String, Scope>,
}

/// One open watch as the fan-out knows it: what it selects, where its changes go, and the
/// watch cache's buffer for it when a cache serves it.
#[derive(Debug)]
struct Subscriber {
    filter: Arc<Filter>,
    sender: mpsc::UnboundedSender<Arc<Change>>,
    buffer: Option<Arc<WatcherBuffer>>,
}

/// The watches of one scope, by the label their selector requires. Ids are kept in sets so
/// that the order changes are handed out in never depends on hashing.
#[derive(Debug, Default)]
struct Scope {
    /// Watches whose selector requires no label value: every change of the scope is a candidate.
    any: BTreeSet<u64>,
    /// label key → value → watches requiring it.
    by_label: HashMap<String, HashMap<String, BTreeSet<u64>>>,
}

impl Scope {
    fn add(&mut self, id: u64, filter: &Filter) {
        match filter.selector.required_label() {
            None => {
                self.any.insert(id);
            }
            Some((key, values)) => {
                let by_value = self.by_label.entry(key.to_owned()).or_default();
                for value in values {
                    by_value.entry(value.clone()).or_default().insert(id);
                }
            }
        }
    }

    fn remove(&mut self, id: u64, filter: &Filter) {
        match filter.selector.required_label() {
            None => {
                self.any.remove(&id);
            }
            Some((key, values)) => {
                let Some(by_value) = self.by_label.get_mut(key) else {
                    return;
                };
                for value in values {
                    if let Some(set) = by_value.get_mut(value) {
                        set.remove(&id);
                        if set.is_empty() {
                            by_value.remove(value);
                        }
                    }
                }
                if by_value.is_empty() {
                    self.by_label.remove(key);
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.any.is_empty() && self.by_label.is_empty()
    }

    /// The watches of this scope that may select `object`.
    fn candidates(&self, object: &StoredObject, out: &mut Vec<u64>) {
        out.extend(&self.any);
        for (key, value) in object.labels.iter() {
            if let Some(set) = self.by_label.get(key).and_then(|v| v.get(value)) {
                out.extend(set);
            }
        }
    }
}

impl Fanout {
    /// Opens a watch selecting `filter`: every change committed from now on that it selects
    /// arrives in the returned inbox, until `buffer` (the watch cache's for it) closes.
    pub(crate) fn subscribe(
        &mut self,
        filter: Arc<Filter>,
        buffer: Option<Arc<WatcherBuffer>>,
    ) -> (u64, Inbox) {
        let id = self.next_id;
        self.next_id += 1;
        self.scope_mut(filter.namespace.as_deref()).add(id, &filter);
        let (sender, inbox) = mpsc::unbounded_channel();
        self.subscribers.insert(
            id,
            Subscriber {
                filter,
                sender,
                buffer,
            },
        );
        (id, inbox)
    }

    /// How many watches are open.
    pub(crate) fn len(&self) -> usize {
        self.subscribers.len()
    }

    /// Closes watch `id`.
    pub(crate) fn unsubscribe(&mut self, id: u64) {
        let Some(watch) = self.subscribers.remove(&id) else {
            return;
        };
        let namespace = watch.filter.namespace.as_deref();
        self.scope_mut(namespace).remove(id, &watch.filter);
        if let Some(ns) = namespace
            && self.namespaced.get(ns).is_some_and(Scope::is_empty)
        {
            self.namespaced.remove(ns);
        }
    }

    fn scope_mut(&mut self, namespace: Option<&str>) -> &mut Scope {
        match namespace {
            None => &mut self.cluster,
            Some(ns) => self.namespaced.entry(ns.to_owned()).or_default(),
        }
    }

    /// Hands `change` to every open watch that selects its object before or after it.
    pub(crate) fn dispatch(&self, change: &Arc<Change>) {
        let mut candidates = Vec::new();
        for object in [&change.before, &change.after].into_iter().flatten() {
            self.cluster.candidates(object, &mut candidates);
            if let Some(scope) = object
                .namespace
                .as_deref()
                .and_then(|ns| self.namespaced.get(ns))
            {
                scope.candidates(object, &mut candidates);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for id in candidates {
            if let Some(watch) = self.subscribers.get(&id)
                && watch.filter.wants(change)
                && watch.buffer.as_ref().is_none_or(WatcherBuffer::offer)
            {
                // NB: a watch whose session is gone but not yet unsubscribed drops it.
                let _ = watch.sender.send(Arc::clone(change));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::apiserver::store::Encodings;

    fn object(namespace: &str, app: &str) -> Arc<StoredObject> {
        Arc::new(StoredObject {
            name: "o".into(),
            namespace: Some(namespace.into()),
            uid: "u".into(),
            resource_version: 1,
            created: std::time::Duration::ZERO,
            labels: Arc::new(BTreeMap::from([("app".to_owned(), app.to_owned())])),
            body: crate::apiserver::object_body::ObjectBody::default(),
            encodings: Encodings::default(),
            selectable: crate::apiserver::store::Selectable::default(),
        })
    }

    fn change(before: Option<Arc<StoredObject>>, after: Option<Arc<StoredObject>>) -> Arc<Change> {
        Arc::new(Change {
            revision: 2,
            before,
            after,
            deleted: Encodings::default(),
        })
    }

    fn filter(namespace: Option<&str>, labels: Option<&str>) -> Arc<Filter> {
        Arc::new(Filter {
            namespace: namespace.map(str::to_owned),
            selector: Selector::parse(labels, None).unwrap(),
        })
    }

    #[test]
    fn a_change_reaches_exactly_the_watches_that_select_it() {
        let mut fanout = Fanout::default();
        let (_, mut everything) = fanout.subscribe(filter(None, None), None);
        let (_, mut same_ns) = fanout.subscribe(filter(Some("a"), None), None);
        let (_, mut other_ns) = fanout.subscribe(filter(Some("b"), None), None);
        let (_, mut web) = fanout.subscribe(filter(None, Some("app in (web,db)")), None);
        let (_, mut batch) = fanout.subscribe(filter(Some("a"), Some("app=batch")), None);
        let (_, mut not_web) = fanout.subscribe(filter(None, Some("app!=web")), None);
        fanout.dispatch(&change(None, Some(object("a", "web"))));
        assert!(everything.try_recv().is_ok());
        assert!(same_ns.try_recv().is_ok());
        assert!(web.try_recv().is_ok());
        assert!(other_ns.try_recv().is_err());
        assert!(batch.try_recv().is_err());
        assert!(not_web.try_recv().is_err());
    }

    #[test]
    fn a_relabel_reaches_the_watches_that_saw_the_object_before_it() {
        let mut fanout = Fanout::default();
        let (_, mut web) = fanout.subscribe(filter(None, Some("app=web")), None);
        fanout.dispatch(&change(Some(object("a", "web")), Some(object("a", "db"))));
        assert!(
            web.try_recv().is_ok(),
            "it gets the change, to send a DELETED"
        );
    }

    #[test]
    fn a_closed_watch_leaves_no_trace_in_the_index() {
        let mut fanout = Fanout::default();
        let (id, _inbox) = fanout.subscribe(filter(Some("a"), Some("app in (web,web)")), None);
        let (everything, _inbox) = fanout.subscribe(filter(None, None), None);
        fanout.unsubscribe(id);
        fanout.unsubscribe(everything);
        assert_eq!(fanout.len(), 0);
        assert!(fanout.cluster.is_empty());
        assert!(fanout.namespaced.is_empty());
    }
}
