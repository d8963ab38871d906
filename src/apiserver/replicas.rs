//! The apiservers in front of the one etcd: each with its own watch cache and its own watches,
//! each hearing etcd's changes as late as its etcd watch runs behind (kubernetes#59848).
//!
//! A server without `replicas` is one apiserver: one replica, unnamed, on time. With them,
//! etcd (the store, its revisions and compaction) stays one, and each replica keeps what a
//! kube-apiserver keeps of its own: the watch cache (`storage/cacher/watch_cache.go`, fed by
//! the cacher's own etcd watch) and the watchers the cacher hands events to
//! (`cacher.go`, `dispatchEvent`). A replica whose cache lags `L` records each change, and
//! hands it to its watches, `L` after etcd committed it; until then the change waits here.
//! Its resourceVersion (what its bookmarks carry and its `resourceVersion=0` LISTs are at) is
//! etcd's revision as of `L` ago: the cache hears etcd's progress through the same watch.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::cache::WatchCache;
use super::fanout::Fanout;
use super::store::{Change, Store};
use crate::scenario::ServerSpec;

/// Which replica serves a request: an index into [`Replicas`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ReplicaId(pub(crate) usize);

/// One apiserver's own state.
#[derive(Debug)]
pub(crate) struct Replica {
    /// Its name; `None` for the one apiserver of a server without replicas.
    pub(crate) name: Option<String>,
    /// How late its watch cache hears etcd.
    pub(crate) lag: Duration,
    /// The revision its watch cache last listed at: it shows no older state after that.
    listed: u64,
    /// Its history window.
    window: Duration,
    /// Its watch cache, for a resource that has one.
    pub(crate) cache: Option<WatchCache>,
    /// Its open watches, by what they select.
    pub(crate) fanout: Fanout,
    /// Changes etcd committed that it has not heard yet, each with when it will.
    pending: VecDeque<(Duration, Arc<Change>)>,
}

impl Replica {
    /// Its resourceVersion at `now`: etcd's revision as of its lag ago.
    pub(crate) fn revision(&self, store: &Store, now: Duration) -> u64 {
        if self.lag.is_zero() {
            store.revision()
        } else {
            store
                .revision_at(now.saturating_sub(self.lag))
                .max(self.listed)
        }
    }

    /// When it will have heard what etcd committed at `at`.
    pub(crate) fn hears_at(&self, at: Duration) -> Duration {
        at + self.lag
    }

    /// Hears `change` now: its cache records it and its watches get it.
    fn hear(&mut self, change: Arc<Change>, now: Duration) {
        if let Some(cache) = self.cache.as_mut() {
            cache.add(Arc::clone(&change), now);
        }
        self.fanout.dispatch(&change);
    }
}

/// Every replica, in the order the scenario lists them, and the time they have heard etcd up
/// to: a replica's revision is read as of then, never of a later clock reading, so it never
/// counts a change still waiting to be heard (the live server's clock runs on between reads).
#[derive(Debug)]
pub(crate) struct Replicas(Vec<Replica>, Duration);

impl Replicas {
    /// The replicas `spec` describes, or the one apiserver; no watch cache yet. Without a
    /// watch cache every replica serves from etcd, which nothing makes lag.
    pub(crate) fn new(spec: &ServerSpec) -> Self {
        if spec.replicas.is_empty() {
            return Self(
                vec![Replica {
                    name: None,
                    lag: Duration::ZERO,
                    listed: 0,
                    window: spec.watch_cache_window,
                    cache: None,
                    fanout: Fanout::default(),
                    pending: VecDeque::new(),
                }],
                Duration::ZERO,
            );
        }
        Self(
            spec.replicas
                .iter()
                .map(|r| Replica {
                    name: Some(r.name.clone()),
                    lag: if spec.watch_cache {
                        r.cache_lag
                    } else {
                        Duration::ZERO
                    },
                    listed: 0,
                    window: r.watch_cache_window,
                    cache: None,
                    fanout: Fanout::default(),
                    pending: VecDeque::new(),
                })
                .collect(),
            Duration::ZERO,
        )
    }

    /// Each replica's watch cache starts from a list at `revision` at `now`, ready after `init`.
    pub(crate) fn start_caches(&mut self, revision: u64, now: Duration, init: Duration) {
        for replica in &mut self.0 {
            replica.cache = Some(WatchCache::new(replica.window, revision, now, init));
            replica.listed = revision;
        }
    }

    /// Replica `id`.
    pub(crate) fn get(&self, id: ReplicaId) -> &Replica {
        &self.0[id.0]
    }

    pub(crate) fn get_mut(&mut self, id: ReplicaId) -> &mut Replica {
        &mut self.0[id.0]
    }

    /// The replica named `name`.
    pub(crate) fn named(&self, name: &str) -> Option<ReplicaId> {
        self.0
            .iter()
            .position(|r| r.name.as_deref() == Some(name))
            .map(ReplicaId)
    }

