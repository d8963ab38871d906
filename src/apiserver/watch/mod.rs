//! WATCH: one newline-delimited JSON event per line over a chunked 200 response
//! (reference §2), with bookmarks, `timeoutSeconds`, streaming lists, selectors, the 410
//! forms for compacted revisions, and the stream faults (cut, stall, late or malformed lines).
//!
//! Each watch is a [`session::Session`] that the response body polls (`response`): no task per
//! watch, and when the client goes away hyper drops the body and the session records how it
//! ended. The session is a state machine over its parts, each in a file of its own: the
//! [`feed::Feed`] of changes (history, then what the fan-out hands it, `super::fanout`), the
//! [`bookmark_clock::BookmarkClock`], the [`outbox::Outbox`] of lines to send, and the
//! [`hits::Hits`] of stream faults. Faults reach open watches over one channel
//! (`super::alarm`).

mod bookmark_clock;
mod event_lines;
mod feed;
mod hits;
mod opening;
mod options;
mod outbox;
mod response;
mod session;

pub(crate) use opening::Opening;
pub(crate) use response::start;
