//! One watch: what it has delivered, what it owes, when it ends, and the faults that hit it.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::watch;

use super::opening::Opening;
use super::options::WatchOptions;
use crate::apiserver::cache::retry_after_unready;
use crate::apiserver::fanout::{Filter, Inbox};
use crate::apiserver::history::Gone;
use crate::apiserver::query::{Query, Version};
use crate::apiserver::shared::{Shared, State};
use crate::apiserver::status::Status;
use crate::apiserver::store::{Change, Encodings, StoredObject};
use crate::apiserver::wire::{Line, Wire};
use crate::fault::{BookmarkAction, Cut, Malformed, OpenWatchHit, RequestInfo, StreamFaults};
use crate::trace::{
    ClosedWhy, Damage, EventType, EventType as SentType, Recorder, SentEvent, TraceKind, Verb,
    WatchEnd,
};

/// A bookmark goes out this long before the watch deadline, so a client that reconnects resumes
/// from a fresh revision (`nextBookmarkTime` in apiserver `cacher/cache_watcher.go`).
const BOOKMARK_BEFORE_DEADLINE: Duration = Duration::from_secs(2);
/// Without `timeoutSeconds`, the apiserver picks `minRequestTimeout * (1 + rand[0,1))` with
/// `--min-request-timeout` 1800 s: 30 to 60 minutes (apiserver `endpoints/handlers/get.go`).
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);
/// Largest HTTP chunk a watch writes when events queue up.
const MAX_CHUNK: usize = 64 * 1024;
/// How long a `mid_chunk` cut waits between sending half a line and closing.
const FLUSH_PAUSE: Duration = Duration::from_millis(1);
/// Longest `timeoutSeconds` honoured, so deadlines cannot overflow.
const MAX_TIMEOUT_SECONDS: u64 = 365 * 24 * 3600;

pub(super) struct Session {
    inner: Arc<Shared>,
    /// Metadata-only answers (`PartialObjectMetadata`).
    metadata_only: bool,
    /// The watch asked for `Table` objects (`kubectl get -w`), and whether its first table,
    /// the one with the column definitions, has gone out.
    table: Option<crate::apiserver::table::Include>,
    columns_sent: std::cell::Cell<bool>,
    request: u64,
    path: String,
    query: String,
    /// The resourceVersion it was asked from, when it names one.
    resource_version: Option<u64>,
    /// The watch cache serves it: etcd's errors never reach it.
    from_watch_cache: bool,
    filter: Arc<Filter>,
    /// Its place in the server's fan-out while it is open, and where the changes it selects
    /// arrive.
    subscription: Option<(u64, Inbox)>,
    /// A watch resumed from an old revision first sends the history after it, up to this
    /// revision (the one it opened at), read a chunk's worth at a time.
    backlog: Option<u64>,
    /// Changes taken from the inbox and not yet sent.
    queued: VecDeque<Arc<Change>>,
    /// The last revision this watch has delivered up to.
    cursor: u64,
    /// The revision it started from: the watch cache sends nothing, bookmarks included, at or
    /// below it (`cacheWatcher.process` in apiserver `cache_watcher.go`).
    start: u64,
    /// The resourceVersion the client would resume from: its start, then the last one an
    /// event or bookmark it was sent carried.
    position: u64,
    bookmarks: bool,
    /// Virtual times, converted to tokio instants only to sleep (see `Recorder`).
    next_bookmark: Option<Duration>,
    deadline: Duration,
    /// Lines to send, each with what it is for the trace.
    pending: VecDeque<(Line, SentEvent)>,
    /// ERROR events leave out the Status `code` (a `watch_410` fault with `code: false`).
    without_code: bool,
    /// Why the stream ends once `pending` drains.
    ending: Option<WatchEnd>,
    ended: bool,
    events: u64,
    faults: StreamFaults,
    /// A cut waiting to happen; `MidChunk` waits for a line to cut.
    cut: Option<Cut>,
    /// The half-line of a `mid_chunk` cut has gone out: the connection closes next.
    abort: bool,
    stalled: bool,
    /// Changes are held back until then (`latency` on events).
    hold_until: Option<Duration>,
    expiry: watch::Receiver<u64>,
    restarts: watch::Receiver<u64>,
    instant: watch::Receiver<Vec<usize>>,
    instant_seen: usize,
}

