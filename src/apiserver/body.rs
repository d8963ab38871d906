//! The response body type shared by every handler: whole bodies and watch streams.

use bytes::Bytes;
use http::{Response, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

/// A boxed response body. Watch streams end with an I/O error to cut a connection mid-stream.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Go's net/http sends a `Content-Length` only for a body the handler wrote whole within its
/// first 2,048 bytes (`bufferBeforeChunkingSize` in net/http `server.go`); a longer one goes
/// out chunked. Seen on kube-apiserver 1.37 by the conformance suite (`table-pods`).
const BUFFER_BEFORE_CHUNKING: usize = 2048;

/// A 200 with a whole JSON body, framed as Go frames it.
pub(crate) fn json(body: Vec<u8>) -> Response<Body> {
    json_as(body, "application/json")
}

/// A 200 with a whole JSON body of a negotiated media type (aggregated discovery's).
pub(crate) fn json_as(body: Vec<u8>, content_type: &'static str) -> Response<Body> {
    let body = if body.len() > BUFFER_BEFORE_CHUNKING {
        chunked(Bytes::from(body))
    } else {
        full(Bytes::from(body))
    };
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(body)
        .expect("the response head is valid")
}

/// A whole body of no announced length, which hyper sends chunked.
fn chunked(bytes: Bytes) -> Body {
    let frame = Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes));
    http_body_util::StreamBody::new(futures::stream::once(async move { frame })).boxed_unsync()
}
