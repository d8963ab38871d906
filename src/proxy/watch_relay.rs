//! A watch relayed from the upstream to the client line by line (each event is one line), never
//! buffered whole, with the faults in force applied to each line on its way: bookmarks dropped
//! or altered, a line damaged or delayed, the stream cut or stalled. What went out is recorded
//! as the simulated server records what it sends, so the client is judged the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;

use super::shared::{OpenWatch, Shared};
use crate::apiserver::body::Body;
use crate::fault::{BookmarkAction, Cut, Malformed, OpenWatchHit, StreamFaults, WatchRequest};
use crate::trace::{ClosedWhy, Damage, EventType, SentEvent, TraceKind, WatchEnd};

/// Lines waiting for a slow client: past this the relay stops reading the upstream, and TCP
/// pushes back on the apiserver, as it would without the proxy.
const BUFFERED_LINES: usize = 16;

/// Wall time hyper gets to write a half line out before a `mid_chunk` cut aborts the connection.
const MID_CHUNK_FLUSH: Duration = Duration::from_millis(1);

/// What the reader got from the upstream.
enum Upstream {
    /// One event line, with its newline, and the virtual time it arrived.
    Line(Bytes, Duration),
    /// The upstream ended the stream cleanly.
    End,
    /// The upstream's connection broke.
    Broken(String),
}

/// One watch being relayed.
pub(super) struct RelayedWatch {
    pub(super) id: u64,
    /// What it asked, for the rules.
    pub(super) request: WatchRequest,
    /// `timeoutSeconds`, to tell a timeout from an early end.
    pub(super) timeout: Option<Duration>,
    /// The stream is JSON, one event a line. A protobuf stream (length-prefixed frames) is
    /// passed through as it comes: it can be cut, stalled or delayed, not read.
    pub(super) lines: bool,
    pub(super) faults: StreamFaults,
}

/// Starts relaying `upstream` (the body of a 200 to a watch) and returns the client's body.
pub(super) fn start(
    shared: Arc<Shared>,
    watch: RelayedWatch,
    upstream: kube::client::Body,
) -> Body {
    let (out, mut client) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(BUFFERED_LINES);
    let (hits_tx, hits) = mpsc::unbounded_channel();
    shared.opened(
        watch.id,
        OpenWatch {
            request: watch.request.clone(),
            hits: hits_tx,
        },
    );
    let (lines_tx, lines) = mpsc::channel(BUFFERED_LINES);
    let reader = tokio::spawn(read(
        shared.recorder.clone(),
        upstream,
        lines_tx,
        watch.lines,
    ));
    tokio::spawn(async move {
        let opened = tokio::time::Instant::now();
        let mut relay = Relay {
            shared: Arc::clone(&shared),
            watch,
            out,
            events: 0,
            error: None,
        };
        let end = relay.run(lines, hits, opened).await;
        reader.abort();
        shared.closed(relay.watch.id);
        shared.recorder.record(TraceKind::WatchEnded {
            request: relay.watch.id,
            reason: end,
            events: relay.events,
        });
    });
    StreamBody::new(futures::stream::poll_fn(move |cx| client.poll_recv(cx))).boxed_unsync()
}

