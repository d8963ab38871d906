//! One watch: what it has delivered, what it owes, when it ends, and the faults that hit it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::bookmark_clock::BookmarkClock;
use super::event_lines::{EventLines, keyless_event, object_event};
use super::feed::{Feed, Lost, watcher_buffer};
use super::opening::Opening;
use super::options::WatchOptions;
use super::outbox::{Outbox, malformed};
use super::phase::Phase;
use crate::apiserver::alarm::{Listener, News};
use crate::apiserver::cache::retry_after_unready;
use crate::apiserver::fanout::Filter;
use crate::apiserver::history::Gone;
use crate::apiserver::query::{Query, Version};
use crate::apiserver::shared::{Shared, State};
use crate::apiserver::status::Status;
use crate::apiserver::wire::{Line, Wire};
use crate::fault::{
    BookmarkAction, Cut, FaultKind, OpenWatchHit, RequestInfo, StreamError, StreamFaults,
    WatchRequest,
};
use crate::trace::{
    ClosedWhy, Damage, EventType, EventType as SentType, SentEvent, TraceKind, WatchEnd,
};

/// Without `timeoutSeconds`, the apiserver picks `minRequestTimeout * (1 + rand[0,1))` with
/// `--min-request-timeout` 1800 s: 30 to 60 minutes (apiserver `endpoints/handlers/get.go`).
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);
/// How long a `mid_chunk` cut waits between sending half a line and closing.
const FLUSH_PAUSE: Duration = Duration::from_millis(1);
/// Longest `timeoutSeconds` honoured, so deadlines cannot overflow.
const MAX_TIMEOUT_SECONDS: u64 = 365 * 24 * 3600;

