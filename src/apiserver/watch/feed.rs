//! What a watch reads its events from: the history after the revision it resumed from (a
//! backlog, read a chunk's worth at a time so that a long one starts flowing at once), then the
//! changes the fan-out hands it. Where the history was taken away under it, the feed says how
//! the watch ends: the cacher closes a watch whose interval was evicted, etcd cancels one that
//! compaction overtook.

use std::collections::VecDeque;
use std::sync::Arc;

use super::event_lines::EventLines;
use super::outbox::MAX_CHUNK;
use crate::apiserver::fanout::Inbox;
use crate::apiserver::history::Gone;
use crate::apiserver::replicas::ReplicaId;
use crate::apiserver::shared::{Shared, State};
use crate::apiserver::store::Change;
use crate::apiserver::watcher_buffer::{Sent, Trigger, WatcherBuffer};
use crate::apiserver::wire::Line;
use crate::selector::Selector;
use crate::trace::{EventType, SentEvent};

/// The buffer replica `id`'s watch cache gives a watch of the server's resource selecting
/// `selector`; none without a watch cache (etcd's watcher blocks instead of closing).
pub(super) fn watcher_buffer(
    shared: &Shared,
    state: &State,
    (selector, id): (&Selector, ReplicaId),
    watch_list: bool,
) -> Option<Arc<WatcherBuffer>> {
    let resource = &shared.resource;
    let trigger = Trigger::of(&resource.group, &resource.kind, selector);
    let cache = state.cache(id)?;
    Some(WatcherBuffer::new(
        cache.chan_size(trigger),
        watch_list,
        shared.recorder.clone(),
    ))
}

/// How a feed ends a watch when its history is gone.
#[derive(Debug, PartialEq)]
pub(super) enum Lost {
    /// The cacher ends a watch whose interval was evicted under it without an ERROR event; the
    /// re-watch hears the 410 (`processInterval` in apiserver `cacher/cache_watcher.go`).
    OutOfWindow,
    /// etcd cancels the watcher with a 410 for the revision it had reached.
    Compacted(u64),
}

/// One watch's feed.
#[derive(Default)]
pub(super) struct Feed {
    /// Its place in the server's fan-out while it is open, and where the changes it selects
    /// arrive.
    subscription: Option<(u64, Inbox)>,
    /// A watch resumed from an old revision first sends the history after it, up to this
    /// revision (the one it opened at).
    backlog: Option<u64>,
    /// Changes taken from the inbox and not yet sent.
    queued: VecDeque<Arc<Change>>,
    /// The last revision this watch has delivered up to.
    cursor: u64,
    /// The revision it started from: the watch cache sends nothing, bookmarks included, at or
    /// below it (`cacheWatcher.process` in apiserver `cache_watcher.go`).
    start: u64,
    /// The revision it opened at: changes past it were dispatched to it live, the rest are its
    /// initial events or backlog.
    live_after: u64,
    /// The watch cache's buffer for it, when a cache serves it.
    buffer: Option<Arc<WatcherBuffer>>,
    /// It started with the state as synthetic ADDEDs (its initial events).
    initial: bool,
    /// The replica whose history it reads.
    replica: ReplicaId,
}

impl Feed {
    /// A feed from replica `replica`'s history.
    pub(super) fn on(replica: ReplicaId) -> Self {
        Self {
            replica,
            ..Self::default()
        }
    }

    /// The replica it reads from.
    pub(super) fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// Starts at `revision`, owing the history up to `until` first when there is one.
    pub(super) fn start_at(&mut self, revision: u64, until: Option<u64>) {
        self.cursor = revision;
        self.start = revision;
        self.backlog = until;
        self.live_after = until.unwrap_or(revision);
    }

    /// Starts at `revision`, after the state as of it was queued as initial events.
    pub(super) fn start_initial(&mut self, revision: u64) {
        self.start_at(revision, None);
        self.initial = true;
    }

    pub(super) fn subscribe(
        &mut self,
        subscription: (u64, Inbox),
        buffer: Option<Arc<WatcherBuffer>>,
    ) {
        self.subscription = Some(subscription);
        if let Some(buffer) = &buffer
            && self.backlog.is_none()
            && !self.initial
        {
            buffer.without_interval();
        }
        self.buffer = buffer;
    }