/// Reads the upstream's frames and splits them into lines (`split`), or passes them on whole.
async fn read(
    recorder: crate::trace::Recorder,
    mut body: kube::client::Body,
    lines: mpsc::Sender<Upstream>,
    split: bool,
) {
    let mut buffer = BytesMut::new();
    loop {
        let message = match body.frame().await {
            None => Upstream::End,
            Some(Err(error)) => Upstream::Broken(error.to_string()),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if !split {
                    if lines
                        .send(Upstream::Line(data, recorder.now()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                buffer.extend_from_slice(&data);
                while let Some(newline) = buffer.iter().position(|b| *b == b'\n') {
                    let line = buffer.split_to(newline + 1).freeze();
                    if lines
                        .send(Upstream::Line(line, recorder.now()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                continue;
            }
        };
        let _ = lines.send(message).await;
        return;
    }
}

struct Relay {
    shared: Arc<Shared>,
    watch: RelayedWatch,
    out: mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>,
    events: u64,
    /// The ERROR event it relayed, which ends the stream.
    error: Option<WatchEnd>,
}

impl Relay {
    async fn run(
        &mut self,
        mut lines: mpsc::Receiver<Upstream>,
        mut hits: mpsc::UnboundedReceiver<OpenWatchHit>,
        opened: tokio::time::Instant,
    ) -> WatchEnd {
        let mut cut = self.watch.faults.cut;
        let mut stalled = self.watch.faults.stall;
        loop {
            if stalled {
                // Half-open: nothing more goes out, the client's connection stays.
                drop(lines);
                self.out.closed().await;
                return WatchEnd::Stalled;
            }
            match cut {
                Some(Cut::Clean) => return cut_end(Cut::Clean),
                Some(Cut::Reset) => {
                    let _ = self.out.send(Err(reset("reset"))).await;
                    return cut_end(Cut::Reset);
                }
                Some(Cut::MidChunk) | None => {}
            }
            tokio::select! {
                biased;
                () = self.out.closed() => return WatchEnd::ClientGone,
                Some(hit) = hits.recv() => match hit {
                    // The first cut that hits it is the one it gets.
                    OpenWatchHit::Cut(how) => cut = cut.or(Some(how)),
                    OpenWatchHit::Stall => stalled = true,
                },
                message = lines.recv() => match message {
                    Some(Upstream::Line(line, arrived)) => {
                        if cut == Some(Cut::MidChunk) {
                            self.cut_through(&line).await;
                            return cut_end(Cut::MidChunk);
                        }
                        if !self.relay(line, arrived).await {
                            return WatchEnd::ClientGone;
                        }
                    }
                    Some(Upstream::End) | None => {
                        return self.error.take().unwrap_or_else(|| ended(self.watch.timeout, opened));
                    }
                    Some(Upstream::Broken(why)) => {
                        let _ = self.out.send(Err(reset(&why))).await;
                        return cut_end(Cut::Reset);
                    }
                },
            }
        }
    }

    /// Sends one line with the faults in force; `false` when the client is gone.
    async fn relay(&mut self, line: Bytes, arrived: Duration) -> bool {
        let shared = Arc::clone(&self.shared);
        let mut event = parse(&line);
        // As on the simulated server, `latency` and `malformed_event` act on changes (object
        // events), not on bookmarks or a closing ERROR, and only they use up their counts.
        let change = !self.watch.lines
            || matches!(
                event.type_,
                EventType::Added | EventType::Modified | EventType::Deleted
            );
        let delay = if change {
            shared
                .rules()
                .event_delay(arrived, &self.watch.request.info())
        } else {
            None
        };
        if let Some(delay) = delay {
            shared.recorder.sleep_until(arrived + delay).await;
        }
        if !self.watch.lines {
            return self.out.send(Ok(Frame::data(line))).await.is_ok();
        }
        let now = shared.recorder.now();
        let mut line = line;
        match event.type_ {
            EventType::Bookmark => match shared.rules().bookmark(now) {
                // `early_bookmarks` is refused before a proxy runs (`playable`).
                BookmarkAction::Pass | BookmarkAction::Early => {}
                BookmarkAction::Drop(_) => return true,
                BookmarkAction::Stale(old) => {
                    // Never ahead of what the bookmark itself says (as the simulated server).
                    let revision = event.resource_version.map_or(old, |rv| rv.min(old));
                    line = with_resource_version(&line, &revision.to_string());
                    event.resource_version = Some(revision);
                }
                BookmarkAction::Empty => {
                    line = with_resource_version(&line, "");
                    event.resource_version = None;
                }
            },
            EventType::InitialEventsEnd if self.watch.faults.drop_end_marker => return true,
            _ => {}
        }
        if let Some(revision) = event.resource_version {
            shared.saw_revision(revision);
        }
        let malformed = if change {
            shared.rules().malform(now, &self.watch.request.info())
        } else {
            None
        };
        if let Some(shape) = malformed {
            line = damaged(&line, shape);
            event.damaged = Some(match shape {
                Malformed::Truncated => Damage::Truncated,
                Malformed::WrongShape => Damage::WrongShape,
            });
        }
        if event.type_ == EventType::Error {
            self.error = Some(error_end(&line));
        }
        self.events += 1;
        shared.recorder.record(TraceKind::Sent {
            request: self.watch.id,
            event,
        });
        self.out.send(Ok(Frame::data(line))).await.is_ok()
    }

    /// Sends half of `line` and breaks the connection.
    async fn cut_through(&mut self, line: &Bytes) {
        if self.watch.lines {
            let mut event = parse(line);
            event.damaged = Some(Damage::Cut);
            self.events += 1;
            self.shared.recorder.record(TraceKind::Sent {
                request: self.watch.id,
                event,
            });
        }
        let _ = self
            .out
            .send(Ok(Frame::data(line.slice(..line.len() / 2))))
            .await;
        // NB: as the simulated server does, a moment for hyper to write the half line out
        // before the error aborts the connection with it still buffered.
        let recorder = &self.shared.recorder;
        recorder
            .sleep_until(recorder.now() + recorder.speed() * MID_CHUNK_FLUSH)
            .await;
        let _ = self.out.send(Err(reset("mid_chunk"))).await;
    }
}

/// A cut the proxy made or saw: it does not tell a `cut_stream` from its own end of the run,
/// nor either from the apiserver's connection breaking, so it names no fault.
fn cut_end(how: Cut) -> WatchEnd {
    WatchEnd::Cut { how, by: None }
}

/// An error that makes hyper close the connection without the final chunk.
fn reset(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, why.to_owned())
}

/// A clean end from the upstream: its timeout, or (earlier than that) its own reason, which a
/// proxy cannot see (a watch cache re-list, a backlog out of the window, a shutdown).
fn ended(timeout: Option<Duration>, opened: tokio::time::Instant) -> WatchEnd {
    // NB: without `timeoutSeconds` (or with 0) the apiserver picks one of at least its
    // `--min-request-timeout` (1800 s).
    let timeout = timeout
        .filter(|t| !t.is_zero())
        .unwrap_or(Duration::from_secs(1800));
    if opened.elapsed() + Duration::from_secs(1) >= timeout {
        WatchEnd::Timeout
    } else {
        WatchEnd::Closed {
            why: ClosedWhy::Upstream,
        }
    }
}

/// What a line says: its type, object, resourceVersion. A line that is not an event (the
/// upstream's own damage) is recorded as an ERROR without a Status.
fn parse(line: &[u8]) -> SentEvent {
    let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
    let object = &value["object"];
    let metadata = &object["metadata"];
    let type_ = match value["type"].as_str() {
        Some("ADDED") => EventType::Added,
        Some("MODIFIED") => EventType::Modified,
        Some("DELETED") => EventType::Deleted,
        Some("BOOKMARK")
            if metadata["annotations"]["k8s.io/initial-events-end"].as_str() == Some("true") =>
        {
            EventType::InitialEventsEnd
        }
        Some("BOOKMARK") => EventType::Bookmark,
        _ => EventType::Error,
    };
    let key = match (type_, metadata["name"].as_str()) {
        (EventType::Added | EventType::Modified | EventType::Deleted, Some(name)) => {
            Some(match metadata["namespace"].as_str() {
                Some(namespace) => format!("{namespace}/{name}"),
                None => name.to_owned(),
            })
        }
        _ => None,
    };
    let resource_version = match type_ {
        EventType::Error => None,
        _ => metadata["resourceVersion"]
            .as_str()
            .and_then(|r| r.parse().ok()),
    };
    SentEvent {
        type_,
        key,
        resource_version,
        damaged: None,
    }
}

/// How an ERROR event ends the watch.
fn error_end(line: &[u8]) -> WatchEnd {
    let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
    let status = &value["object"];
    WatchEnd::Error {
        code: status["code"]
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(0),
        reason: status["reason"].as_str().unwrap_or_default().to_owned(),
        message: status["message"].as_str().unwrap_or_default().to_owned(),
    }
}

/// A bookmark line with its `resourceVersion` replaced: its only one, in its metadata.
fn with_resource_version(line: &[u8], revision: &str) -> Bytes {
    const FIELD: &[u8] = b"\"resourceVersion\":\"";
    let text = line;
    let Some(start) = text.windows(FIELD.len()).position(|w| w == FIELD) else {
        return Bytes::copy_from_slice(line);
    };
    let value_start = start + FIELD.len();
    let Some(length) = text[value_start..].iter().position(|b| *b == b'"') else {
        return Bytes::copy_from_slice(line);
    };
    let mut out = Vec::with_capacity(line.len());
    out.extend_from_slice(&text[..value_start]);
    out.extend_from_slice(revision.as_bytes());
    out.extend_from_slice(&text[value_start + length..]);
    Bytes::from(out)
}

/// A line damaged as `shape` says, ending with its newline.
fn damaged(line: &Bytes, shape: Malformed) -> Bytes {
    match shape {
        Malformed::Truncated => {
            let mut out = line[..line.len() / 2].to_vec();
            out.push(b'\n');
            Bytes::from(out)
        }
        Malformed::WrongShape => {
            let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
            let mut out = serde_json::to_vec(&value["object"]).unwrap_or_default();
            out.push(b'\n');
            Bytes::from(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOKMARK: &[u8] = br#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"812","creationTimestamp":null}}}
"#;

    #[test]
    fn a_stale_bookmark_carries_the_old_revision_and_nothing_else_changes() {
        let stale = with_resource_version(BOOKMARK, "700");
        assert_eq!(
            String::from_utf8_lossy(&stale),
            String::from_utf8_lossy(BOOKMARK).replace("\"812\"", "\"700\"")
        );
        assert_eq!(parse(&stale).resource_version, Some(700));
    }

    #[test]
    fn an_empty_bookmark_has_an_empty_resource_version() {
        let empty = with_resource_version(BOOKMARK, "");
        assert!(String::from_utf8_lossy(&empty).contains(r#""resourceVersion":"""#));
        assert_eq!(parse(&empty).resource_version, None);
    }

    #[test]
    fn the_end_of_initial_events_is_told_from_a_bookmark() {
        let end = br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        assert_eq!(parse(end).type_, EventType::InitialEventsEnd);
        assert_eq!(parse(BOOKMARK).type_, EventType::Bookmark);
    }

    #[test]
    fn an_object_event_names_its_object() {
        let added = br#"{"type":"ADDED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"5"}}}"#;
        let event = parse(added);
        assert_eq!(event.key.as_deref(), Some("ns/a"));
        assert_eq!(event.resource_version, Some(5));
    }

    #[test]
    fn an_error_event_ends_the_watch_with_its_status() {
        let gone = br#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#;
        assert_eq!(
            error_end(gone),
            WatchEnd::Error {
                code: 410,
                reason: "Expired".into(),
                message: "too old resource version: 1 (5)".into()
            }
        );
    }

    #[test]
    fn damaged_lines_still_end_with_a_newline() {
        let line = Bytes::from_static(BOOKMARK);
        for shape in [Malformed::Truncated, Malformed::WrongShape] {
            let out = damaged(&line, shape);
            assert!(out.ends_with(b"\n"));
            assert!(
                serde_json::from_slice::<serde_json::Value>(&out)
                    .map_or(true, |v| v.get("type").is_none())
            );
        }
    }
}
