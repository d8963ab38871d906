//! One request through the proxy: what the rules in force do to it (a delay, an answer in the
//! apiserver's place, an answer that never comes), else forwarded to the upstream as the
//! kubeconfig's user, its answer passed back frame by frame and a watch relayed line by line
//! ([`super::stream`]). Recorded as the simulated server records a request.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, Request, Response, header};
use http_body_util::BodyExt;

use super::shared::Shared;
use super::watch_relay::{self, RelayedWatch};
use crate::apiserver::answer::{gone_http, http_error};
use crate::apiserver::body::{Body, full};
use crate::apiserver::query::{Query, Version};
use crate::apiserver::route::Route;
use crate::apiserver::status::{answered, retry_after_of};
use crate::apiserver::verb_of;
use crate::fault::{GoneForm, GoneMessage, RequestFault, RequestInfo, WatchRequest};
use crate::trace::{RequestRecord, TraceKind, Verb, WatchEnd};

/// Request headers not passed on: hop-by-hop ones (RFC 9110 §7.6.1), the client's own
/// credentials (the proxy speaks as the kubeconfig's user), and `Accept-Encoding`, so that the
/// upstream answers uncompressed and the proxy can read each event line.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "authorization",
    "accept-encoding",
    "content-length",
];

/// Response headers not passed back: hop-by-hop ones; hyper frames the body itself.
const NOT_RETURNED: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "trailer",
    "upgrade",
];

/// Answers one request; `process` is the local process that opened its connection, when known.
pub(super) async fn handle(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
    process: Option<u32>,
) -> Response<Body> {
    let id = shared.next_request();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let agent = parts
        .headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let route = Route::of(&path, &shared.resource);
    let query = Query::parse(Some(&raw_query));
    let verb = verb_of(&route, &query);
    if matches!(verb, Verb::List | Verb::Watch) {
        shared.count_start(id);
    }
    let info = request_info(&shared, verb, &path, &raw_query, &query);
    let log = |(status, retry_after): (u16, Option<u32>)| {
        shared.recorder.record(TraceKind::Request(RequestRecord {
            id,
            method: parts.method.to_string(),
            path: path.clone(),
            query: raw_query.clone(),
            status,
            verb,
            agent: agent.clone(),
            process,
            retry_after,
            replica: None,
        }));
    };
    let faults = if verb == Verb::Other || parts.method != Method::GET {
        crate::fault::RequestFaults::default()
    } else {
        let now = shared.recorder.now();
        shared.rules().on_request(now, &info)
    };
    for fault in faults.kinds() {
        shared
            .recorder
            .record(TraceKind::FaultHit { request: id, fault });
    }
    if let Some(delay) = faults.delay {
        let recorder = &shared.recorder;
        recorder.sleep_until(recorder.now() + delay).await;
    }
    if let Some(answer) = faults.answer {
        let response = answer_in_place(&shared, id, answer, &info, &route, &log).await;
        log(answered(&response));
        return response;
    }
    let (head, upstream_body) = match forward(&shared, &parts, body).await {
        Ok(answer) => answer.into_parts(),
        Err(response) => {
            log(answered(&response));
            return response;
        }
    };
    let status = head.status.as_u16();
    let mut response = Response::builder().status(head.status);
    if let Some(headers) = response.headers_mut() {
        copy_headers(&head.headers, headers, verb == Verb::Watch && status == 200);
    }
    let body = if verb == Verb::Watch && status == 200 {
        relay_watch(&shared, id, &info, &query, &head, upstream_body)
    } else {
        upstream_body
            .map_err(|error| std::io::Error::other(error.to_string()))
            .boxed_unsync()
    };
    log((status, retry_after_of(&head.headers)));
    response.body(body).unwrap_or_else(|error| {
        bad_gateway(
            502,
            &format!("the upstream's answer could not be passed on: {error}"),
        )
    })
}

/// What the rules are told of a request; a watch or list the apiserver would serve from its
/// watch cache is marked so, when the upstream has one.
fn request_info<'a>(
    shared: &Shared,
    verb: Verb,
    path: &'a str,
    raw_query: &'a str,
    query: &Query,
) -> RequestInfo<'a> {
    let version = Version::parse(query.get("resourceVersion")).ok();
    RequestInfo {
        verb,
        path,
        query: raw_query,
        resource_version: version.and_then(Version::revision),
        from_watch_cache: shared.cached
            && matches!(
                (verb, version),
                (Verb::Watch, Some(Version::At(_) | Version::Zero))
                    | (Verb::List, Some(Version::Zero))
            ),
    }
}