impl Session {
    pub(super) fn open(
        inner: Arc<Shared>,
        request: u64,
        namespace: Option<String>,
        query: &Query,
        info: &RequestInfo<'_>,
        opening: Opening,
    ) -> Result<Self, Box<Status>> {
        let options = WatchOptions::parse(&inner, query)?;
        let now = inner.recorder.now();
        // A watch cache still (re)initializing turns watches away before they start (reference
        // §5.1; apiserver `cacher.go`, `Watch`).
        let unready = inner.lock().cache.as_ref().and_then(|c| c.unready(now));
        if let Some(downtime) = unready {
            return Err(Box::new(
                Status::too_many_requests().with_retry_after(retry_after_unready(downtime)),
            ));
        }
        let timeout = match options.timeout {
            Some(seconds) => Duration::from_secs(seconds.min(MAX_TIMEOUT_SECONDS)),
            None => MIN_REQUEST_TIMEOUT.mul_f64(1.0 + inner.lock().rng.f64()),
        };
        let faults = match opening {
            Opening::Normal | Opening::WithoutCode => inner.lock().rules.on_watch_start(now, info),
            Opening::Empty => StreamFaults::default(),
        };
        let instant = inner.instant.subscribe();
        let instant_seen = instant.borrow().len();
        let filter = Arc::new(Filter {
            namespace,
            selector: options.selector,
        });
        let mut session = Self {
            expiry: inner.expiry.subscribe(),
            restarts: inner.restarts.subscribe(),
            instant,
            instant_seen,
            request,
            metadata_only: query.metadata_only,
            table: query.table,
            columns_sent: std::cell::Cell::new(false),
            path: info.path.to_owned(),
            query: info.query.to_owned(),
            resource_version: info.resource_version,
            from_watch_cache: info.from_watch_cache,
            filter,
            subscription: None,
            backlog: None,
            queued: VecDeque::new(),
            cursor: 0,
            start: 0,
            position: options.version.revision().unwrap_or(0),
            bookmarks: options.allow_bookmarks && inner.spec.watch_cache,
            next_bookmark: None,
            deadline: now + timeout,
            pending: VecDeque::new(),
            without_code: matches!(opening, Opening::WithoutCode),
            ending: None,
            ended: false,
            events: 0,
            cut: faults.cut,
            stalled: faults.stall,
            faults,
            abort: false,
            hold_until: None,
            inner,
        };
        session.expiry.mark_unchanged();
        session.restarts.mark_unchanged();
        session.schedule_bookmark(now);
        if matches!(opening, Opening::Empty) {
            session.ending = Some(WatchEnd::Empty);
            return Ok(session);
        }
        let inner = Arc::clone(&session.inner);
        let mut state = inner.lock();
        let current = state.store.revision();
        inner.recorder.record(TraceKind::WatchOpened {
            request,
            from: match (options.version, options.send_initial) {
                (Version::At(n), false) => Some(n),
                _ => None,
            },
            floor: state.floors().watch,
            revision: current,
        });
        match (options.version, options.send_initial) {
            (Version::At(n), false) => {
                if let Some(gone) = state.watch_changes(n).err() {
                    // Too old: 200, one ERROR event, end of stream (reference §2.5).
                    drop(state);
                    session.fail(gone.status(n));
                    return Ok(session);
                }
                session.cursor = n;
                session.start = n;
                session.backlog = (n < current).then_some(current);
            }
            (_, send_initial) => {
                // The state as synthetic ADDEDs in key order, then changes (reference §2.7). A
                // streaming list ends them with the annotated bookmark when bookmarks are
                // allowed (`isListWatchRequest`; reference §3).
                let lines: Vec<(Line, SentEvent)> = state
                    .store
                    .state_at(current)
                    .into_iter()
                    .filter(|o| session.filter.sees(o))
                    .map(|o| {
                        let sent = object_event(SentType::Added, o.key(), o.resource_version);
                        (session.event(EventType::Added, o), sent)
                    })
                    .collect();
                session.push_events(&mut state, lines);
                session.cursor = current;
                session.start = current;
                if send_initial && options.allow_bookmarks && !session.faults.drop_end_marker {
                    let line = session.wire().bookmark(current, true);
                    session.push(
                        line,
                        bookmark_event(SentType::InitialEventsEnd, Some(current)),
                    );
                }
            }
        }
        // In the same lock as the snapshot above: no change is missed or sent twice.
        session.subscription = Some(state.fanout.subscribe(Arc::clone(&session.filter)));
        drop(state);
        Ok(session)
    }

