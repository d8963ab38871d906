//! One watch as a state machine: its [`Phase`] in life, moved by methods, over its parts — the
//! feed of changes, the bookmark clock, the outbox and the stream faults that hit it — and
//! [`Session::next_line`], which hands the response body its next bytes in a fixed order of
//! priorities ([`Session::step`]).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::bookmark_clock::{BookmarkClock, lifetime};
use super::event_lines::EventLines;
use super::feed::Feed;
use super::hits::{Blow, Hits};
use super::opening::Opening;
use super::options::WatchOptions;
use super::outbox::{Outbox, bare_event, malformed, object_event};
use crate::apiserver::alarm::{Listener, News};
use crate::apiserver::cache::retry_after_unready;
use crate::apiserver::fanout::Filter;
use crate::apiserver::history::Gone;
use crate::apiserver::query::{Query, Version};
use crate::apiserver::shared::{Shared, State};
use crate::apiserver::status::Status;
use crate::apiserver::wire::{Line, Wire};
use crate::fault::{BookmarkAction, RequestInfo, StreamFaults};
use crate::trace::{ClosedWhy, EventType, Recorder, SentEvent, TraceKind, Verb, WatchEnd};

/// How long a `mid_chunk` cut waits between sending half a line and closing.
const FLUSH_PAUSE: Duration = Duration::from_millis(1);

/// Where a watch is in its life.
#[derive(Debug)]
enum Phase {
    /// Sending what it owes, then waiting for more.
    Open,
    /// Sends what is queued, then ends for this reason.
    Ending(WatchEnd),
    /// Half of a line went out and its end is recorded: the connection is cut next.
    Aborting,
    /// Its end is recorded: the body ends.
    Ended,
}

/// What [`Session::next_line`] does next.
enum Step {
    /// Hands the body these bytes.
    Send(Bytes),
    /// Ends the body cleanly.
    Close,
    /// Cuts the connection, after a pause when half a line must reach the wire first.
    Cut { flush_first: bool },
    /// Never sends again: the connection stays open.
    Hang,
    /// Reads the changes due, and waits when there are none.
    Read,
}

