//! Where a watch reads its changes from: first the history after the revision it resumed from
//! (the backlog, up to the revision it opened at), then the changes the fan-out hands it as
//! they are written; and how far it has read (its cursor), which a compaction may overtake.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::apiserver::fanout::{Fanout, Filter, Inbox};
use crate::apiserver::history::Gone;
use crate::apiserver::shared::State;
use crate::apiserver::store::Change;

/// Largest run of lines read at once, in bytes, so that a long backlog starts flowing at once.
const MAX_READ: usize = 64 * 1024;

/// One watch's feed of changes.
#[derive(Debug, Default)]
pub(super) struct Feed {
    /// Its place in the server's fan-out while it is open, and where the changes it selects
    /// arrive.
    subscription: Option<(u64, Inbox)>,
    /// A watch resumed from an old revision first sends the history after it, up to this
    /// revision (the one it opened at), read a chunk's worth at a time.
    backlog: Option<u64>,
    /// Changes taken from the inbox and not yet read.
    queued: VecDeque<Arc<Change>>,
    /// The last revision this watch has delivered up to.
    cursor: u64,
    /// The revision it started from: the watch cache sends nothing, bookmarks included, at or
    /// below it (`cacheWatcher.process` in apiserver `cache_watcher.go`).
    start: u64,
    /// Changes are held back until then (`latency` on events).
    held_until: Option<Duration>,
}

impl Feed {
    /// A feed resumed from revision `from` on a server now at `current`: the history between
    /// them comes first.
    pub(super) fn resumed(from: u64, current: u64) -> Self {
        Self {
            cursor: from,
            start: from,
            backlog: (from < current).then_some(current),
            ..Self::default()
        }
    }

    /// A feed that starts after a snapshot of the state at `current`.
    pub(super) fn after_snapshot(current: u64) -> Self {
        Self {
            cursor: current,
            start: current,
            ..Self::default()
        }
    }

    /// Joins the fan-out. NB: in the same lock as the snapshot or history the watch started
    /// from, so that no change is missed or sent twice.
    pub(super) fn subscribe(&mut self, fanout: &mut Fanout, filter: Arc<Filter>) {
        self.subscription = Some(fanout.subscribe(filter));
    }

    /// Stops reading: the fan-out id to unsubscribe, if it had joined; what was queued is gone.
    pub(super) fn leave(&mut self) -> Option<u64> {
        self.queued.clear();
        self.subscription.take().map(|(id, _)| id)
    }

    /// Drops what it had yet to read: the history under it is gone.
    pub(super) fn forget(&mut self) {
        self.queued.clear();
        self.backlog = None;
    }

    pub(super) fn cursor(&self) -> u64 {
        self.cursor
    }

    pub(super) fn start(&self) -> u64 {
        self.start
    }

    /// Queues a change handed to this watch. A watch from a revision the server has not reached
    /// yet waits for it: changes at or below its start are not for it.
    pub(super) fn enqueue(&mut self, change: Arc<Change>) {
        if change.revision > self.start {
            self.queued.push_back(change);
        }
    }

    /// The next change handed to this watch; never, once it has left the fan-out.
    pub(super) async fn next_change(&mut self) -> Arc<Change> {
        if let Some((_, inbox)) = &mut self.subscription
            && let Some(change) = inbox.recv().await
        {
            return change;
        }
        futures::future::pending().await
    }

    /// Whether a `latency` fault holds its changes back.
    pub(super) fn held(&self) -> Option<Duration> {
        self.held_until
    }

    /// Holds the changes back until `until`, unless they already are.
    pub(super) fn hold(&mut self, until: Option<Duration>) {
        if self.held_until.is_none() {
            self.held_until = until;
        }
    }

    /// The revision a bookmark sent now may carry, with the server at `current`: no further
    /// than what was read while changes are held back or still to read, so that it promises
    /// nothing not yet sent.
    pub(super) fn bookmark_revision(&mut self, current: u64) -> u64 {
        if self.held_until.is_some() || self.backlog.is_some() || !self.queued.is_empty() {
            self.cursor
        } else {
            self.cursor = self.cursor.max(current);
            current
        }
    }

