//! WATCH: one newline-delimited JSON event per line over a chunked 200 response
//! (reference §2), with bookmarks, `timeoutSeconds`, streaming lists, selectors, the 410
//! forms for compacted revisions, and the stream faults (cut, stall, late or malformed lines).
//!
//! Each watch is a [`session::Session`] that the response body polls (`response`): no task per
//! watch, and when the client goes away hyper drops the body and the session records how it
//! ended. Writes reach the sessions that select them through the fan-out (`super::fanout`).

mod bookmark_clock;
mod encoding;
mod event_lines;
mod feed;
mod opening;
mod options;
mod outbox;
mod phase;
mod response;
mod session;

pub(crate) use opening::Opening;
pub(crate) use response::start;