pub(super) struct Session {
    inner: Arc<Shared>,
    lines: EventLines,
    request: u64,
    path: String,
    query: String,
    /// The resourceVersion it was asked from, when it names one.
    resource_version: Option<u64>,
    /// The watch cache serves it: etcd's errors never reach it.
    from_watch_cache: bool,
    feed: Feed,
    clock: BookmarkClock,
    outbox: Outbox,
    /// ERROR events leave out the Status `code` (a `watch_410` fault with `code: false`).
    without_code: bool,
    phase: Phase,
    hits: Hits,
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
        let unready = inner.lock().cache.as_ref().and_then(|c| c.unready(now));
        if let Some(downtime) = unready {
            return Err(Box::new(
                Status::too_many_requests().with_retry_after(retry_after_unready(downtime)),
            ));
        }
        let lifetime = lifetime(options.timeout, || inner.lock().rng.f64());
        let faults = match opening {
            Opening::Normal | Opening::WithoutCode => inner.lock().rules.on_watch_start(now, info),
            Opening::Empty => StreamFaults::default(),
        };
        let bookmarks = options.allow_bookmarks && inner.spec.watch_cache;
        let mut session = Self {
            alarms: inner.alarms.listen(),
            lines: EventLines {
                inner: Arc::clone(&inner),
                filter: Arc::new(Filter {
                    namespace,
                    selector: options.selector.clone(),
                }),
                metadata_only: query.metadata_only,
                table: query.table,
                columns_sent: std::cell::Cell::new(false),
            },
            request,
            path: info.path.to_owned(),
            query: info.query.to_owned(),
            resource_version: info.resource_version,
            from_watch_cache: info.from_watch_cache,
            feed: Feed::default(),
            clock: BookmarkClock::new(bookmarks, inner.spec.bookmark_interval, now, now + lifetime),
            outbox: Outbox::new(options.version.revision().unwrap_or(0)),
            without_code: matches!(opening, Opening::WithoutCode),
            phase: Phase::Open,
            hits: Hits::at_start(&faults),
            inner,
        };
        if matches!(opening, Opening::Empty) {
            session.end_after_queued(WatchEnd::Empty);
        } else {
            session.begin(&options, faults.drop_end_marker);
        }
        Ok(session)
    }

    /// Queues what the watch starts with and joins the fan-out: the history after the revision
    /// it resumes from, or the state as synthetic ADDEDs.
    fn begin(&mut self, options: &WatchOptions, drop_end_marker: bool) {
        let inner = Arc::clone(&self.inner);
        let mut state = inner.lock();
        let current = state.store.revision();
        inner.recorder.record(TraceKind::WatchOpened {
            request: self.request,
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
                    self.fail(gone.status(n));
                    return;
                }
                self.feed = Feed::resumed(n, current);
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
                        let sent = object_event(EventType::Added, o.key(), o.resource_version);
                        (self.lines.event(EventType::Added, o), sent)
                    })
                    .collect();
                self.push_events(&mut state, lines);
                self.feed = Feed::after_snapshot(current);
                if send_initial && options.allow_bookmarks && !drop_end_marker {
                    let line = self.lines.wire().bookmark(current, true);
                    let sent = bare_event(EventType::InitialEventsEnd, Some(current));
                    self.outbox.push(line, sent);
                }
            }
        }
        // In the same lock as the snapshot above: no change is missed or sent twice.
        self.feed
            .subscribe(&mut state.fanout, Arc::clone(&self.lines.filter));
    }

    /// The next bytes of the body: `None` ends it cleanly, `Err` cuts the connection.
    pub(super) async fn next_line(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            match self.step() {
                Step::Send(bytes) => return Some(Ok(bytes)),
                Step::Close => return None,
                Step::Cut { flush_first } => {
                    if flush_first {
                        // hyper buffers the half line and would poll the body again before
                        // writing it: give it a moment, so the line is cut on the wire and
                        // not in a buffer.
                        let recorder = &self.inner.recorder;
                        recorder.sleep_until(recorder.now() + FLUSH_PAUSE).await;
                    }
                    return self.cut_off();
                }
                // Half-open: nothing more, ever; hyper drops the body when the client leaves.
                Step::Hang => return futures::future::pending().await,
                Step::Read => {
                    self.catch_up();
                    if self.outbox.is_empty() && matches!(self.phase, Phase::Open) {
                        self.wait().await;
                    }
                }
            }
        }
    }

    /// What comes next, first match wins: a body already over ends; half a line sent is cut
    /// off; then the blows of stream faults (a reset, a clean cut, a stall); then the queued
    /// lines, the first cut in half by a `mid_chunk` cut; then the end the watch was heading
    /// for; and only then reading and waiting.
    fn step(&mut self) -> Step {
        match self.phase {
            Phase::Ended => return Step::Close,
            Phase::Aborting => return Step::Cut { flush_first: true },
            Phase::Open | Phase::Ending(_) => {}
        }
        let blow = self.hits.blow();
        match blow {
            Some(Blow::Reset) => return Step::Cut { flush_first: false },
            Some(Blow::Clean) => {
                self.outbox.clear();
                self.finish(WatchEnd::Cut {
                    how: "clean".into(),
                });
                return Step::Close;
            }
            Some(Blow::Stall) => {
                self.outbox.clear();
                self.leave_fanout();
                return Step::Hang;
            }
            Some(Blow::MidChunk) | None => {}
        }
        if blow == Some(Blow::MidChunk)
            && let Some((half, sent)) = self.outbox.next_half()
        {
            self.record_sent(sent);
            self.finish(WatchEnd::Cut {
                how: "mid_chunk".into(),
            });
            self.phase = Phase::Aborting;
            return Step::Send(half);
        }
        if let Some(chunk) = self.outbox.next_chunk() {
            for sent in chunk.sent {
                self.record_sent(sent);
            }
            return Step::Send(chunk.bytes);
        }
        if let Phase::Ending(reason) = std::mem::replace(&mut self.phase, Phase::Open) {
            self.finish(reason);
            return Step::Close;
        }
        Step::Read
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
                    let (damaged, damage) = malformed(line, shape);
                    sent.damaged = Some(damage);
                    (damaged, sent)
                }
            })
            .collect();
        for (line, sent) in shaped {
            self.outbox.push(line, sent);
        }
    }

    /// Sends what is queued, then ends for `reason`.
    fn end_after_queued(&mut self, reason: WatchEnd) {
        self.phase = Phase::Ending(reason);
    }

    /// Ends the watch with one ERROR event carrying `status`.
    fn fail(&mut self, status: Status) {
        let status = if self.without_code {
            status.without_code()
        } else {
            status
        };
        self.outbox
            .push(Wire::error(&status), bare_event(EventType::Error, None));
        self.end_after_queued(WatchEnd::Error {
            code: status.code,
            reason: status.reason.to_owned(),
            message: status.message.clone(),
        });
    }

    /// Moves the changes due into the outbox, a chunk's worth at a time so that a long backlog
    /// starts flowing at once; or ends the watch when the history it reads was taken from under
    /// it. Held back while a `latency` fault delays this watch's events.
    fn catch_up(&mut self) {
        let now = self.inner.recorder.now();
        let inner = Arc::clone(&self.inner);
        let mut state = inner.lock();
        let read = self.feed.read(
            now,
            &state,
            |change| self.lines.line_for(change),
            |(line, _)| line.len(),
        );
        match read {
            Ok(lines) => self.push_events(&mut state, lines),
            Err(Gone::Cache { .. }) => {
                // The cacher ends the watch without an ERROR event; the re-watch hears the 410
                // (`processInterval` in apiserver `cacher/cache_watcher.go`).
                drop(state);
                self.end_after_queued(WatchEnd::Closed {
                    why: ClosedWhy::OutOfWindow,
                });
            }
            Err(gone @ Gone::Etcd) => {
                drop(state);
                self.fail(gone.status(self.feed.cursor()));
            }
        }
    }

    fn record_sent(&mut self, event: SentEvent) {
        self.inner.recorder.record(TraceKind::Sent {
            request: self.request,
            event,
        });
    }

    /// Ends the body with an error, so hyper closes the connection without the final chunk.
    fn cut_off(&mut self) -> Option<io::Result<Bytes>> {
        match self.phase {
            Phase::Ended => return None,
            Phase::Aborting => {}
            Phase::Open | Phase::Ending(_) => self.finish(WatchEnd::Cut {
                how: "reset".into(),
            }),
        }
        self.phase = Phase::Ended;
        self.hits.spent();
        Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "cut_stream: the connection is cut",
        )))
    }

    /// Waits for the next thing that can happen to this watch: a fault, a change, its
    /// deadline, the end of a hold on its changes, or its next bookmark.
    async fn wait(&mut self) {
        let bookmark_at = self.clock.next();
        let held = self.feed.held();
        let deadline = self.clock.deadline();
        let recorder = self.inner.recorder.clone();
        tokio::select! {
            biased;
            news = self.alarms.next() => self.hear(news),
            change = self.feed.next_change() => {
                self.feed.enqueue(change);
                if self.feed.held().is_none() {
                    let now = recorder.now();
                    let delay = self.inner.lock().rules.event_delay(now, &self.info());
                    self.feed.hold(delay.map(|d| now + d));
                }
            }
            () = recorder.sleep_until(deadline) => self.end_after_queued(WatchEnd::Timeout),
            () = sleep_until_some(&recorder, held) => {}
            () = sleep_until_some(&recorder, bookmark_at) => {
                let at = bookmark_at.expect("sleep_until_some only wakes for Some");
                self.send_bookmark();
                self.clock.schedule(at);
            }
        }
    }

    /// A fault for open watches reached this one.
    fn hear(&mut self, news: News) {
        match news {
            News::Restart => self.hits.restart(),
            News::Expiry => self.expired(),
            News::Strikes(ids) => {
                let now = self.inner.recorder.now();
                for id in ids {
                    let hit = self
                        .inner
                        .lock()
                        .rules
                        .claim_open_watch(id, now, &self.info());
                    if let Some(hit) = hit {
                        self.hits.hit(hit);
                    }
                }
            }
        }
    }

    fn send_bookmark(&mut self) {
        let now = self.inner.recorder.now();
        let action = self.inner.lock().rules.bookmark(now);
        // While events are held back or still queued, a bookmark must not promise revisions not
        // yet sent.
        if self.feed.held().is_none() {
            self.catch_up();
        }
        let current = self.inner.lock().store.revision();
        let revision = self.feed.bookmark_revision(current);
        if revision <= self.feed.start() {
            return;
        }
        let wire = self.lines.wire();
        let (line, carried) = match action {
            BookmarkAction::Pass => (wire.bookmark(revision, false), Some(revision)),
            BookmarkAction::Drop(_) => return,
            BookmarkAction::Stale(old) => {
                let old = old.min(revision);
                (wire.bookmark(old, false), Some(old))
            }
            BookmarkAction::Empty => (wire.bookmark_at(String::new(), false), None),
        };
        self.outbox
            .push(line, bare_event(EventType::Bookmark, carried));
    }

    /// History was taken away at once (`expire_watches`, `watch_410`): a cached resource's
    /// watch cache re-listed and ends every watch cleanly; without a cache, etcd cancels a
    /// watch whose client now holds a compacted resourceVersion with a 410, and leaves the
    /// others be.
    fn expired(&mut self) {
        if self.inner.spec.watch_cache {
            self.feed.forget();
            self.end_after_queued(WatchEnd::Closed {
                why: ClosedWhy::CacheReset,
            });
        } else if self.outbox.position() < self.inner.lock().floors().watch {
            self.feed.forget();
            self.fail(Gone::Etcd.status(self.outbox.position()));
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

    /// Records the end once, for `reason`, and stops changes coming.
    fn finish(&mut self, reason: WatchEnd) {
        if matches!(self.phase, Phase::Ended | Phase::Aborting) {
            return;
        }
        self.phase = Phase::Ended;
        self.leave_fanout();
        self.inner.recorder.record(TraceKind::WatchEnded {
            request: self.request,
            reason,
            events: self.outbox.queued(),
        });
    }

    /// Stops changes coming: the watch has ended or will never send again.
    fn leave_fanout(&mut self) {
        if let Some(id) = self.feed.leave() {
            self.inner.lock().fanout.unsubscribe(id);
        }
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
        let reason = self.hits.end_when_dropped(self.alarms.restart_unheard());
        self.finish(reason);
    }
}
