//! What history the server still serves, and how faults take it away without the server ever
//! contradicting itself.
//!
//! Two floors, as on a real apiserver:
//! - **etcd's compaction** bounds exact LISTs, continue tokens and the watches of resources
//!   without a watch cache (etcd keeps revision `C` and later once it compacted at `C`);
//! - **the watch cache's window** ([`super::cache`]) bounds the watches of a cached resource,
//!   whatever etcd still has.
//!
//! A 410 in the apiserver's own form is only ever the answer of these floors: a fault that
//! makes one (`expire_watches`, `expire_continue`, `watch_410` as an ERROR event) first moves
//! the floor past the resourceVersion in question — as the compaction or cache re-list that
//! causes it in life would — and then lets the request be answered as usual. The floor never
//! moves back, except on a `restart` that resets or restores etcd, so a resourceVersion once
//! called too old stays too old.

use std::sync::Arc;

use super::alarm::Alarm;
use super::replicas::ReplicaId;
use super::shared::{Shared, State};
use super::status::Status;
use super::store::Change;
use crate::trace::TraceKind;

/// Why a watch cannot start, or go on, from a resourceVersion: the history after it is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// Out of the watch cache's window; `Y` of `too old resource version: X (Y)`.
    Cache {
        /// The oldest servable resourceVersion minus one.
        oldest_minus_one: u64,
    },
    /// Compacted in etcd (a resource without a watch cache).
    Etcd,
}

impl Gone {
    /// The ERROR event's Status for a watch from `requested` (reference §2.5).
    pub(crate) fn status(self, requested: u64) -> Status {
        match self {
            Self::Cache { oldest_minus_one } => {
                Status::watch_too_old_cache(requested, oldest_minus_one)
            }
            Self::Etcd => Status::watch_too_old_etcd(),
        }
    }
}

/// The oldest revisions the server serves, as a client could probe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floors {
    /// etcd's compaction revision: an exact LIST or a continue token at a revision below it is
    /// answered 410.
    pub compacted: u64,
    /// The lowest resourceVersion a watch can start from; below it, 200 and an ERROR 410.
    pub watch: u64,
}

impl State {
    /// The changes after `revision` that a watch from it is served by replica `id`, from its
    /// watch cache for a cached resource and from etcd otherwise.
    pub(super) fn watch_changes(
        &self,
        id: ReplicaId,
        revision: u64,
    ) -> Result<Box<dyn Iterator<Item = &Arc<Change>> + '_>, Gone> {
        match self.cache(id) {
            Some(cache) => match cache.since(revision) {
                Ok(changes) => Ok(Box::new(changes)),
                Err(too_old) => Err(Gone::Cache {
                    oldest_minus_one: too_old.oldest_minus_one,
                }),
            },
            None => self
                .store
                .changes_after(revision)
                .map(|changes| Box::new(changes) as Box<dyn Iterator<Item = _>>)
                .ok_or(Gone::Etcd),
        }
    }

    /// Both floors now, as replica `id` serves watches.
    pub(super) fn floors(&self, id: ReplicaId) -> Floors {
        let compacted = self.store.compacted();
        Floors {
            compacted,
            watch: match self.cache(id) {
                Some(cache) => cache.floor(),
                None => compacted.saturating_sub(1),
            },
        }
    }
}

impl Shared {
    /// A write to another resource: the revision moves, the watched resource does not.
    pub(super) fn churn(&self) {
        let now = self.recorder.now();
        let revision = self.lock().store.churn(now);
        self.revision.send_replace(revision);
    }

    /// Takes revisions of churn until the clock reaches `revision`: a compaction can only
    /// overtake a resourceVersion that later revisions have passed (etcd compacts at most to
    /// its current revision).
    fn advance_to(&self, revision: u64) {
        while self.lock().store.revision() < revision {
            self.churn();
        }
    }

    /// Compacts etcd at `floor` (never backwards) and records it.
    pub(super) fn compact(&self, floor: u64) {
        let now = self.recorder.now();
        let floor = {
            let mut state = self.lock();
            let kept = state.replicas.oldest_shown(&state.store, now);
            state.store.compact_keeping(floor, kept)
        };
        self.recorder
            .record(TraceKind::Compacted { revision: floor });
    }

    /// Makes an exact LIST or a continue token at `revision` too old: etcd compacts just past
    /// it, after the rest of the cluster has written once if it must.
    pub(super) fn expire_list_through(&self, revision: u64) {
        if self.lock().store.compacted() > revision {
            return;
        }
        self.advance_to(revision + 1);
        self.compact(revision + 1);
    }

    /// Makes a watch from any resourceVersion up to `revision` too old, as the compaction that
    /// causes it in life would, and ends the open watches that stood on that history:
    /// - without a watch cache, etcd compacts at `revision + 2` (the first revision a watch
    ///   from `revision` would still need, plus one), and every open watch gets ERROR 410;
    /// - with one, the cache's own etcd watch is compacted away too, so the cache re-lists at
    ///   the current revision (`Terminating all watchers from cacher`): every open watch ends
    ///   cleanly, and a watch from before the re-list gets 200 and ERROR 410.
    ///
    /// Either way exact LISTs at `revision` and below are too old from then on as well. With
    /// `replica`, only its watch cache re-lists (and only its watches end): the one serving the
    /// watch a `watch_410` hit; each apiserver has a cache of its own.
    pub(super) fn expire_watches_through(&self, revision: u64, replica: Option<ReplicaId>) {
        let cached = self.spec.watch_cache;
        let floor = if cached { revision + 1 } else { revision + 2 };
        self.advance_to(floor);
        if self.lock().store.compacted() < floor {
            self.compact(floor);
        }
        if cached {
            let now = self.recorder.now();
            let listed = {
                let mut state = self.lock();
                let current = state.store.revision();
                let init = self.spec.watch_cache_init;
                state.replicas.reset_caches(replica, current, now, init);
                current
            };
            self.recorder
                .record(TraceKind::WatchCacheReset { revision: listed });
        }
        let scope = replica.filter(|_| cached).map(|r| r.0);
        self.alarms.raise(Alarm::Expiry(scope));
    }
}