    /// etcd committed `change` at `now`: a replica on time hears it at once, a lagging one
    /// later. Returns whether any will hear it later.
    pub(crate) fn commit(&mut self, change: &Arc<Change>, now: Duration) -> bool {
        let mut later = false;
        for replica in &mut self.0 {
            if replica.lag.is_zero() {
                replica.hear(Arc::clone(change), now);
            } else {
                let at = replica.hears_at(now);
                replica.pending.push_back((at, Arc::clone(change)));
                later = true;
            }
        }
        later
    }

    /// The oldest revision a replica shows at `now`: what a compaction must keep servable.
    pub(crate) fn oldest_shown(&self, store: &Store, now: Duration) -> u64 {
        (self.0.iter())
            .map(|r| r.revision(store, now))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Replica `id`'s resourceVersion: etcd's revision as of its lag before the time they
    /// have all heard up to.
    pub(crate) fn revision_of(&self, id: ReplicaId, store: &Store) -> u64 {
        self.get(id).revision(store, self.1)
    }

    /// Every replica hears what it was due to hear by `now`, each change at the time it was due.
    pub(crate) fn catch_up(&mut self, now: Duration) {
        self.1 = self.1.max(now);
        for replica in &mut self.0 {
            while let Some((at, _)) = replica.pending.front()
                && *at <= now
            {
                let (at, change) = replica.pending.pop_front().expect("front was some");
                replica.hear(change, at);
            }
        }
    }

    /// When the next replica is due to hear a change.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        self.0
            .iter()
            .filter_map(|r| r.pending.front().map(|(at, _)| *at))
            .min()
    }

    /// Replica `id`'s watch cache (every replica's, with `None`) re-lists at `revision` at
    /// `now`, ready after `init`: what it had not heard by then is in the list.
    pub(crate) fn reset_caches(
        &mut self,
        id: Option<ReplicaId>,
        revision: u64,
        now: Duration,
        init: Duration,
    ) {
        for (i, replica) in self.0.iter_mut().enumerate() {
            if id.is_some_and(|id| id.0 != i) {
                continue;
            }
            // The list covers every change up to `revision`, and a restart that reset or
            // restored etcd took back any after it: nothing waiting is heard any more.
            replica.pending.clear();
            replica.listed = revision;
            if let Some(cache) = replica.cache.as_mut() {
                cache.reset(revision, now, init);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Balance, ReplicaSpec};

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn two_replicas(lag: Duration) -> ServerSpec {
        let replica = |name: &str, cache_lag| ReplicaSpec {
            name: name.into(),
            cache_lag,
            watch_cache_window: S(75),
        };
        ServerSpec {
            watch_cache: true,
            watch_list: true,
            watch_list_compression: true,
            watch_cache_window: S(75),
            watch_cache_init: Duration::ZERO,
            bookmark_interval: S(60),
            churn_interval: None,
            compaction_interval: None,
            max_requests: 10_000,
            replicas: vec![replica("a", Duration::ZERO), replica("b", lag)],
            load_balancer: Balance::Sticky,
        }
    }

    fn change(revision: u64) -> Arc<Change> {
        Arc::new(Change {
            revision,
            before: None,
            after: None,
            deleted: super::super::store::Encodings::default(),
        })
    }

    #[test]
    fn a_lagging_replica_hears_each_change_its_lag_after_etcd_committed_it() {
        let mut replicas = Replicas::new(&two_replicas(S(30)));
        replicas.start_caches(1, S(0), Duration::ZERO);
        assert!(replicas.commit(&change(2), S(10)), "b hears it later");
        assert_eq!(replicas.next_due(), Some(S(40)));
        let (a, b) = (ReplicaId(0), ReplicaId(1));
        let since = |r: &Replicas, id| {
            let cache = r.get(id).cache.as_ref().expect("a cache");
            cache.since(1).expect("in the window").count()
        };
        assert_eq!(since(&replicas, a), 1);
        replicas.catch_up(S(39));
        assert_eq!(since(&replicas, b), 0, "not yet at 39s");
        replicas.catch_up(S(40));
        assert_eq!(since(&replicas, b), 1, "at 40s");
        assert_eq!(replicas.next_due(), None);
    }

    #[test]
    fn without_a_watch_cache_no_replica_lags() {
        let mut spec = two_replicas(S(30));
        spec.watch_cache = false;
        let mut replicas = Replicas::new(&spec);
        assert!(
            !replicas.commit(&change(2), S(10)),
            "etcd serves them all on time"
        );
        assert_eq!(replicas.next_due(), None);
    }

    #[test]
    fn a_re_list_takes_in_what_the_replica_had_not_heard_and_drops_what_was_waiting() {
        let mut replicas = Replicas::new(&two_replicas(S(30)));
        replicas.start_caches(1, S(0), Duration::ZERO);
        replicas.commit(&change(2), S(10));
        replicas.reset_caches(Some(ReplicaId(1)), 2, S(15), Duration::ZERO);
        replicas.commit(&change(3), S(20));
        replicas.catch_up(S(60));
        let cache = replicas.get(ReplicaId(1)).cache.as_ref().expect("a cache");
        let heard: Vec<u64> = cache
            .since(2)
            .expect("in the window")
            .map(|c| c.revision)
            .collect();
        assert_eq!(heard, [3], "2 came with the list, not again; 3 after it");
    }
}
