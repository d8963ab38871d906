//! Answers to requests a fault hits, each in its faithful wire form (reference §4, §7).
//!
//! A 410 in the apiserver's own form is never made up here: the fault first takes the history
//! away ([`super::history`]) and the request is then answered as usual. Only an HTTP 410 at
//! watch start, a proxy's form that kube-apiserver itself never sends, is answered as is.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, header};

use super::body::{Body, full};
use super::list;
use super::query::Query;
use super::route::Route;
use super::shared::Shared;
use super::status::Status;
use super::watch::{self, Opening};
use crate::fault::{ErrorBody, GoneForm, GoneMessage, RequestFault, RequestInfo};
use crate::scenario::ResourceSpec;
use crate::trace::TraceKind;

/// The response to a request that `fault` hit; `None` when its head never comes. The trace
/// gets the fault's hit on the request when the fault answered it: a watch it would answer
/// with a 200 can be refused as invalid first (422), and then the fault did not act.
pub(super) async fn respond(
    shared: &Arc<Shared>,
    id: u64,
    route: &Route,
    query: &Query,
    info: &RequestInfo<'_>,
    fault: RequestFault,
) -> Option<Response<Body>> {
    let response = answer(shared, id, route, query, info, fault).await;
    let refused = response.as_ref().is_some_and(|r| !r.status().is_success())
        && matches!(
            fault,
            RequestFault::EmptyWatch
                | RequestFault::Gone {
                    form: GoneForm::Event,
                    ..
                }
        );
    if !refused {
        shared.recorder.record(TraceKind::FaultHit {
            request: id,
            fault: fault.kind(),
        });
    }
    response
}

/// The response `fault` gives a request; `None` when its head never comes.
async fn answer(
    shared: &Arc<Shared>,
    id: u64,
    route: &Route,
    query: &Query,
    info: &RequestInfo<'_>,
    fault: RequestFault,
) -> Option<Response<Body>> {
    let namespace = match route {
        Route::Collection { namespace, .. } | Route::Object { namespace, .. } => namespace.clone(),
        _ => None,
    };
    Some(match fault {
        RequestFault::HangHeaders => return None,
        RequestFault::Gone {
            form: GoneForm::Event,
            code,
            ..
        } => {
            // The rule only hits watches from a resourceVersion, which history can outgrow.
            if let Some(requested) = info.resource_version {
                shared.expire_watches_through(requested, Some(query.replica));
            }
            let opening = if code {
                Opening::Normal
            } else {
                Opening::WithoutCode
            };
            watch::start(Arc::clone(shared), id, namespace, query, info, opening).await
        }
        RequestFault::Gone {
            form: GoneForm::Http,
            message,
            code,
        } => {
            let backend = if shared.spec.watch_cache {
                GoneMessage::Cache
            } else {
                GoneMessage::Etcd
            };
            let current = shared.lock().store.revision();
            gone_http(
                message.unwrap_or(backend),
                code,
                info.resource_version,
                current,
            )
        }
        RequestFault::EmptyWatch => {
            watch::start(
                Arc::clone(shared),
                id,
                namespace,
                query,
                info,
                Opening::Empty,
            )
            .await
        }
        RequestFault::ExpireContinue => {
            // etcd compacts just past the token's revision; the page is then too old by itself.
            if let Some(revision) = list::continue_revision(query) {
                shared.expire_list_through(revision);
            }
            list::list(shared, namespace.as_deref(), query).await
        }
        RequestFault::HttpError {
            status,
            body,
            retry_after,
        } => {
            let current = shared.lock().store.revision();
            http_error(
                (status, body, retry_after),
                &shared.resource,
                info,
                namespace.as_deref(),
                current,
            )
        }
    })
}

/// The HTTP 410 a proxy answers a watch with, in `message`'s words; `current` is the
/// revision of the server behind it. On purpose inconsistent with that server.
pub(crate) fn gone_http(
    message: GoneMessage,
    code: bool,
    requested: Option<u64>,
    current: u64,
) -> Response<Body> {
    let status = match message {
        GoneMessage::Cache => Status::watch_too_old_cache(requested.unwrap_or(0), current),
        GoneMessage::Etcd => Status::watch_too_old_etcd(),
    };
    if code { status } else { status.without_code() }.into_response()
}

/// An `http_error` fault's answer, `(status, body, retry_after)`, to a request for `resource`
/// (in `namespace`); `current` is the server's revision (a 504's "too large" names it).
pub(crate) fn http_error(
    (status, body, retry_after): (u16, ErrorBody, Option<u32>),
    resource: &ResourceSpec,
    info: &RequestInfo<'_>,
    namespace: Option<&str>,
    current: u64,
) -> Response<Body> {
    if body == ErrorBody::Text {
        return text(status, retry_after);
    }
    let verb = info.verb.authorizer_verb();
    let status = match status {
        403 => Status::forbidden(&resource.plural, &resource.group, verb, namespace),
        429 => Status::too_many_requests().with_retry_after(retry_after.unwrap_or(1)),
        500 => Status::internal_error(),
        504 => {
            let requested = match info.resource_version {
                Some(n) if n > current => n,
                _ => current + 1,
            };
            Status::too_large_resource_version(requested, current)
        }
        _ => Status::service_unavailable(),
    };
    match retry_after {
        Some(seconds) => status.with_retry_after(seconds),
        None => status,
    }
    .into_response()
}

/// A plain-text error as Go's `http.Error` writes it; 429 in priority-and-fairness' words
/// (apiserver `server/filters/priority-and-fairness.go`).
fn text(status: u16, retry_after: Option<u32>) -> Response<Body> {
    let code = http::StatusCode::from_u16(status).expect("fault statuses are valid");
    let message = if status == 429 {
        "Too many requests, please try again later.".to_owned()
    } else {
        code.canonical_reason().unwrap_or("Error").to_owned()
    };
    let mut builder = Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff");
    if let Some(seconds) = retry_after {
        builder = builder.header(header::RETRY_AFTER, seconds.to_string());
    }
    builder
        .body(full(Bytes::from(format!("{message}\n"))))
        .expect("the response head is valid")
}
