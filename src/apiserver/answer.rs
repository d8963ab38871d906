//! Answers to requests a fault hits, each in its faithful wire form (reference §4, §7).

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, header};

use super::body::{Body, full};
use super::list;
use super::query::{Query, Version};
use super::route::Route;
use super::server::Inner;
use super::status::Status;
use super::watch::{self, Opening};
use crate::fault::{ErrorBody, GoneForm, GoneMessage, RequestFault, RequestInfo};
use crate::trace::Verb;

/// The response to a request that `fault` hit; `None` when its head never comes.
pub(super) async fn respond(
    inner: &Arc<Inner>,
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
            form,
            message,
            code,
        } => {
            let mut status = match message {
                GoneMessage::Cache => {
                    let requested = match Version::parse(query.get("resourceVersion")) {
                        Ok(Version::At(n)) => n,
                        _ => 0,
                    };
                    let current = inner.lock().store.revision();
                    Status::watch_too_old_cache(requested, current)
                }
                GoneMessage::Etcd => Status::watch_too_old_etcd(),
            };
            if !code {
                status = status.without_code();
            }
            match form {
                GoneForm::Http => status.into_response(),
                GoneForm::Event => watch::start(
                    Arc::clone(inner),
                    id,
                    namespace,
                    query,
                    info,
                    Opening::Gone(Box::new(status)),
                ),
            }
        }
        RequestFault::EmptyWatch => watch::start(
            Arc::clone(inner),
            id,
            namespace,
            query,
            info,
            Opening::Empty,
        ),
        RequestFault::ExpireContinue => list::list(inner, namespace.as_deref(), query, true).await,
        RequestFault::HttpError {
            status,
            body: ErrorBody::Text,
            retry_after,
        } => text(status, retry_after),
        RequestFault::HttpError {
            status,
            body: ErrorBody::Status,
            retry_after,
        } => {
            let resource = &inner.resource;
            let verb = match info.verb {
                Verb::Watch => "watch",
                Verb::Get => "get",
                _ => "list",
            };
            let status = match status {
                403 => Status::forbidden(
                    &resource.plural,
                    &resource.group,
                    verb,
                    namespace.as_deref(),
                ),
                429 => Status::too_many_requests().with_retry_after(retry_after.unwrap_or(1)),
                500 => Status::internal_error(),
                504 => {
                    let current = inner.lock().store.revision();
                    let requested = match Version::parse(query.get("resourceVersion")) {
                        Ok(Version::At(n)) if n > current => n,
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
    })
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