pub(super) struct Session {
    inner: Arc<Shared>,
    /// Where it is in its life.
    phase: Phase,
    /// How it writes its events.
    lines: EventLines,
    request: u64,
    /// What it was asked, for the fault rules.
    asked: WatchRequest,
    /// What it reads its events from.
    feed: Feed,
    /// The resourceVersion the client would resume from: its start, then the last one an
    /// event or bookmark it was sent carried.
    position: u64,
    /// Virtual times, converted to tokio instants only to sleep (see `Recorder`).
    bookmarks: BookmarkClock,
    deadline: Duration,
    /// Lines to send, each with what it is for the trace.
    outbox: Outbox,
    /// ERROR events leave out the Status `code` (a `watch_410` fault with `code: false`).
    without_code: bool,
    faults: StreamFaults,
    /// A cut waiting to happen, and the kind of fault behind it; `MidChunk` waits for a line
    /// to cut.
    cut: Option<(Cut, FaultKind)>,
    /// Changes are held back until then (`latency` on events).
    hold_until: Option<Duration>,
    /// Where faults reach it while it is open.
    alarms: Listener,
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
        let unready = inner
            .lock()
            .cache(query.replica)
            .and_then(|c| c.unready(now));
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
            Opening::Normal | Opening::WithoutCode | Opening::NotFresh { .. } => {
                // Only the watch cache checks what etcd can do; without one, etcd's own watcher
                // serves a streaming list (apiserver `storage/etcd3/watcher.go`).
                let list_watch =
                    options.send_initial && options.allow_bookmarks && inner.spec.watch_cache;
                inner.lock().rules.on_watch_start(now, info, list_watch)
            }
            Opening::Empty => StreamFaults::default(),
        };
        let filter = Filter {
            namespace,
            selector: options.selector.clone(),
        };
        let bookmarks = options.allow_bookmarks && inner.spec.watch_cache;
        let interval = inner.spec.bookmark_interval;
        let mut session = Self {
            alarms: inner.alarms.listen(),
            request,
            phase: if faults.stall {
                Phase::Stalled
            } else {
                Phase::Streaming
            },
            lines: EventLines::new(Arc::clone(&inner), query.metadata_only, query.table, filter),
            asked: WatchRequest::of(info),
            feed: Feed::on(query.replica),
            position: options.version.revision().unwrap_or(0),
            bookmarks: BookmarkClock::start(bookmarks, interval, now + timeout, now),
            deadline: now + timeout,
            outbox: Outbox::default(),
            without_code: matches!(opening, Opening::WithoutCode),
            cut: faults.cut.map(|how| (how, FaultKind::CutStream)),
            faults,
            hold_until: None,
            inner,
        };
        if matches!(opening, Opening::Empty) {
            session.phase.end_with(WatchEnd::Empty);
            return Ok(session);
        }
        if let Some(error) = session.faults.error {
            session.inner.recorder.record(TraceKind::FaultHit {
                request: session.request,
                fault: FaultKind::WatchError,
            });
            session.fail(match error {
                StreamError::WatchProgressUnsupported => Status::watch_progress_unsupported(),
            });
            return Ok(session);
        }
        if let Opening::NotFresh { requested, current } = opening {
            session.fail(Status::too_large_resource_version(requested, current));
            return Ok(session);
        }
        // A watch that opens inside a stall's or a cut's window is hit as it starts.
        for fault in session.faults.hit_at_start(options.send_initial) {
            session.inner.recorder.record(TraceKind::FaultHit {
                request: session.request,
                fault,
            });
        }
        session.start_feed(&options);
        Ok(session)
    }

    /// Where the watch's events start: the history after the resourceVersion it names (or a
    /// 410 when that is gone), or the state as synthetic ADDEDs; then its place in the fan-out.
    fn start_feed(&mut self, options: &WatchOptions) {
        let inner = Arc::clone(&self.inner);
        let (mut state, id) = (inner.lock(), self.feed.replica());
        let current = state.revision_of(id);
        inner.recorder.record(TraceKind::WatchOpened {
            request: self.request,
            from: match (options.version, options.send_initial) {
                (Version::At(n), false) => Some(n),
                _ => None,
            },
            floor: state.floors(id).watch,
            revision: current,
        });
        match (options.version, options.send_initial) {
            (Version::At(n), false) => {
                if let Some(gone) = state.watch_changes(id, n).err() {
                    // Too old: 200, one ERROR event, end of stream (reference §2.5).
                    drop(state);
                    self.fail(gone.status(n));
                    return;
                }
                self.feed.start_at(n, (n < current).then_some(current));
            }
            (_, send_initial) => {
                // The state as synthetic ADDEDs in key order, then changes (reference §2.7). A
                // streaming list ends them with the annotated bookmark when bookmarks are
                // allowed (`isListWatchRequest`; reference §3).
                let lines: Vec<(Line, SentEvent)> = state
                    .store
                    .state_at(current)
                    .into_iter()
                    .filter(|o| self.lines.filter.sees(o))
                    .map(|o| {
                        let sent = object_event(SentType::Added, o.key(), o.resource_version);
                        (self.lines.event(EventType::Added, o), sent)
                    })
                    .collect();
                self.push_events(&mut state, lines);
                self.feed.start_initial(current);
                if send_initial && options.allow_bookmarks && !self.faults.drop_end_marker {
                    let line = self.wire().bookmark(current, true);
                    self.push(
                        line,
                        keyless_event(SentType::InitialEventsEnd, Some(current)),
                    );
                }
            }
        }
        // In the same lock as the snapshot above: no change is missed or sent twice.
        let watch_list = options.send_initial && options.allow_bookmarks;
        let buffer = watcher_buffer(&inner, &state, (&options.selector, id), watch_list);
        let subscription = (state.replicas.get_mut(id).fanout)
            .subscribe(Arc::clone(&self.lines.filter), buffer.clone());
        self.feed.subscribe(subscription, buffer);
    }

    fn wire(&self) -> &Wire {
        self.lines.wire()
    }

    fn push(&mut self, line: impl Into<Line>, sent: SentEvent) {
        self.outbox.push(line.into(), sent);
    }

    /// Queues object events, each malformed if a `malformed_event` rule says so.
    fn push_events(&mut self, state: &mut State, lines: Vec<(Line, SentEvent)>) {
        let now = self.inner.recorder.now();
        let info = self.asked.info();
        let shaped: Vec<(Line, SentEvent)> = lines
            .into_iter()
            .map(|(line, mut sent)| match state.rules.malform(now, &info) {
                None => (line, sent),
                Some(shape) => {
                    let (damaged, damage) = malformed(line, shape);
                    sent.damaged = Some(damage);
                    (damaged, sent)
                }
            })
            .collect();
        for (line, sent) in shaped {
            self.push(line, sent);
        }
    }

    /// Ends the watch with one ERROR event carrying `status`.
    fn fail(&mut self, status: Status) {
        let status = status.without_code_if(self.without_code);
        self.push(Wire::error(&status), keyless_event(SentType::Error, None));
        self.phase.end_with(WatchEnd::Error {
            code: status.code,
            reason: status.reason.to_owned(),
            message: status.message.clone(),
        });
    }

    /// Moves the next chunk's worth of what the feed owes into the outbox; or ends the watch
    /// as the feed says when its history was compacted away first. Held back while a
    /// `latency` fault delays this watch's events.
    fn catch_up(&mut self) {
        if self
            .hold_until
            .is_some_and(|t| self.inner.recorder.now() < t)
        {
            return;
        }
        self.hold_until = None;
        self.feed.drain_inbox();
        let inner = Arc::clone(&self.inner);
        let mut state = inner.lock();
        match self.feed.read(&state, &self.lines) {
            Ok(lines) => {
                self.push_events(&mut state, lines);
                self.feed.settle(state.revision_of(self.feed.replica()));
            }
            Err(Lost::OutOfWindow) => {
                drop(state);
                self.phase.end_with(WatchEnd::Closed {
                    why: ClosedWhy::OutOfWindow,
                });
            }
            Err(Lost::Compacted(cursor)) => {
                drop(state);
                self.fail(Gone::Etcd.status(cursor));
            }
        }
    }

    /// The watch cache closed this watch as unresponsive (`watcher_buffer.rs`): the `keep`
    /// oldest lines it owes still go out, the rest are dropped, and the response ends.
    fn close_unresponsive(&mut self, keep: usize) {
        let inner = Arc::clone(&self.inner);
        let mut state = inner.lock();
        let owed = keep.saturating_sub(self.outbox.len());
        let lines = self.feed.last_lines(owed, &state, &self.lines);
        self.push_events(&mut state, lines);
        drop(state);
        self.outbox.keep_oldest(keep);
        self.phase.end_with(WatchEnd::Closed {
            why: ClosedWhy::Unresponsive,
        });
    }

    /// The next bytes of the body: `None` ends it cleanly, `Err` cuts the connection. In this
    /// order: a reset after half a line, a cut, a stall, the lines owed, the end reached.
    pub(super) async fn next_line(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            if self.phase == Phase::Cutting {
                // hyper buffers the half line and would poll the body again before writing
                // it: give it a moment, so the line is cut on the wire and not in a buffer.
                let recorder = &self.inner.recorder;
                recorder.sleep_until(recorder.now() + FLUSH_PAUSE).await;
                return self.cut_off();
            }
            match self.cut {
                Some((Cut::Reset, _)) => return self.cut_off(),
                Some((Cut::Clean, by)) => {
                    self.outbox.clear();
                    self.finish(WatchEnd::Cut {
                        how: Cut::Clean,
                        by: Some(by),
                    });
                    return None;
                }
                Some((Cut::MidChunk, _)) | None => {}
            }
            if let Some(keep) = self.feed.closed_keeping()
                && self.phase == Phase::Streaming
            {
                self.close_unresponsive(keep);
            }
            if self.phase == Phase::Stalled {
                self.outbox.clear();
                self.leave_fanout();
                // Half-open: nothing more, ever; hyper drops the body when the client leaves.
                return futures::future::pending().await;
            }
            if let Some((line, sent)) = self.outbox.pop() {
                return Some(Ok(self.send(line, sent)));
            }
            if let Some(reason) = self.phase.take_end() {
                self.finish(reason);
                return None;
            }
            if self.phase == Phase::Ended {
                return None;
            }
            self.catch_up();
            if !self.outbox.is_empty() || matches!(self.phase, Phase::Ending(_)) {
                continue;
            }
            self.feed.park(true);
            self.wait().await;
            self.feed.park(false);
        }
    }

    /// `line` and those queued behind it as one chunk, or half of it when a `mid_chunk` cut
    /// is waiting for a line to cut.
    fn send(&mut self, line: Line, mut sent: SentEvent) -> Bytes {
        if let Some((Cut::MidChunk, by)) = self.cut {
            sent.damaged = Some(Damage::Cut);
            self.record_sent(sent);
            self.finish(WatchEnd::Cut {
                how: Cut::MidChunk,
                by: Some(by),
            });
            self.phase = Phase::Cutting;
            let line = line.into_bytes();
            return line.slice(..line.len() / 2);
        }
        let first = sent.type_;
        self.record_sent(sent);
        let mut along = Vec::new();
        let chunk = self.outbox.chunk(line, first, |event| along.push(event));
        for event in along {
            self.record_sent(event);
        }
        chunk
    }

    fn record_sent(&mut self, event: SentEvent) {
        self.feed.sent(&event);
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
        match self.phase {
            Phase::Ended => return None,
            Phase::Cutting => {}
            Phase::Streaming | Phase::Stalled | Phase::Ending(_) => {
                self.leave_fanout();
                self.record_end(WatchEnd::Cut {
                    how: Cut::Reset,
                    by: self.cut.map(|(_, by)| by),
                });
            }
        }
        self.phase = Phase::Ended;
        self.cut = None;
        Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "cut_stream: the connection is cut",
        )))
    }

    /// Waits for the next thing that can happen to this watch.
    async fn wait(&mut self) {
        let bookmark_at = self.bookmarks.next();
        let hold_until = self.hold_until;
        let recorder = self.inner.recorder.clone();
        tokio::select! {
            biased;
            news = self.alarms.next() => match news {
                News::Restart => self.cut = Some((Cut::Reset, FaultKind::Restart)),
                News::Failover(to) if to != self.feed.replica().0 => {
                    self.cut = Some((Cut::Reset, FaultKind::Failover));
                }
                News::Failover(_) => {}
                News::Expiry(at) if at.contains(&None) || at.contains(&Some(self.feed.replica().0)) => {
                    self.expired();
                }
                News::Expiry(_) => {}
                News::Strikes(ids) => self.claim_instant_faults(ids),
            },
            change = self.feed.next_change() => {
                self.feed.enqueue(change);
                if self.hold_until.is_none() {
                    let now = recorder.now();
                    let delay = self.inner.lock().rules.event_delay(now, &self.asked.info());
                    self.hold_until = delay.map(|d| now + d);
                }
            }
            () = recorder.sleep_until(self.deadline) => {
                self.phase.end_with(WatchEnd::Timeout);
            }
            () = recorder.sleep_until_some(hold_until) => {}
            () = recorder.sleep_until_some(bookmark_at) => {
                let at = bookmark_at.expect("sleep_until_some only wakes for Some");
                self.send_bookmark();
                self.bookmarks.schedule(at);
            }
        }
    }

    fn send_bookmark(&mut self) {
        let now = self.inner.recorder.now();
        let action = self.inner.lock().rules.bookmark(now);
        if action == BookmarkAction::Early && self.send_early_bookmark() {
            return;
        }
        // While events are held back or still queued, a bookmark must not promise revisions not
        // yet sent.
        if self.hold_until.is_none() {
            self.catch_up();
        }
        let revision = if self.hold_until.is_some() || self.feed.is_behind() {
            self.feed.cursor()
        } else {
            let revision = self.inner.lock().revision_of(self.feed.replica());
            self.feed.delivered_up_to(revision);
            revision
        };
        if revision <= self.feed.start() {
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
            BookmarkAction::Early => (self.wire().bookmark(revision, false), Some(revision)),
        };
        self.push(line, keyless_event(SentType::Bookmark, carried));
    }

    /// An `early_bookmarks` bookmark: the server's revision now, sent ahead of the events
    /// still owed, which come after it. Returns whether any were owed; if none were, it is
    /// an ordinary bookmark and the fault did not act.
    fn send_early_bookmark(&mut self) -> bool {
        self.feed.drain_inbox();
        if self.hold_until.is_none() && !self.feed.is_behind() {
            return false;
        }
        let revision = self.inner.lock().revision_of(self.feed.replica());
        if revision <= self.feed.start() {
            return false;
        }
        self.inner.recorder.record(TraceKind::FaultHit {
            request: self.request,
            fault: FaultKind::EarlyBookmarks,
        });
        let line = self.wire().bookmark(revision, false);
        self.push(line, keyless_event(SentType::Bookmark, Some(revision)));
        true
    }

    /// History was taken away at once (`expire_watches`, `watch_410`): a cached resource's
    /// watch cache re-listed and ends every watch cleanly; without a cache, etcd cancels a
    /// watch whose client now holds a compacted resourceVersion with a 410, and leaves the
    /// others be.
    fn expired(&mut self) {
        if self.inner.spec.watch_cache {
            self.feed.forget();
            self.phase.end_with(WatchEnd::Closed {
                why: ClosedWhy::CacheReset,
            });
        } else if self.position < self.inner.lock().floors(self.feed.replica()).watch {
            self.feed.forget();
            self.fail(Gone::Etcd.status(self.position));
        }
    }

    /// Claims the `cut_stream` / `stall_stream` rules raised while it was open.
    fn claim_instant_faults(&mut self, ids: Vec<usize>) {
        let now = self.inner.recorder.now();
        for id in ids {
            let hit = self
                .inner
                .lock()
                .rules
                .claim_open_watch(id, now, &self.asked.info());
            match hit {
                Some(OpenWatchHit::Cut(how)) if self.cut.is_none() => {
                    self.cut = Some((how, FaultKind::CutStream));
                }
                Some(OpenWatchHit::Stall) => self.phase.stall(),
                _ => {}
            }
        }
    }

    /// Records the watch's end, once.
    fn finish(&mut self, reason: WatchEnd) {
        if !self.phase.is_over() {
            self.phase = Phase::Ended;
            self.leave_fanout();
            self.record_end(reason);
        }
    }

    /// Stops changes coming: the watch has ended or will never send again.
    fn leave_fanout(&mut self) {
        // The inbox is dropped only once the watch is out of the fan-out, as it always was:
        // dropping it first changes how the run's last instant is scheduled (one more request
        // after a storm in expired-continue's snapshot), though no line of any watch changes.
        if let Some((id, _inbox)) = self.feed.leave() {
            let replica = self.feed.replica();
            self.inner
                .lock()
                .replicas
                .get_mut(replica)
                .fanout
                .unsubscribe(id);
        }
    }

    fn record_end(&self, reason: WatchEnd) {
        self.inner.recorder.record(TraceKind::WatchEnded {
            request: self.request,
            reason,
            events: self.outbox.queued(),
        });
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A restart with downtime closes the connection, and which of the two this watch's
        // task hears first is the scheduler's: either way it was cut by the restart.
        // A stalled watch a restart ends was cut by it: the client hears the connection go.
        let restarted = matches!(self.cut, Some((Cut::Reset, FaultKind::Restart)))
            || self.alarms.restart_unheard();
        self.finish(self.phase.end_when_dropped(restarted));
    }
}
