//! A watch's HTTP response: 200 and a chunked body that polls the watch's session, or a plain
//! HTTP error when the watch cannot start (reference §2.2).

use std::sync::Arc;

use futures::StreamExt;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::encoding::Encoding;
use super::opening::Opening;
use super::options::WatchOptions;
use super::session::Session;
use crate::apiserver::body::Body;
use crate::apiserver::freshness::wait_for_revision;
use crate::apiserver::query::{Query, Version};
use crate::apiserver::shared::Shared;
use crate::fault::RequestInfo;

/// Starts a watch; errors found before the stream starts are plain HTTP errors (§2.2).
pub(crate) async fn start(
    inner: Arc<Shared>,
    request: u64,
    namespace: Option<String>,
    query: &Query,
    info: &RequestInfo<'_>,
    opening: Opening,
) -> Response<Body> {
    let encoding = Encoding::of(&inner, query);
    let opening = match (opening, not_fresh(&inner, query).await) {
        (Opening::Normal, Some((requested, current))) => Opening::NotFresh { requested, current },
        (opening, _) => opening,
    };
    match Session::open(inner, request, namespace, query, info, opening) {
        Ok(session) => {
            let stream = futures::stream::unfold(session, move |mut session| async move {
                // NB: an `Err` makes hyper close the connection without the final chunk: a
                // cut stream.
                session.next_line().await.map(|line| {
                    let frame = line.map(|chunk| Frame::data(encoding.frame(chunk)));
                    (frame, session)
                })
            });
            let mut head = Response::builder()
                .status(200)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-cache, private");
            if encoding == Encoding::Gzip {
                head = head
                    .header(header::CONTENT_ENCODING, "gzip")
                    .header(header::VARY, "Accept-Encoding");
            }
            head.body(StreamBody::new(stream.boxed()).boxed_unsync())
                .expect("the response head is valid")
        }
        Err(status) => status.into_response(),
    }
}

/// For a streaming list served by a watch cache, the revision it must start from and the one
/// the cache got to, when the cache did not reach it within 3 s: etcd's current revision for
/// one from "", the one it names otherwise (`waitUntilWatchCacheFreshAndForceAllEvents` in
/// apiserver `cacher.go`). A replica on time has heard what etcd has; a lagging one may not.
async fn not_fresh(inner: &Shared, query: &Query) -> Option<(u64, u64)> {
    let options = WatchOptions::parse(inner, query).ok()?;
    if !options.send_initial || !inner.spec.watch_cache {
        return None;
    }
    // An unready cache turns the watch away with a 429 first (`c.ready.wait` in `Watch`).
    let now = inner.recorder.now();
    if (inner.lock().cache(query.replica)).is_some_and(|c| c.unready(now).is_some()) {
        return None;
    }
    let wanted = match options.version {
        Version::Unset => inner.lock().store.revision(),
        Version::At(n) => n,
        Version::Zero => return None,
    };
    let heard = wait_for_revision(inner, wanted, query.replica).await;
    (heard < wanted).then_some((wanted, heard))
}