/// The answer a fault gives in the apiserver's place; `log` records a request whose answer
/// never comes (`HangHeaders`), which this never returns from.
async fn answer_in_place(
    shared: &Shared,
    id: u64,
    answer: RequestFault,
    info: &RequestInfo<'_>,
    route: &Route,
    log: &impl Fn((u16, Option<u32>)),
) -> Response<Body> {
    let namespace = match route {
        Route::Collection { namespace, .. } | Route::Object { namespace, .. } => namespace.clone(),
        _ => None,
    };
    match answer {
        RequestFault::HangHeaders => {
            log((0, None));
            futures::future::pending().await
        }
        RequestFault::Gone {
            form: GoneForm::Http,
            message,
            code,
        } => {
            let backend = if shared.cached {
                GoneMessage::Cache
            } else {
                GoneMessage::Etcd
            };
            gone_http(
                message.unwrap_or(backend),
                code,
                info.resource_version,
                shared.revision(),
            )
        }
        RequestFault::HttpError {
            status,
            body,
            retry_after,
        } => http_error(
            (status, body, retry_after),
            &shared.resource,
            info,
            namespace.as_deref(),
            shared.revision(),
        ),
        RequestFault::EmptyWatch => {
            shared.recorder.record(TraceKind::WatchEnded {
                request: id,
                reason: WatchEnd::Empty,
                events: 0,
            });
            Response::builder()
                .status(200)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-cache, private")
                .body(full(bytes::Bytes::new()))
                .expect("the response head is valid")
        }
        // Refused before the proxy starts (`playable`): they change the apiserver itself.
        RequestFault::Gone {
            form: GoneForm::Event,
            ..
        }
        | RequestFault::ExpireContinue => {
            unreachable!("the proxy refuses faults it cannot make before it starts")
        }
    }
}

/// The request passed on to the upstream as the kubeconfig's user, and its answer; when it
/// cannot be, the proxy's own answer (400, or 502 when the upstream does not answer).
async fn forward(
    shared: &Shared,
    parts: &http::request::Parts,
    body: hyper::body::Incoming,
) -> Result<Response<kube::client::Body>, Response<Body>> {
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            return Err(bad_gateway(
                400,
                &format!("the request body could not be read: {error}"),
            ));
        }
    };
    let mut upstream = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    for (name, value) in &parts.headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let upstream = upstream
        .body(kube::client::Body::from(body.to_vec()))
        .map_err(|error| bad_gateway(400, &error.to_string()))?;
    shared
        .upstream
        .client
        .send(upstream)
        .await
        .map_err(|error| {
            // What a reverse proxy answers when its upstream does not.
            bad_gateway(
                502,
                &format!(
                    "the upstream apiserver did not answer: {}",
                    super::upstream::error_chain(&error)
                ),
            )
        })
}

/// A watch the upstream accepted (a 200), recorded as opened and relayed line by line with the
/// stream faults in force from now.
fn relay_watch(
    shared: &Arc<Shared>,
    id: u64,
    info: &RequestInfo<'_>,
    query: &Query,
    head: &http::response::Parts,
    upstream_body: kube::client::Body,
) -> Body {
    let stream_faults = shared
        .rules()
        .on_watch_start(shared.recorder.now(), info, false);
    let revision = shared.revision();
    // A streaming list starts from the current state, not from its resourceVersion.
    let streaming = query.flag("sendInitialEvents");
    shared.recorder.record(TraceKind::WatchOpened {
        request: id,
        from: info.resource_version.filter(|_| !streaming),
        // NB: a proxy cannot see the apiserver's floor; the apiserver's own 410 says when
        // a watch is too old, and the verdict sees that.
        floor: 0,
        revision: revision.max(info.resource_version.unwrap_or(0)),
    });
    watch_relay::start(
        Arc::clone(shared),
        RelayedWatch {
            id,
            // NB: the rules a relayed watch meets while open see it as not from the cache, as
            // they always have.
            request: WatchRequest {
                from_watch_cache: false,
                ..WatchRequest::of(info)
            },
            timeout: query
                .integer("timeoutSeconds")
                .ok()
                .flatten()
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
            faults: stream_faults,
            lines: head
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.contains("json")),
        },
        upstream_body,
    )
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap, streamed: bool) {
    for (name, value) in from {
        let name_str = name.as_str();
        if NOT_RETURNED.contains(&name_str) || (streamed && name == header::CONTENT_LENGTH) {
            continue;
        }
        to.append(name.clone(), value.clone());
    }
}

/// The proxy's own plain-text answer, as a reverse proxy gives when it cannot pass a request on.
fn bad_gateway(status: u16, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(full(bytes::Bytes::from(format!("{message}\n"))))
        .expect("the response head is valid")
}
