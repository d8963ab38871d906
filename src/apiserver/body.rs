//! The response body type shared by every handler: whole bodies and watch streams.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

/// A boxed response body. Watch streams end with an I/O error to cut a connection mid-stream.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}