    fn wire(&self) -> &Wire {
        self.inner.wire_for(self.metadata_only)
    }

    /// An ADDED or MODIFIED event of `o`, as a `Table` when the watch asked for one.
    fn event(&self, type_: EventType, o: &StoredObject) -> Line {
        match self.printer() {
            Some(printer) => Line::Event(
                type_,
                printer.event(
                    o,
                    o.resource_version,
                    !self.columns_sent.replace(true),
                    None,
                ),
            ),
            None => self.wire().event(type_, o),
        }
    }

    /// The DELETED event of `before` at `revision`, as a `Table` when the watch asked for one.
    fn deleted(&self, before: &StoredObject, revision: u64, encodings: &Encodings) -> Line {
        match self.printer() {
            Some(printer) => Line::Event(
                EventType::Deleted,
                printer.event(
                    before,
                    revision,
                    !self.columns_sent.replace(true),
                    Some(encodings),
                ),
            ),
            None => self.wire().deleted(before, revision, encodings),
        }
    }

    fn printer(&self) -> Option<crate::apiserver::table::Printer<'_>> {
        self.inner.printer_for(self.table?)
    }

    fn push(&mut self, line: impl Into<Line>, sent: SentEvent) {
        self.events += 1;
        self.pending.push_back((line.into(), sent));
    }

    /// Queues object events, each malformed if a `malformed_event` rule says so.
    fn push_events(&mut self, state: &mut State, lines: Vec<(Line, SentEvent)>) {
        let now = self.inner.recorder.now();
        let info = self.info();
        let shaped: Vec<(Line, SentEvent)> = lines
            .into_iter()
            .map(|(line, mut sent)| match state.rules.malform(now, &info) {
                None => (line, sent),
                Some(shape) => {
                    let whole = line.into_bytes();
                    let (damaged, damage) = match shape {
                        Malformed::Truncated => {
                            let mut half = whole[..whole.len() / 2].to_vec();
                            half.push(b'\n');
                            (half, Damage::Truncated)
                        }
                        Malformed::WrongShape => {
                            (Wire::without_envelope(&whole), Damage::WrongShape)
                        }
                    };
                    sent.damaged = Some(damage);
                    (Line::from(damaged), sent)
                }
            })
            .collect();
        for (line, sent) in shaped {
            self.push(line, sent);
        }
    }

    /// Ends the watch with one ERROR event carrying `status`.
    fn fail(&mut self, status: Status) {
        let status = if self.without_code {
            status.without_code()
        } else {
            status
        };
        self.push(
            Wire::error(&status),
            SentEvent {
                type_: SentType::Error,
                key: None,
                resource_version: None,
                damaged: None,
            },
        );
        self.ending = Some(WatchEnd::Error {
            code: status.code,
            reason: status.reason.to_owned(),
            message: status.message.clone(),
        });
    }

    fn schedule_bookmark(&mut self, from: Duration) {
        if !self.bookmarks {
            return;
        }
        let heartbeat = from + self.inner.spec.bookmark_interval;
        let pre_timeout = self
            .deadline
            .checked_sub(BOOKMARK_BEFORE_DEADLINE)
            .unwrap_or(self.deadline);
        self.next_bookmark = if heartbeat < pre_timeout {
            Some(heartbeat)
        } else if from < pre_timeout {
            Some(pre_timeout)
        } else {
            None
        };
    }

    /// The event for one change as this watch sees it: selector transitions become
    /// ADDED/DELETED (`convertToWatchEvent` in apiserver `cache_watcher.go`).
    fn line_for(&self, change: &Change) -> Option<(Line, SentEvent)> {
        let before = change.before.as_ref().filter(|o| self.filter.sees(o));
        let after = change.after.as_ref().filter(|o| self.filter.sees(o));
        let sent = |type_, key| object_event(type_, key, change.revision);
        match (before, after) {
            (None, Some(after)) => Some((
                self.event(EventType::Added, after),
                sent(SentType::Added, after.key()),
            )),
            (Some(_), Some(after)) => Some((
                self.event(EventType::Modified, after),
                sent(SentType::Modified, after.key()),
            )),
            (Some(before), None) => Some((
                self.deleted(before, change.revision, &change.deleted),
                sent(SentType::Deleted, before.key()),
            )),
            (None, None) => None,
        }
    }

    /// Queues a change handed to this watch. A watch from a revision the server has not reached
    /// yet waits for it: changes at or below its start are not for it.
    fn enqueue(&mut self, change: Arc<Change>) {
        if change.revision > self.start {
            self.queued.push_back(change);
        }
    }

    /// Moves the changes handed to this watch into `pending`, a chunk's worth at a time so that
    /// a long backlog starts flowing at once; or ends the watch with a 410 when compaction took
    /// one of them before it was sent (etcd cancels such a watcher). Held back while a
    /// `latency` fault delays this watch's events.
    fn catch_up(&mut self) {
        if self
            .hold_until
            .is_some_and(|t| self.inner.recorder.now() < t)
        {
            return;
        }
        self.hold_until = None;
        while let Some(change) = self
            .subscription
            .as_mut()
            .and_then(|(_, inbox)| inbox.try_recv().ok())
        {
            self.enqueue(change);
        }
        let inner = Arc::clone(&self.inner);
        let mut state = inner.lock();
        let mut lines = Vec::new();
        let mut bytes = 0;
        if let Some(until) = self.backlog {
            match state.watch_changes(self.cursor).err() {
                None => {}
                Some(Gone::Cache { .. }) => {
                    // The cacher ends a watch whose interval was evicted under it without an
                    // ERROR event; the re-watch hears the 410 (`processInterval` in apiserver
                    // `cacher/cache_watcher.go`).
                    drop(state);
                    self.queued.clear();
                    self.ending = Some(WatchEnd::Closed {
                        why: ClosedWhy::OutOfWindow,
                    });
                    return;
                }
                Some(gone @ Gone::Etcd) => {
                    // etcd cancels a watcher that compaction overtook.
                    drop(state);
                    self.queued.clear();
                    self.fail(gone.status(self.cursor));
                    return;
                }
            }
            let changes = state
                .watch_changes(self.cursor)
                .expect("the history was there just above, under the same lock");
            let mut done = true;
            for change in changes.take_while(|c| c.revision <= until) {
                if bytes >= MAX_CHUNK {
                    done = false;
                    break;
                }
                if let Some(line) = self.line_for(change) {
                    bytes += line.0.len();
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
                drop(state);
                self.queued.clear();
                self.fail(Gone::Etcd.status(self.cursor));
                return;
            }
            while bytes < MAX_CHUNK
                && let Some(change) = self.queued.pop_front()
            {
                if let Some(line) = self.line_for(&change) {
                    bytes += line.0.len();
                    lines.push(line);
                }
                self.cursor = self.cursor.max(change.revision);
            }
        }
        self.push_events(&mut state, lines);
        if self.backlog.is_none() && self.queued.is_empty() {
            // Caught up with every revision so far, this resource's or not: like a synced etcd
            // watcher, a later compaction cannot leave it behind.
            self.cursor = self.cursor.max(state.store.revision());
        }
    }

    /// The next bytes of the body: `None` ends it cleanly, `Err` cuts the connection.
    pub(super) async fn next_line(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            if self.abort {
                // hyper buffers the half line and would poll the body again before writing
                // it: give it a moment, so the line is cut on the wire and not in a buffer.
                let recorder = &self.inner.recorder;
                recorder.sleep_until(recorder.now() + FLUSH_PAUSE).await;
                return self.cut_off();
            }
            if self.cut == Some(Cut::Reset) {
                return self.cut_off();
            }
            if self.cut == Some(Cut::Clean) {
                self.pending.clear();
                self.finish(WatchEnd::Cut {
                    how: "clean".into(),
                });
                return None;
            }
            if self.stalled {
                self.pending.clear();
                self.leave_fanout();
                // Half-open: nothing more, ever; hyper drops the body when the client leaves.
                return futures::future::pending().await;
            }
            if let Some((line, mut sent)) = self.pending.pop_front() {
                if self.cut == Some(Cut::MidChunk) {
                    self.abort = true;
                    sent.damaged = Some(Damage::Cut);
                    self.record_sent(sent);
                    self.finish(WatchEnd::Cut {
                        how: "mid_chunk".into(),
                    });
                    let line = line.into_bytes();
                    return Some(Ok(line.slice(..line.len() / 2)));
                }
                self.record_sent(sent);
                return Some(Ok(self.batch(line)));
            }
            if let Some(reason) = self.ending.take() {
                self.finish(reason);
                return None;
            }
            if self.ended {
                return None;
            }
            self.catch_up();
            if !self.pending.is_empty() || self.ending.is_some() {
                continue;
            }
            self.wait().await;
        }
    }

    /// `first` and the lines queued behind it, up to [`MAX_CHUNK`], as one HTTP chunk: the
    /// apiserver's encoder flushes when its queue is empty, so one chunk often carries several
    /// events (reference §2.2), and a chunk per event would cost a wake-up per event.
    fn batch(&mut self, first: Line) -> Bytes {
        if self.pending.is_empty() {
            return first.into_bytes();
        }
        let mut chunk =
            BytesMut::with_capacity(MAX_CHUNK.min(first.len() * (self.pending.len() + 1)));
        first.write_into(&mut chunk);
        while let Some((next, _)) = self.pending.front() {
            if chunk.len() + next.len() > MAX_CHUNK {
                break;
            }
            next.write_into(&mut chunk);
            if let Some((_, sent)) = self.pending.pop_front() {
                self.record_sent(sent);
            }
        }
        chunk.freeze()
    }

    fn record_sent(&mut self, event: SentEvent) {
        if event.type_ != SentType::Error
            && let Some(revision) = event.resource_version
        {
            self.position = revision;
        }
        self.inner.recorder.record(TraceKind::Sent {
            request: self.request,
            event,
        });
    }

    /// Ends the body with an error, so hyper closes the connection without the final chunk.
    fn cut_off(&mut self) -> Option<io::Result<Bytes>> {
        if self.ended && !self.abort {
            return None;
        }
        if !self.ended {
            self.ended = true;
            self.leave_fanout();
            self.record_end(WatchEnd::Cut {
                how: "reset".into(),
            });
        }
        self.abort = false;
        self.cut = None;
        Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "cut_stream: the connection is cut",
        )))
    }

    /// Waits for the next thing that can happen to this watch.
    async fn wait(&mut self) {
        let bookmark_at = self.next_bookmark;
        let hold_until = self.hold_until;
        let recorder = self.inner.recorder.clone();
        tokio::select! {
            biased;
            changed = self.restarts.changed() => {
                if changed.is_ok() {
                    self.cut = Some(Cut::Reset);
                }
            }
            changed = self.expiry.changed() => {
                if changed.is_ok() {
                    self.expired();
                }
            }
            changed = self.instant.changed() => {
                if changed.is_ok() {
                    self.claim_instant_faults();
                }
            }
            change = next_change(&mut self.subscription) => {
                self.enqueue(change);
                if self.hold_until.is_none() {
                    let now = recorder.now();
                    let delay = self.inner.lock().rules.event_delay(now, &self.info());
                    self.hold_until = delay.map(|d| now + d);
                }
            }
            () = recorder.sleep_until(self.deadline) => {
                self.ending = Some(WatchEnd::Timeout);
            }
            () = sleep_until_some(&recorder, hold_until) => {}
            () = sleep_until_some(&recorder, bookmark_at) => {
                let at = bookmark_at.expect("sleep_until_some only wakes for Some");
                self.send_bookmark();
                self.schedule_bookmark(at);
            }
        }
    }

    fn send_bookmark(&mut self) {
        let now = self.inner.recorder.now();
        let action = self.inner.lock().rules.bookmark(now);
        // While events are held back or still queued, a bookmark must not promise revisions not
        // yet sent.
        if self.hold_until.is_none() {
            self.catch_up();
        }
        let delayed =
            self.hold_until.is_some() || self.backlog.is_some() || !self.queued.is_empty();
        let revision = if delayed {
            self.cursor
        } else {
            let revision = self.inner.lock().store.revision();
            self.cursor = self.cursor.max(revision);
            revision
        };
        if revision <= self.start {
            return;
        }
        let (line, carried) = match action {
            BookmarkAction::Pass => (self.wire().bookmark(revision, false), Some(revision)),
            BookmarkAction::Drop(_) => return,
            BookmarkAction::Stale(old) => {
                let old = old.min(revision);
                (self.wire().bookmark(old, false), Some(old))
            }
            BookmarkAction::Empty => (self.wire().bookmark_at(String::new(), false), None),
        };
        self.push(line, bookmark_event(SentType::Bookmark, carried));
    }

    /// History was taken away at once (`expire_watches`, `watch_410`): a cached resource's
    /// watch cache re-listed and ends every watch cleanly; without a cache, etcd cancels a
    /// watch whose client now holds a compacted resourceVersion with a 410, and leaves the
    /// others be.
    fn expired(&mut self) {
        if self.inner.spec.watch_cache {
            self.queued.clear();
            self.backlog = None;
            self.ending = Some(WatchEnd::Closed {
                why: ClosedWhy::CacheReset,
            });
        } else if self.position < self.inner.lock().floors().watch {
            self.queued.clear();
            self.backlog = None;
            self.fail(Gone::Etcd.status(self.position));
        }
    }

    /// What the fault rules know of this watch.
    fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            verb: Verb::Watch,
            path: &self.path,
            query: &self.query,
            resource_version: self.resource_version,
            from_watch_cache: self.from_watch_cache,
        }
    }

    fn claim_instant_faults(&mut self) {
        let ids: Vec<usize> = self.instant.borrow_and_update()[self.instant_seen..].to_vec();
        self.instant_seen += ids.len();
        let now = self.inner.recorder.now();
        for id in ids {
            let hit = self
                .inner
                .lock()
                .rules
                .claim_open_watch(id, now, &self.info());
            match hit {
                Some(OpenWatchHit::Cut(how)) if self.cut.is_none() => self.cut = Some(how),
                Some(OpenWatchHit::Stall) => self.stalled = true,
                _ => {}
            }
        }
    }

    fn finish(&mut self, reason: WatchEnd) {
        if !self.ended {
            self.ended = true;
            self.leave_fanout();
            self.record_end(reason);
        }
    }

    /// Stops changes coming: the watch has ended or will never send again.
    fn leave_fanout(&mut self) {
        if let Some((id, _)) = self.subscription.take() {
            self.inner.lock().fanout.unsubscribe(id);
        }
        self.queued.clear();
    }

    fn record_end(&self, reason: WatchEnd) {
        self.inner.recorder.record(TraceKind::WatchEnded {
            request: self.request,
            reason,
            events: self.events,
        });
    }
}

