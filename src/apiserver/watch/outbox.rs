//! The lines a watch owes its client, each with what it is for the trace, and how they leave:
//! one HTTP chunk carries every line queued behind the first, up to [`MAX_CHUNK`], as the
//! apiserver's encoder flushes when its queue is empty (reference §2.2).

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::apiserver::wire::{Line, Wire};
use crate::fault::Malformed;
use crate::trace::{Damage, EventType, SentEvent};

/// Largest HTTP chunk a watch writes when events queue up.
pub(super) const MAX_CHUNK: usize = 64 * 1024;

/// Lines queued to send, oldest first.
#[derive(Default)]
pub(super) struct Outbox {
    lines: VecDeque<(Line, SentEvent)>,
    /// Every line ever queued, for the trace's count of the watch's events.
    queued: u64,
}

impl Outbox {
    pub(super) fn push(&mut self, line: Line, sent: SentEvent) {
        self.queued += 1;
        self.lines.push_back((line, sent));
    }

    pub(super) fn pop(&mut self) -> Option<(Line, SentEvent)> {
        self.lines.pop_front()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Drops what was not sent: the stream ends without it.
    pub(super) fn clear(&mut self) {
        self.lines.clear();
    }

    /// How many lines wait to be sent.
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Keeps the `n` oldest lines and drops the rest: they are never sent.
    pub(super) fn keep_oldest(&mut self, n: usize) {
        self.lines.truncate(n);
    }

    /// How many lines were ever queued.
    pub(super) fn queued(&self) -> u64 {
        self.queued
    }

    /// `first` (of type `first_type`) and the lines queued behind it, up to [`MAX_CHUNK`], as
    /// one chunk; `sent` hears of each line taken along with it. A chunk per event would cost a
    /// wake-up per event. A chunk is a flush, and the apiserver flushes after a streaming
    /// list's initial-events-end bookmark whatever follows (`serveWatch`): a chunk ends there.
    pub(super) fn chunk(
        &mut self,
        first: Line,
        first_type: EventType,
        mut sent: impl FnMut(SentEvent),
    ) -> Bytes {
        if self.lines.is_empty() || first_type == EventType::InitialEventsEnd {
            return first.into_bytes();
        }
        let mut chunk =
            BytesMut::with_capacity(MAX_CHUNK.min(first.len() * (self.lines.len() + 1)));
        first.write_into(&mut chunk);
        while let Some((next, _)) = self.lines.front() {
            if chunk.len() + next.len() > MAX_CHUNK {
                break;
            }
            next.write_into(&mut chunk);
            if let Some((_, event)) = self.lines.pop_front() {
                let end = event.type_ == EventType::InitialEventsEnd;
                sent(event);
                if end {
                    break;
                }
            }
        }
        chunk.freeze()
    }
}

/// `line` damaged as a `malformed_event` fault says: cut in half (invalid JSON, newline kept)
/// or stripped of its `{"type","object"}` envelope.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line {
        Line::from(format!("{text}\n").into_bytes())
    }

    fn bookmark(at: u64) -> SentEvent {
        SentEvent {
            type_: EventType::Bookmark,
            key: None,
            resource_version: Some(at),
            damaged: None,
        }
    }

    #[test]
    fn a_lone_line_leaves_as_it_is() {
        let mut outbox = Outbox::default();
        let chunk = outbox.chunk(line("a"), EventType::Added, |_| {
            panic!("nothing else was queued")
        });
        assert_eq!(&chunk[..], b"a\n");
    }

    #[test]
    fn the_lines_queued_behind_the_first_leave_in_its_chunk_in_order() {
        let mut outbox = Outbox::default();
        for n in 1..=3 {
            outbox.push(line(&n.to_string()), bookmark(n));
        }
        let first = outbox.pop().expect("three were queued").0;
        let mut heard = Vec::new();
        let chunk = outbox.chunk(first, EventType::Bookmark, |e| {
            heard.push(e.resource_version)
        });
        assert_eq!(&chunk[..], b"1\n2\n3\n");
        assert_eq!(
            heard,
            [Some(2), Some(3)],
            "the first line is the caller's to record"
        );
        assert!(outbox.is_empty());
        assert_eq!(outbox.queued(), 3);
    }

    #[test]
    fn a_chunk_stops_before_the_line_that_would_take_it_past_64_kib() {
        let mut outbox = Outbox::default();
        let big = "x".repeat(40 * 1024);
        outbox.push(line(&big), bookmark(1));
        outbox.push(line(&big), bookmark(2));
        let first = outbox.pop().expect("two were queued").0;
        let chunk = outbox.chunk(first, EventType::Bookmark, |_| {
            panic!("the second does not fit")
        });
        assert_eq!(chunk.len(), big.len() + 1);
        assert!(!outbox.is_empty(), "the second waits for the next chunk");
    }

    #[test]
    fn a_chunk_ends_after_the_initial_events_end_bookmark_as_the_apiserver_flushes_there() {
        let mut outbox = Outbox::default();
        let end = SentEvent {
            type_: EventType::InitialEventsEnd,
            ..bookmark(2)
        };
        outbox.push(line("end"), end);
        outbox.push(line("live"), bookmark(3));
        let chunk = outbox.chunk(line("added"), EventType::Added, |_| {});
        assert_eq!(&chunk[..], b"added\nend\n");
        let first = outbox.pop().expect("the live line waits").0;
        assert_eq!(
            &outbox.chunk(first, EventType::Bookmark, |_| {})[..],
            b"live\n"
        );
    }

    #[test]
    fn a_truncated_line_is_half_a_line_ended_by_its_newline() {
        let (damaged, how) = malformed(line(r#"{"type":"ADDED"}"#), Malformed::Truncated);
        assert_eq!(how, Damage::Truncated);
        assert_eq!(&damaged.into_bytes()[..], b"{\"type\":\n");
    }
}