    /// Reads the changes due at `now`, each `render`ed (`None`: not for this watch) and at most
    /// a chunk's worth of `size`; nothing while held back. Errs when the history it reads was
    /// taken from under it: evicted from the watch cache's window, or compacted in etcd before
    /// it was sent (etcd cancels such a watcher).
    pub(super) fn read<T>(
        &mut self,
        now: Duration,
        state: &State,
        mut render: impl FnMut(&Change) -> Option<T>,
        size: impl Fn(&T) -> usize,
    ) -> Result<Vec<T>, Gone> {
        if self.held_until.is_some_and(|t| now < t) {
            return Ok(Vec::new());
        }
        self.held_until = None;
        while let Some(change) = self
            .subscription
            .as_mut()
            .and_then(|(_, inbox)| inbox.try_recv().ok())
        {
            self.enqueue(change);
        }
        let mut lines = Vec::new();
        let mut bytes = 0;
        if let Some(until) = self.backlog {
            let changes = match state.watch_changes(self.cursor) {
                Ok(changes) => changes,
                Err(gone) => {
                    // The cacher ends a watch whose interval was evicted under it without an
                    // ERROR event (`processInterval` in apiserver `cacher/cache_watcher.go`);
                    // etcd cancels a watcher that compaction overtook.
                    self.queued.clear();
                    return Err(gone);
                }
            };
            let mut done = true;
            for change in changes.take_while(|c| c.revision <= until) {
                if bytes >= MAX_READ {
                    done = false;
                    break;
                }
                if let Some(line) = render(change) {
                    bytes += size(&line);
                    lines.push(line);
                }
                self.cursor = change.revision;
            }
            if done {
                self.backlog = None;
                self.cursor = self.cursor.max(until);
            }
        }
        if self.backlog.is_none() {
            // Without a watch cache, a watcher that fell behind reads from etcd's history, and
            // a compaction that overtakes it cancels it. The cache hands its watchers their
            // events directly: compaction never reaches them.
            let compacted = state.store.compacted();
            if state.cache.is_none() && self.queued.front().is_some_and(|c| c.revision < compacted)
            {
                self.queued.clear();
                return Err(Gone::Etcd);
            }
            while bytes < MAX_READ
                && let Some(change) = self.queued.pop_front()
            {
                if let Some(line) = render(&change) {
                    bytes += size(&line);
                    lines.push(line);
                }
                self.cursor = self.cursor.max(change.revision);
            }
        }
        if self.backlog.is_none() && self.queued.is_empty() {
            // Caught up with every revision so far, this resource's or not: like a synced etcd
            // watcher, a later compaction cannot leave it behind.
            self.cursor = self.cursor.max(state.store.revision());
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::apiserver::downtime::Downtime;
    use crate::apiserver::remaining::RemainingCounts;
    use crate::apiserver::store::Store;
    use crate::fault::FaultRules;
    use crate::scenario::ObjectSpec;
    use crate::selector::Selector;

    const T: Duration = Duration::ZERO;

    fn state() -> State {
        State {
            store: Store::default(),
            cache: None,
            rules: FaultRules::default(),
            rng: fastrand::Rng::with_seed(1),
            fanout: Fanout::default(),
            remaining: RemainingCounts::default(),
            requests: 0,
            answered: BTreeMap::new(),
            starts: VecDeque::new(),
            downtime: Downtime::default(),
        }
    }

    fn create(state: &mut State, name: &str) -> Arc<Change> {
        let spec = ObjectSpec {
            name: name.into(),
            namespace: Some("default".into()),
            labels: BTreeMap::new(),
            body: Arc::default(),
        };
        let change = state.store.create(&spec, T).expect("a new name");
        state.fanout.dispatch(&change);
        change
    }

    fn revisions(feed: &mut Feed, state: &State) -> Result<Vec<u64>, Gone> {
        feed.read(T, state, |c| Some(c.revision), |_| 1)
    }

    fn everything() -> Arc<Filter> {
        Arc::new(Filter {
            namespace: None,
            selector: Selector::default(),
        })
    }

    #[test]
    fn a_watch_resumed_from_an_old_revision_reads_the_history_then_what_is_written_after() {
        let mut state = state();
        let from = create(&mut state, "a").revision;
        create(&mut state, "b");
        let current = create(&mut state, "c").revision;
        let mut feed = Feed::resumed(from, current);
        feed.subscribe(&mut state.fanout, everything());
        create(&mut state, "d");
        assert_eq!(
            revisions(&mut feed, &state),
            Ok(vec![from + 1, current, current + 1])
        );
        assert_eq!(feed.cursor(), current + 1);
    }

    #[test]
    fn changes_at_or_below_the_start_are_not_for_the_watch() {
        let mut state = state();
        let mut feed = Feed::after_snapshot(5);
        feed.enqueue(create(&mut state, "a"));
        assert_eq!(revisions(&mut feed, &state), Ok(vec![]));
    }

    #[test]
    fn a_compaction_that_overtakes_a_queued_change_cancels_a_watch_without_a_cache() {
        let mut state = state();
        let mut feed = Feed::after_snapshot(0);
        feed.subscribe(&mut state.fanout, everything());
        create(&mut state, "a");
        create(&mut state, "b");
        state.store.compact(2);
        assert_eq!(revisions(&mut feed, &state), Err(Gone::Etcd));
    }

    #[test]
    fn held_back_changes_wait_and_a_bookmark_promises_only_what_was_read() {
        let mut state = state();
        let mut feed = Feed::after_snapshot(0);
        feed.subscribe(&mut state.fanout, everything());
        create(&mut state, "a");
        feed.hold(Some(Duration::from_secs(1)));
        assert_eq!(revisions(&mut feed, &state), Ok(vec![]));
        assert_eq!(feed.bookmark_revision(1), 0);
        let read = feed.read(Duration::from_secs(1), &state, |c| Some(c.revision), |_| 1);
        assert_eq!(read, Ok(vec![1]));
        assert_eq!(feed.bookmark_revision(1), 1);
    }

    #[test]
    fn a_feed_that_left_the_fan_out_hears_nothing_more() {
        let mut state = state();
        let mut feed = Feed::after_snapshot(0);
        feed.subscribe(&mut state.fanout, everything());
        let id = feed.leave().expect("it had joined");
        state.fanout.unsubscribe(id);
        create(&mut state, "a");
        assert_eq!(revisions(&mut feed, &state), Ok(vec![]));
        assert_eq!(feed.leave(), None);
    }
}