/// The next change handed to this watch; never, once it has left the fan-out.
async fn next_change(subscription: &mut Option<(u64, Inbox)>) -> Arc<Change> {
    if let Some((_, inbox)) = subscription
        && let Some(change) = inbox.recv().await
    {
        return change;
    }
    futures::future::pending().await
}

/// The trace form of an object event.
fn object_event(type_: SentType, key: String, resource_version: u64) -> SentEvent {
    SentEvent {
        type_,
        key: Some(key),
        resource_version: Some(resource_version),
        damaged: None,
    }
}

/// The trace form of a bookmark carrying `resource_version` (`None`: an empty one).
fn bookmark_event(type_: SentType, resource_version: Option<u64>) -> SentEvent {
    SentEvent {
        type_,
        key: None,
        resource_version,
        damaged: None,
    }
}

async fn sleep_until_some(recorder: &Recorder, at: Option<Duration>) {
    match at {
        Some(at) => recorder.sleep_until(at).await,
        None => futures::future::pending().await,
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A restart with downtime closes the connection, and which of the two this watch's
        // task hears first is the scheduler's: either way it was cut by the restart.
        let restarted =
            self.cut == Some(Cut::Reset) || self.restarts.has_changed().unwrap_or(false);
        let reason = if self.stalled {
            WatchEnd::Stalled
        } else if restarted {
            WatchEnd::Cut {
                how: "reset".into(),
            }
        } else {
            WatchEnd::ClientGone
        };
        self.finish(reason);
    }
}
