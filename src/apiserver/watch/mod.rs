//! WATCH: one newline-delimited JSON event per line over a chunked 200 response
//! (reference §2), with bookmarks, `timeoutSeconds`, streaming lists, selectors, the 410
//! forms for compacted revisions, and the stream faults (cut, stall, late or malformed lines).
//!
//! Each watch is a [`session::Session`] that the response body polls: no task per watch, and
//! when the client goes away hyper drops the body and the session records how it ended. Writes
//! reach the sessions that select them through the fan-out (`super::fanout`).

mod options;
mod session;

use std::sync::Arc;

use futures::StreamExt;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::body::Body;
use super::query::Query;
use super::shared::Shared;
use crate::fault::RequestInfo;
use session::Session;

/// How a watch begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    /// As the request asks.
    Normal,
    /// As the request asks, but an ERROR event leaves out the Status `code` (a `watch_410`
    /// fault with `code: false`).
    WithoutCode,
    /// With nothing at all: 200 and the end (an `empty_watch` fault).
    Empty,
}

/// Starts a watch; errors found before the stream starts are plain HTTP errors (§2.2).
pub(super) fn start(
    inner: Arc<Shared>,
    request: u64,
    namespace: Option<String>,
    query: &Query,
    info: &RequestInfo<'_>,
    opening: Opening,
) -> Response<Body> {
    match Session::open(inner, request, namespace, query, info, opening) {
        Ok(session) => {
            let stream = futures::stream::unfold(session, |mut session| async move {
                // NB: an `Err` makes hyper close the connection without the final chunk: a
                // cut stream.
                session
                    .next_line()
                    .await
                    .map(|line| (line.map(Frame::data), session))
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
