//! What every connection, stream and the timeline of one proxy share: the trace, the rules in
//! force, the watches open now, and the revision the proxy has last seen upstream.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::upstream::Upstream;
use crate::apiserver::{STORM_BURST, STORM_SPAN};
use crate::fault::{FaultRules, OpenWatchHit, WatchRequest};
use crate::scenario::ResourceSpec;
use crate::trace::Recorder;

/// A watch the proxy is relaying now, as the rules need to know it.
#[derive(Debug)]
pub(super) struct OpenWatch {
    /// What it asked, for the rules.
    pub(super) request: WatchRequest,
    /// Where an instant fault that hits it is sent.
    pub(super) hits: mpsc::UnboundedSender<OpenWatchHit>,
}

/// State of one proxy.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) recorder: Recorder,
    pub(super) resource: ResourceSpec,
    /// The scenario says its resource has a watch cache: which backend's words an HTTP 410
    /// uses by default, and which requests an etcd 500 cannot reach, as on the simulation.
    pub(super) cached: bool,
    pub(super) upstream: Upstream,
    pub(super) rules: Mutex<FaultRules>,
    watches: Mutex<BTreeMap<u64, OpenWatch>>,
    /// How many watches are open, for whoever waits for them to end.
    open: watch::Sender<usize>,
    /// The highest revision seen upstream: writes, bookmarks and lists of the proxy's own.
    revision: AtomicU64,
    requests: AtomicU64,
    max_requests: u64,
    starts: Mutex<VecDeque<Duration>>,
    storm: watch::Sender<Option<(u64, Option<Duration>)>>,
}

impl Shared {
    pub(super) fn new(
        recorder: Recorder,
        resource: ResourceSpec,
        cached: bool,
        upstream: Upstream,
        max_requests: u64,
    ) -> Self {
        Self {
            recorder,
            resource,
            cached,
            upstream,
            rules: Mutex::default(),
            watches: Mutex::default(),
            open: watch::Sender::new(0),
            revision: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            max_requests,
            starts: Mutex::default(),
            storm: watch::Sender::new(None),
        }
    }

    pub(super) fn rules(&self) -> MutexGuard<'_, FaultRules> {
        self.rules.lock().expect("no lock holder panics")
    }

    pub(super) fn watches(&self) -> MutexGuard<'_, BTreeMap<u64, OpenWatch>> {
        self.watches.lock().expect("no lock holder panics")
    }

    /// Registers watch `id` as open.
    pub(super) fn opened(&self, id: u64, watch: OpenWatch) {
        let mut watches = self.watches();
        watches.insert(id, watch);
        self.open.send_replace(watches.len());
    }

    /// Registers watch `id` as ended.
    pub(super) fn closed(&self, id: u64) {
        let mut watches = self.watches();
        watches.remove(&id);
        self.open.send_replace(watches.len());
    }

    /// Resolves when no watch is open.
    pub(super) async fn all_closed(&self) {
        let mut open = self.open.subscribe();
        // NB: errs only when the sender is gone, which cannot happen while `self` lives.
        let _ = open.wait_for(|n| *n == 0).await;
    }

    /// The highest revision seen upstream so far.
    pub(super) fn revision(&self) -> u64 {
        self.revision.load(Ordering::Relaxed)
    }

    /// Notes a revision seen upstream.
    pub(super) fn saw_revision(&self, revision: u64) {
        self.revision.fetch_max(revision, Ordering::Relaxed);
    }

    /// Numbers a request, from 1, and flags a storm past the cap.
    pub(super) fn next_request(&self) -> u64 {
        let id = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if id > self.max_requests {
            self.storm.send_if_modified(|storm| {
                storm.get_or_insert((id, None));
                true
            });
        }
        id
    }

    /// Counts a list or watch toward a burst, as the simulated server does
    /// ([`STORM_BURST`] within [`STORM_SPAN`]): a real cluster is spared a client's storm too.
    pub(super) fn count_start(&self, id: u64) {
        let now = self.recorder.now();
        let mut starts = self.starts.lock().expect("no lock holder panics");
        if starts.len() == STORM_BURST {
            starts.pop_front();
        }
        starts.push_back(now);
        if let Some(first) = starts.front().copied()
            && starts.len() == STORM_BURST
            && now - first < STORM_SPAN
        {
            self.storm.send_if_modified(|storm| {
                storm.get_or_insert((id, Some(now - first)));
                true
            });
        }
    }

    /// Resolves when a storm is flagged: the requests by then, and the burst's span.
    pub(super) async fn storm(&self) -> (u64, Option<Duration>) {
        let mut storm = self.storm.subscribe();
        // NB: `wait_for` errs only when the sender is gone, which cannot happen while `self` lives.
        match storm.wait_for(Option::is_some).await {
            Ok(found) => found.unwrap_or_default(),
            Err(_) => futures::future::pending().await,
        }
    }
}
