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

/// A 200 with a whole JSON body.
pub(crate) fn json(body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(full(Bytes::from(body)))
        .expect("the response head is valid")
}
