//! What a watch owes its client: the lines queued to send, each with what it is for the trace,
//! how many it queued, and the resourceVersion the client would resume from after what it was
//! sent. Lines go out as HTTP chunks of several lines, as the apiserver's encoder writes them.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::apiserver::wire::{Line, Wire};
use crate::fault::Malformed;
use crate::trace::{Damage, EventType, SentEvent};

/// Largest HTTP chunk a watch writes when events queue up.
const MAX_CHUNK: usize = 64 * 1024;

/// Lines to send, and what was sent.
#[derive(Debug)]
pub(super) struct Outbox {
    pending: VecDeque<(Line, SentEvent)>,
    /// Lines queued so far, sent or not (the trace's count of a watch's events).
    queued: u64,
    /// The resourceVersion the client would resume from: the watch's start, then the last one
    /// an event or bookmark it was sent carried.
    position: u64,
}

/// One HTTP chunk and the events it carries, in order.
#[derive(Debug)]
pub(super) struct Chunk {
    pub(super) bytes: Bytes,
    pub(super) sent: Vec<SentEvent>,
}

impl Outbox {
    /// An empty outbox for a watch whose client starts at `position`.
    pub(super) fn new(position: u64) -> Self {
        Self {
            pending: VecDeque::new(),
            queued: 0,
            position,
        }
    }

    /// Queues `line`.
    pub(super) fn push(&mut self, line: impl Into<Line>, sent: SentEvent) {
        self.queued += 1;
        self.pending.push_back((line.into(), sent));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Lines queued so far.
    pub(super) fn queued(&self) -> u64 {
        self.queued
    }

    /// Where the client would resume from.
    pub(super) fn position(&self) -> u64 {
        self.position
    }

    /// Drops what was not sent: the stream will never carry it.
    pub(super) fn clear(&mut self) {
        self.pending.clear();
    }

    /// The first line and the lines queued behind it, up to [`MAX_CHUNK`], as one HTTP chunk:
    /// the apiserver's encoder flushes when its queue is empty, so one chunk often carries
    /// several events (reference §2.2), and a chunk per event would cost a wake-up per event.
    pub(super) fn next_chunk(&mut self) -> Option<Chunk> {
        let (first, sent) = self.pending.pop_front()?;
        self.mark_sent(&sent);
        let mut chunk = Chunk {
            bytes: Bytes::new(),
            sent: vec![sent],
        };
        if self.pending.is_empty() {
            chunk.bytes = first.into_bytes();
            return Some(chunk);
        }
        let mut bytes =
            BytesMut::with_capacity(MAX_CHUNK.min(first.len() * (self.pending.len() + 1)));
        first.write_into(&mut bytes);
        while let Some((next, _)) = self.pending.front() {
            if bytes.len() + next.len() > MAX_CHUNK {
                break;
            }
            next.write_into(&mut bytes);
            if let Some((_, sent)) = self.pending.pop_front() {
                self.mark_sent(&sent);
                chunk.sent.push(sent);
            }
        }
        chunk.bytes = bytes.freeze();
        Some(chunk)
    }

    /// The first half of the next line, the rest never to be sent (a `mid_chunk` cut).
    pub(super) fn next_half(&mut self) -> Option<(Bytes, SentEvent)> {
        let (line, mut sent) = self.pending.pop_front()?;
        self.mark_sent(&sent);
        sent.damaged = Some(Damage::Cut);
        let line = line.into_bytes();
        Some((line.slice(..line.len() / 2), sent))
    }

    fn mark_sent(&mut self, event: &SentEvent) {
        if event.type_ != EventType::Error
            && let Some(revision) = event.resource_version
        {
            self.position = revision;
        }
    }
}

/// `line` damaged as a `malformed_event` rule says: cut in half (then its newline), or without
/// its envelope.
pub(super) fn malformed(line: Line, shape: Malformed) -> (Line, Damage) {
    let whole = line.into_bytes();
    match shape {
        Malformed::Truncated => {
            let mut half = whole[..whole.len() / 2].to_vec();
            half.push(b'\n');
            (Line::from(half), Damage::Truncated)
        }
        Malformed::WrongShape => (
            Line::from(Wire::without_envelope(&whole)),
            Damage::WrongShape,
        ),
    }
}

/// The trace form of an object event.
pub(super) fn object_event(type_: EventType, key: String, resource_version: u64) -> SentEvent {
    SentEvent {
        type_,
        key: Some(key),
        resource_version: Some(resource_version),
        damaged: None,
    }
}

/// The trace form of a bookmark carrying `resource_version` (`None`: an empty one), or of an
/// ERROR event (`EventType::Error`, `None`).
pub(super) fn bare_event(type_: EventType, resource_version: Option<u64>) -> SentEvent {
    SentEvent {
        type_,
        key: None,
        resource_version,
        damaged: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line {
        Line::from(format!("{text}\n").into_bytes())
    }

    fn added(rv: u64) -> SentEvent {
        object_event(EventType::Added, format!("ns/o{rv}"), rv)
    }

    #[test]
    fn lines_queued_together_go_out_as_one_chunk_and_move_the_resume_position() {
        let mut outbox = Outbox::new(3);
        outbox.push(line("a"), added(4));
        outbox.push(line("b"), added(5));
        let chunk = outbox.next_chunk().expect("two lines are queued");
        assert_eq!(&chunk.bytes[..], b"a\nb\n");
        assert_eq!(chunk.sent.len(), 2);
        assert_eq!(outbox.position(), 5);
        assert_eq!(outbox.queued(), 2);
        assert!(outbox.next_chunk().is_none());
    }

    #[test]
    fn a_chunk_stops_before_the_line_that_would_take_it_past_64_kib() {
        let mut outbox = Outbox::new(0);
        let big = "x".repeat(40 * 1024);
        outbox.push(line(&big), added(1));
        outbox.push(line(&big), added(2));
        assert_eq!(outbox.next_chunk().map(|c| c.sent.len()), Some(1));
        assert_eq!(outbox.next_chunk().map(|c| c.sent.len()), Some(1));
    }

    #[test]
    fn an_error_event_does_not_move_where_the_client_would_resume() {
        let mut outbox = Outbox::new(7);
        outbox.push(line("e"), bare_event(EventType::Error, Some(9)));
        outbox.next_chunk();
        assert_eq!(outbox.position(), 7);
    }

    #[test]
    fn a_mid_chunk_cut_sends_half_the_line_marked_as_cut() {
        let mut outbox = Outbox::new(0);
        outbox.push(line("abcdefg"), added(1));
        let (half, sent) = outbox.next_half().expect("a line is queued");
        assert_eq!(&half[..], b"abcd");
        assert_eq!(sent.damaged, Some(Damage::Cut));
        assert_eq!(outbox.position(), 1);
    }

    #[test]
    fn a_truncated_line_is_half_a_line_and_its_newline() {
        let (damaged, damage) = malformed(line("abcdefg"), Malformed::Truncated);
        assert_eq!(&damaged.into_bytes()[..], b"abcd\n");
        assert_eq!(damage, Damage::Truncated);
    }
}