    /// The watch wrote `event` to its connection: its buffer hears what it was.
    pub(super) fn sent(&self, event: &SentEvent) {
        let Some(buffer) = &self.buffer else { return };
        buffer.sent(match event.type_ {
            EventType::Added | EventType::Modified | EventType::Deleted
                if event
                    .resource_version
                    .is_some_and(|rv| rv > self.live_after) =>
            {
                Sent::Live
            }
            EventType::InitialEventsEnd => Sent::IntervalEnd,
            EventType::Added | EventType::Modified | EventType::Deleted
                if event.resource_version == Some(self.live_after) && !self.initial =>
            {
                // The backlog's last change: the interval is over once it is written.
                Sent::IntervalEnd
            }
            EventType::Added | EventType::Modified | EventType::Deleted => Sent::Interval,
            EventType::Bookmark | EventType::Error => Sent::Other,
        });
    }

    /// The watch waits for news (`true`), or has lines to write again.
    pub(super) fn park(&self, parked: bool) {
        if let Some(buffer) = &self.buffer {
            buffer.park(parked);
        }
    }

    /// How many lines it still writes when the watch cache has closed it as unresponsive;
    /// `None` while it has not.
    pub(super) fn closed_keeping(&self) -> Option<usize> {
        self.buffer
            .as_ref()
            .filter(|b| b.is_closed())
            .map(|b| b.kept_on_close())
    }

    /// The revision delivered up to.
    pub(super) fn cursor(&self) -> u64 {
        self.cursor
    }

    pub(super) fn start(&self) -> u64 {
        self.start
    }

    /// Events are still owed from below the server's revision: a bookmark must not promise it.
    pub(super) fn is_behind(&self) -> bool {
        self.backlog.is_some() || !self.queued.is_empty()
    }

    /// Everything up to `revision` has been delivered (a bookmark carried it).
    pub(super) fn delivered_up_to(&mut self, revision: u64) {
        self.cursor = self.cursor.max(revision);
    }

    /// Queues a change handed to this watch. A watch from a revision the server has not reached
    /// yet waits for it: changes at or below its start are not for it.
    pub(super) fn enqueue(&mut self, change: Arc<Change>) {
        if change.revision > self.start {
            self.queued.push_back(change);
        } else if let Some(buffer) = &self.buffer {
            buffer.dropped();
        }
    }

    /// Queues every change waiting in the inbox.
    pub(super) fn drain_inbox(&mut self) {
        while let Some(change) = self
            .subscription
            .as_mut()
            .and_then(|(_, inbox)| inbox.try_recv().ok())
        {
            self.enqueue(change);
        }
    }

    /// Up to `n` of the lines it owes, oldest first, and nothing owed after them: the watch
    /// cache closed the watch, and what it had not put in its `result` channel is dropped.
    pub(super) fn last_lines(
        &mut self,
        n: usize,
        state: &State,
        lines: &EventLines,
    ) -> Vec<(Line, SentEvent)> {
        self.drain_inbox();
        let mut out = Vec::new();
        while out.len() < n
            && let Ok(more) = self.read(state, lines)
            && !more.is_empty()
        {
            out.extend(more);
        }
        out.truncate(n);
        self.forget();
        out
    }

    /// The history was taken away at once: nothing more is owed.
    pub(super) fn forget(&mut self) {
        self.queued.clear();
        self.backlog = None;
    }

