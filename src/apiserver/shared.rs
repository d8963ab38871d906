//! The state every handler of one server shares: the resource, the server's settings, the wire
//! forms, the recorder, and behind one lock the store, the watch cache, the fault rules and the
//! open watches. The request handlers (`list`, `watch`, `answer`) and the server that
//! dispatches to them all read it from here; it imports none of them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::alarm::Alarms;
use super::balancer::Balancer;
use super::cache::WatchCache;
use super::downtime::Downtime;
use super::query::Query;
use super::remaining::RemainingCounts;
use super::replicas::{ReplicaId, Replicas};
use super::store::Store;
use super::table_printer::{self, Printer};
use super::wire::{WallClock, Wire};
use crate::fault::FaultRules;
use crate::scenario::{ResourceSpec, ServerSpec};
use crate::selector::Selector;
use crate::trace::{Recorder, Verb};

/// One server's shared state.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) resource: ResourceSpec,
    pub(super) spec: ServerSpec,
    wire: Wire,
    metadata_wire: Wire,
    pub(super) recorder: Recorder,
    state: Mutex<State>,
    /// The current revision, for LISTs waiting for a revision to come.
    pub(super) revision: watch::Sender<u64>,
    /// The one channel that carries faults to open watches.
    pub(super) alarms: Alarms,
    /// Bumped by `restart`: every open connection is closed.
    pub(super) restarts: watch::Sender<u64>,
    /// Bumped at each restart's SIGTERM: the port closes and idle connections with it.
    pub(super) closing: watch::Sender<u64>,
    /// Set once the run is a request storm: requests so far, and a burst's span.
    pub(super) storm: watch::Sender<Option<(u64, Option<Duration>)>>,
    /// Bumped by a `failover`: connections bound to a replica other than the balancer's one
    /// are reset.
    pub(super) failovers: watch::Sender<u64>,
    /// Wakes the task that makes lagging replicas hear changes on time
    /// (`lagging::hear_when_due`): a change was committed that one hears later, or the server
    /// is gone.
    pub(super) lagging: std::sync::Arc<tokio::sync::Notify>,
}

/// What changes as the server serves, behind one lock.
#[derive(Debug)]
pub(super) struct State {
    pub(super) store: Store,
    /// The apiservers in front of etcd, each with its watch cache (for a resource that has
    /// one, `server.watch_cache`) and its open watches.
    pub(super) replicas: Replicas,
    /// Which replica a connection or request reaches.
    pub(super) balancer: Balancer,
    pub(super) rules: FaultRules,
    pub(super) rng: fastrand::Rng,
    /// What paginated LISTs have left to send.
    pub(super) remaining: RemainingCounts,
    pub(super) requests: u64,
    /// Requests answered, by verb and status (`/metrics`).
    pub(super) answered: BTreeMap<(Verb, u16), u64>,
    /// When the last [`crate::trace::STORM_BURST`] lists and watches started.
    pub(super) starts: VecDeque<Duration>,
    /// Where the server is in its last restart.
    pub(super) downtime: Downtime,
}

impl Shared {
    /// The shared state of a server for `resource` behaving as `spec`, starting from `state`.
    pub(super) fn new(
        resource: ResourceSpec,
        spec: ServerSpec,
        recorder: Recorder,
        state: State,
    ) -> Self {
        let clock = WallClock {
            epoch: recorder.epoch(),
            speed: recorder.speed(),
        };
        Self {
            wire: Wire::new(&resource, clock),
            metadata_wire: Wire::metadata(clock),
            resource,
            spec,
            recorder,
            state: Mutex::new(state),
            revision: watch::channel(0).0,
            alarms: Alarms::default(),
            restarts: watch::channel(0).0,
            closing: watch::channel(0).0,
            storm: watch::channel(None).0,
            failovers: watch::channel(0).0,
            lagging: std::sync::Arc::default(),
        }
    }

    /// How to render answers to `query`: the resource's own form, or metadata only.
    pub(super) fn wire(&self, query: &Query) -> &Wire {
        self.wire_for(query.metadata_only)
    }

    /// The resource's own form, or metadata only.
    pub(super) fn wire_for(&self, metadata_only: bool) -> &Wire {
        if metadata_only {
            &self.metadata_wire
        } else {
            &self.wire
        }
    }

    /// The selector a LIST or WATCH asks for, read with the resource's own field labels; the
    /// error is a 400's message.
    pub(super) fn selector(&self, query: &Query) -> Result<Selector, String> {
        Selector::parse_for(
            &self.resource.group,
            &self.resource.kind,
            query.get("labelSelector"),
            query.get("fieldSelector"),
        )
    }

    /// How to print a `Table` for `query`, when it asks for one and the kind has a printer.
    pub(super) fn printer(&self, query: &Query) -> Option<Printer<'_>> {
        self.printer_for(query.table?)
    }

    /// How to print a `Table` whose rows carry `include`, when the kind has a printer.
    pub(super) fn printer_for(&self, include: table_printer::Include) -> Option<Printer<'_>> {
        Some(Printer {
            resource: &self.resource,
            columns: table_printer::columns(&self.resource)?,
            clock: WallClock {
                epoch: self.recorder.epoch(),
                speed: self.recorder.speed(),
            },
            now: self.recorder.now(),
            include,
            typed: &self.wire,
            metadata: &self.metadata_wire,
        })
    }

    /// Locks the state, after every lagging replica has heard what it was due to hear by now.
    /// NB: never held across an `.await`.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self
            .state
            .lock()
            .expect("server state lock is never poisoned: no code panics while holding it");
        state.replicas.catch_up(self.recorder.now());
        state
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The lagging replicas' task holds the server weakly: it ends when woken now.
        self.lagging.notify_one();
    }
}

impl State {
    /// Replica `id`'s watch cache, for a resource that has one.
    pub(super) fn cache(&self, id: ReplicaId) -> Option<&WatchCache> {
        self.replicas.get(id).cache.as_ref()
    }

    /// Replica `id`'s resourceVersion now: as of when the lock was taken (`Shared::lock`).
    pub(super) fn revision_of(&self, id: ReplicaId) -> u64 {
        self.replicas.revision_of(id, &self.store)
    }
}
