//! WATCH: one newline-delimited JSON event per line over a chunked 200 response
//! (reference §2), with bookmarks, `timeoutSeconds`, streaming lists, selectors and the 410
//! forms for compacted revisions.
//!
//! Each watch is a [`Session`] that the response body polls: no task per watch, and when the
//! client goes away hyper drops the body and the session records how it ended.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::watch;

use super::body::Body;
use super::query::{Query, Version};
use super::server::Inner;
use super::status::{FieldError, FieldErrorKind, Status};
use super::store::{Change, StoredObject};
use super::wire::{EventType, Wire};
use crate::fault::Action;
use crate::selector::Selector;
use crate::trace::{Recorder, TraceKind, WatchEnd};

/// A bookmark goes out this long before the watch deadline, so a client that reconnects resumes
/// from a fresh revision (`nextBookmarkTime` in apiserver `cacher/cache_watcher.go`).
const BOOKMARK_BEFORE_DEADLINE: Duration = Duration::from_secs(2);
/// Without `timeoutSeconds`, the apiserver picks `minRequestTimeout * (1 + rand[0,1))` with
/// `--min-request-timeout` 1800 s: 30 to 60 minutes (apiserver `endpoints/handlers/get.go`).
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

/// Starts a watch; errors found before the stream starts are plain HTTP errors (§2.2).
pub(super) fn start(
    inner: Arc<Inner>,
    request: u64,
    namespace: Option<String>,
    query: &Query,
) -> Response<Body> {
    match Session::open(inner, request, namespace, query) {
        Ok(session) => {
            let stream = futures::stream::unfold(session, |mut session| async move {
                session
                    .next_line()
                    .await
                    .map(|line| (Ok::<_, std::io::Error>(Frame::data(line)), session))
            });
            Response::builder()
                .status(200)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-cache, private")
                .body(StreamBody::new(stream.boxed()).boxed_unsync())
                .expect("the response head is valid")
        }
        Err(status) => status.into_response(),
    }
}

struct Session {
    inner: Arc<Inner>,
    request: u64,
    namespace: Option<String>,
    selector: Selector,
    /// The last revision this watch has delivered up to.
    cursor: u64,
    bookmarks: bool,
    /// Virtual times, converted to tokio instants only to sleep (see `Recorder`).
    next_bookmark: Option<Duration>,
    deadline: Duration,
    pending: VecDeque<Bytes>,
    /// Why the stream ends once `pending` drains.
    ending: Option<WatchEnd>,
    ended: bool,
    events: u64,
    revisions: watch::Receiver<u64>,
    expiry: watch::Receiver<u64>,
}

impl Session {
    fn open(
        inner: Arc<Inner>,
        request: u64,
        namespace: Option<String>,
        query: &Query,
    ) -> Result<Self, Box<Status>> {
        let bad = |message: String| Box::new(Status::bad_request(message));
        let version = Version::parse(query.get("resourceVersion")).map_err(bad)?;
        let selector =
            Selector::parse(query.get("labelSelector"), query.get("fieldSelector")).map_err(bad)?;
        let timeout = query
            .integer("timeoutSeconds")
            .map_err(bad)?
            .filter(|t| *t > 0);
        let send_initial = query
            .get("sendInitialEvents")
            .map(|_| query.flag("sendInitialEvents"));
        let rv_match = query.get("resourceVersionMatch").filter(|m| !m.is_empty());
        if send_initial.is_some() && !inner.spec.watch_list {
            return Err(Box::new(Status::invalid_list_options(&[FieldError {
                field: "sendInitialEvents",
                kind: FieldErrorKind::Forbidden,
                detail: "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled".into(),
            }])));
        }
        match (send_initial, rv_match) {
            (Some(_), m) if m != Some("NotOlderThan") => {
                return Err(Box::new(Status::invalid_list_options(&[FieldError {
                    field: "resourceVersionMatch",
                    kind: FieldErrorKind::Forbidden,
                    detail:
                        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
                            .into(),
                }])));
            }
            (None, Some(_)) => {
                return Err(Box::new(Status::invalid_list_options(&[FieldError {
                    field: "resourceVersionMatch",
                    kind: FieldErrorKind::Forbidden,
                    detail: "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided".into(),
                }])));
            }
            _ => {}
        }
        // With the WatchList gate on, a watch from ""/"0" that names neither parameter is
        // defaulted to a streaming list (`SetListOptionsDefaults` in apimachinery
        // `internalversion/defaults.go`): with bookmarks allowed it ends its initial events
        // with the annotated bookmark although the client never asked (reference §2.7).
        let send_initial = match (send_initial, rv_match, version) {
            (None, None, Version::Unset | Version::Zero) if inner.spec.watch_list => Some(true),
            _ => send_initial,
        };
        let now = inner.recorder.now();
        let timeout = match timeout {
            Some(seconds) => Duration::from_secs(
                u64::try_from(seconds)
                    .unwrap_or(u64::MAX / 4)
                    .min(365 * 24 * 3600),
            ),
            None => MIN_REQUEST_TIMEOUT.mul_f64(1.0 + inner.lock().rng.f64()),
        };
        let deadline = now + timeout;
        let bookmarks = query.flag("allowWatchBookmarks") && inner.spec.watch_cache;
        let mut session = Self {
            revisions: inner.revision.subscribe(),
            expiry: inner.expiry.subscribe(),
            request,
            namespace,
            selector,
            cursor: 0,
            bookmarks,
            next_bookmark: None,
            deadline,
            pending: VecDeque::new(),
            ending: None,
            ended: false,
            events: 0,
            inner,
        };
        session.expiry.mark_unchanged();
        session.schedule_bookmark(now);
        let inner = Arc::clone(&session.inner);
        let state = inner.lock();
        let current = state.store.revision();
        match (version, send_initial) {
            (Version::At(n), _) if n + 1 < state.store.compacted() => {
                // Too old: 200, one ERROR event, end of stream (reference §2.5).
                let floor = state.store.compacted();
                drop(state);
                session.fail_too_old(n, floor.saturating_sub(1));
            }
            (Version::At(n), None | Some(false)) => {
                drop(state);
                session.cursor = n;
            }
            (_, Some(true)) => {
                // A streaming list: the state as synthetic ADDEDs, then the annotated bookmark
                // when bookmarks are allowed (`isListWatchRequest`; reference §3).
                let lines = session.initial_events(&state.store.state_at(current));
                drop(state);
                session.pending.extend(lines);
                session.cursor = current;
                if query.flag("allowWatchBookmarks") {
                    session.push(session.inner.wire.bookmark(current, true));
                }
            }
            (Version::Unset | Version::Zero, _) => {
                // State as synthetic ADDEDs in key order, then changes (reference §2.7).
                let lines = session.initial_events(&state.store.state_at(current));
                drop(state);
                session.pending.extend(lines);
                session.cursor = current;
            }
        }
        Ok(session)
    }