    /// Leaves the fan-out, returning its place there: the watch will never send again.
    pub(super) fn leave(&mut self) -> Option<(u64, Inbox)> {
        self.queued.clear();
        self.subscription.take()
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

    /// The next chunk's worth of lines, the backlog first; or how the watch ends when what it
    /// owes was compacted away before it was sent.
    pub(super) fn read(
        &mut self,
        state: &State,
        lines: &EventLines,
    ) -> Result<Vec<(Line, SentEvent)>, Lost> {
        let mut out = Vec::new();
        let mut bytes = 0;
        if let Some(until) = self.backlog {
            let changes = match state.watch_changes(self.replica, self.cursor) {
                Ok(changes) => changes,
                Err(Gone::Cache { .. }) => return Err(self.lost(Lost::OutOfWindow)),
                Err(Gone::Etcd) => return Err(self.lost(Lost::Compacted(self.cursor))),
            };
            let mut done = true;
            for change in changes.take_while(|c| c.revision <= until) {
                if bytes >= MAX_CHUNK {
                    done = false;
                    break;
                }
                if let Some(line) = lines.line_for(change) {
                    bytes += line.0.len();
                    out.push(line);
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
            if state.cache(self.replica).is_none()
                && self.queued.front().is_some_and(|c| c.revision < compacted)
            {
                return Err(self.lost(Lost::Compacted(self.cursor)));
            }
            while bytes < MAX_CHUNK
                && let Some(change) = self.queued.pop_front()
            {
                if let Some(line) = lines.line_for(&change) {
                    bytes += line.0.len();
                    out.push(line);
                }
                self.cursor = self.cursor.max(change.revision);
            }
        }
        Ok(out)
    }

    /// After a read: caught up with every revision so far, this resource's or not, the feed
    /// is like a synced etcd watcher, which a later compaction cannot leave behind.
    pub(super) fn settle(&mut self, revision: u64) {
        if !self.is_behind() {
            self.cursor = self.cursor.max(revision);
        }
    }

    fn lost(&mut self, how: Lost) -> Lost {
        self.queued.clear();
        how
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::store::Encodings;

    fn change(revision: u64) -> Arc<Change> {
        Arc::new(Change {
            revision,
            before: None,
            after: None,
            deleted: Encodings::default(),
        })
    }

    #[test]
    fn a_feed_takes_no_change_at_or_below_the_revision_it_started_from() {
        let mut feed = Feed::default();
        feed.start_at(5, None);
        feed.enqueue(change(5));
        assert!(!feed.is_behind(), "revision 5 was already the client's");
        feed.enqueue(change(6));
        assert!(feed.is_behind());
    }

    #[test]
    fn a_feed_owing_a_backlog_is_behind_until_the_backlog_is_read() {
        let mut feed = Feed::default();
        feed.start_at(3, Some(9));
        assert!(feed.is_behind());
        feed.settle(12);
        assert_eq!(feed.cursor(), 3, "a feed still behind does not jump ahead");
        feed.forget();
        assert!(!feed.is_behind());
        feed.settle(12);
        assert_eq!(
            feed.cursor(),
            12,
            "caught up, it is at the server's revision"
        );
    }

    fn modified(revision: u64) -> SentEvent {
        SentEvent {
            type_: EventType::Modified,
            key: Some("ns/a".into()),
            resource_version: Some(revision),
            damaged: None,
        }
    }

    /// A feed resumed from 5 with its backlog up to 9, whose buffer (10 a channel) was handed
    /// 11 live changes, and sent `line` within the dispatch budget: whether it was closed.
    async fn closed_after_sending(line: SentEvent) -> bool {
        let recorder = crate::trace::Recorder::start();
        let buffer = WatcherBuffer::new(10, false, recorder.clone());
        let (_tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        let mut feed = Feed::default();
        feed.start_at(5, Some(9));
        feed.subscribe((1, inbox), Some(Arc::clone(&buffer)));
        for _ in 0..11 {
            buffer.offer();
        }
        feed.sent(&line);
        recorder
            .sleep_until(recorder.now() + std::time::Duration::from_secs(1))
            .await;
        feed.closed_keeping().is_some()
    }

    #[tokio::test(start_paused = true)]
    async fn a_backlog_line_frees_no_room_in_the_buffer_and_a_live_one_does() {
        assert!(closed_after_sending(modified(7)).await, "7 is backlog");
        assert!(!closed_after_sending(modified(12)).await, "12 came live");
    }

    #[test]
    fn a_feed_that_left_the_fan_out_owes_nothing_and_hears_nothing() {
        let (tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        let mut feed = Feed::default();
        feed.subscribe((7, inbox), None);
        tx.send(change(1)).expect("the inbox is open");
        feed.drain_inbox();
        assert!(feed.is_behind());
        assert_eq!(feed.leave().map(|(id, _)| id), Some(7));
        assert!(!feed.is_behind());
        assert!(feed.leave().is_none(), "it leaves once");
    }
}