    fn initial_events(&mut self, objects: &[&StoredObject]) -> Vec<Bytes> {
        let lines: Vec<Bytes> = objects
            .iter()
            .filter(|o| self.visible(o))
            .map(|o| {
                Bytes::from(
                    self.inner
                        .wire
                        .event(EventType::Added, o, o.resource_version),
                )
            })
            .collect();
        self.events += lines.len() as u64;
        lines
    }

    fn visible(&self, object: &StoredObject) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| object.namespace.as_ref() == Some(ns))
            && self
                .selector
                .matches(&object.name, object.namespace.as_deref(), &object.labels)
    }

    fn push(&mut self, line: Vec<u8>) {
        self.events += 1;
        self.pending.push_back(Bytes::from(line));
    }

    fn fail(&mut self, status: &Status) {
        self.push(Wire::error(status));
        self.ending = Some(WatchEnd::Error {
            code: status.code,
            reason: status.reason.to_owned(),
            message: status.message.clone(),
        });
    }

    /// Ends the watch with a 410 in this resource's wording: the watch cache names the
    /// requested and oldest-minus-one revisions, etcd (no cache: Events) does not (reference §2.5).
    fn fail_too_old(&mut self, requested: u64, oldest_minus_one: u64) {
        let status = if self.inner.spec.watch_cache {
            Status::watch_too_old_cache(requested, oldest_minus_one)
        } else {
            Status::watch_too_old_etcd()
        };
        self.fail(&status);
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
    fn line_for(&self, change: &Change) -> Option<Vec<u8>> {
        let before = change.before.as_ref().filter(|o| self.visible(o));
        let after = change.after.as_ref().filter(|o| self.visible(o));
        let wire = &self.inner.wire;
        match (before, after) {
            (None, Some(after)) => Some(wire.event(EventType::Added, after, change.revision)),
            (Some(_), Some(after)) => Some(wire.event(EventType::Modified, after, change.revision)),
            (Some(before), None) => Some(wire.event(EventType::Deleted, before, change.revision)),
            (None, None) => None,
        }
    }

    /// Moves every change after the cursor into `pending`, or ends the watch with a 410 when
    /// compaction took some of them (etcd cancels such a watcher).
    fn catch_up(&mut self) {
        let lines: Option<(Vec<Option<Vec<u8>>>, u64)> = {
            let state = self.inner.lock();
            state.store.changes_after(self.cursor).map(|changes| {
                (
                    changes.map(|c| self.line_for(c)).collect(),
                    state.store.revision(),
                )
            })
        };
        match lines {
            Some((lines, scanned)) => {
                // Caught up with every revision so far, this resource's or not: like a synced
                // etcd watcher, a later compaction cannot leave it behind.
                self.cursor = self.cursor.max(scanned);
                for line in lines.into_iter().flatten() {
                    self.push(line);
                }
            }
            None => {
                let floor = self.inner.lock().store.compacted();
                self.fail_too_old(self.cursor, floor.saturating_sub(1));
            }
        }
    }

    async fn next_line(&mut self) -> Option<Bytes> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(line);
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
            let bookmark_at = self.next_bookmark;
            tokio::select! {
                biased;
                changed = self.expiry.changed() => {
                    if changed.is_ok() {
                        let floor = self.inner.lock().store.revision();
                        self.fail_too_old(self.cursor, floor);
                    }
                }
                _ = self.revisions.changed() => {}
                () = self.inner.recorder.sleep_until(self.deadline) => {
                    self.ending = Some(WatchEnd::Timeout);
                }
                () = sleep_until_some(&self.inner.recorder, bookmark_at) => {
                    let at = bookmark_at.expect("sleep_until_some only wakes for Some");
                    let now = self.inner.recorder.now();
                    if self.inner.lock().rules.bookmark(now) == Action::Pass {
                        self.catch_up();
                        let revision = self.inner.lock().store.revision();
                        self.cursor = self.cursor.max(revision);
                        self.push(self.inner.wire.bookmark(revision, false));
                    }
                    self.schedule_bookmark(at);
                }
            }
        }
    }

    fn finish(&mut self, reason: WatchEnd) {
        if !self.ended {
            self.ended = true;
            self.inner.recorder.record(TraceKind::WatchEnded {
                request: self.request,
                reason,
                events: self.events,
            });
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
        self.finish(WatchEnd::ClientGone);
    }
}
