//! `metav1.Status` error bodies: the one `ApiError -> Response` conversion.
//!
//! Shapes and messages follow the wire reference (shared/docs/k8s-watch-semantics.md §4) and
//! apimachinery `pkg/api/errors/errors.go`. Key order is Go's struct order:
//! `kind, apiVersion, metadata, status, message, reason, details, code`.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use serde::Serialize;

use super::body::{Body, full};

/// A failure the server answers with a Status body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Status {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: StatusMeta,
    status: &'static str,
    pub(crate) message: String,
    /// `StatusReasonUnknown` is `""`, which Go omits.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Box<Details>>,
    /// Go's `omitempty`: a Status without a code (as some proxies send) leaves it out.
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) code: u16,
    /// The HTTP status of the response carrying it: `code`, unless the code was left out.
    #[serde(skip)]
    http: u16,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(code: &u16) -> bool {
    *code == 0
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct StatusMeta {
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct Details {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    causes: Vec<Cause>,
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Cause {
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

/// One `ListOptions` validation failure (apimachinery `internalversion/validation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) kind: FieldErrorKind,
    pub(crate) detail: String,
}

/// `field.ErrorType` as far as list options need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldErrorKind {
    Forbidden,
    Unsupported,
}

impl Status {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: "Status",
            api_version: "v1",
            metadata: StatusMeta::default(),
            status: "Failure",
            message: message.into(),
            reason,
            details: None,
            code,
            http: code,
        }
    }

    /// The same Status without its `code` field; the response keeps the HTTP status.
    pub(crate) fn without_code(self) -> Self {
        Self { code: 0, ..self }
    }

    /// [`without_code`](Self::without_code) when `without` holds, as it is otherwise.
    pub(crate) fn without_code_if(self, without: bool) -> Self {
        if without { self.without_code() } else { self }
    }

    /// Sets `details.retryAfterSeconds` (and so the `Retry-After` header).
    pub(crate) fn with_retry_after(mut self, seconds: u32) -> Self {
        self.details
            .get_or_insert_with(Box::default)
            .retry_after_seconds = Some(seconds);
        self
    }

    /// 403 for an anonymous user (reference §4): `pods is forbidden: User "system:anonymous"
    /// cannot watch resource "pods" in API group "" in the namespace "default"`.
    pub(crate) fn forbidden(
        plural: &str,
        group: &str,
        verb: &str,
        namespace: Option<&str>,
    ) -> Self {
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_owned(),
        };
        Self {
            details: Some(Box::new(Details {
                group: (!group.is_empty()).then(|| group.to_owned()),
                kind: Some(plural.to_owned()),
                ..Details::default()
            })),
            ..Self::new(
                403,
                "Forbidden",
                format!(
                    "{plural} is forbidden: User \"system:anonymous\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
                ),
            )
        }
    }

    /// 429 from a watch cache that is not ready (`cacher.go`).
    pub(crate) fn too_many_requests() -> Self {
        Self::new(429, "TooManyRequests", "storage is (re)initializing")
    }

    /// 500 from etcd losing its leader.
    pub(crate) fn internal_error() -> Self {
        Self {
            details: Some(Box::new(Details {
                causes: vec![Cause {
                    reason: "",
                    message: "etcdserver: leader changed".to_owned(),
                    field: None,
                }],
                ..Details::default()
            })),
            ..Self::new(
                500,
                "InternalError",
                "Internal error occurred: etcdserver: leader changed",
            )
        }
    }

    /// The in-stream 500 the watch cache ends a streaming list with when etcd cannot give
    /// progress notifications on request: a plain error in `newErrWatcher`, so reason
    /// `InternalError`, its text as the message and no details (apiserver
    /// `storage/cacher/cacher.go`).
    pub(crate) fn watch_progress_unsupported() -> Self {
        Self::new(
            500,
            "InternalError",
            "a watch stream was requested by the client but the required storage feature RequestWatchProgress is disabled",
        )
    }

    /// 503 in the words client-go uses when nothing more is known.
    pub(crate) fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        )
    }

    /// 400 BadRequest with `message`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 431 for a request head past the server's limit. Go's own server would answer this in
    /// plain text before the apiserver saw the request; a Status (reason Unknown, omitted) keeps
    /// one error format for clients that parse them.
    pub(crate) fn header_too_large(limit: usize) -> Self {
        Self::new(
            431,
            "",
            format!("request header fields too large: the limit is {limit} bytes"),
        )
    }

    /// 404 for a path the server does not serve (go-restful's handler: `details` is `{}`).
    pub(crate) fn not_found_path() -> Self {
        Self {
            details: Some(Box::default()),
            ..Self::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    /// 404 for a missing object: `events "foo" not found`.
    pub(crate) fn not_found_object(plural: &str, group: &str, name: &str) -> Self {
        Self {
            details: Some(Box::new(Details {
                name: Some(name.to_owned()),
                group: (!group.is_empty()).then(|| group.to_owned()),
                kind: Some(plural.to_owned()),
                ..Details::default()
            })),
            ..Self::new(404, "NotFound", format!("{plural} \"{name}\" not found"))
        }
    }

    /// 405 for a method the resource does not allow here (the simulator is read-only on the wire).
    pub(crate) fn method_not_allowed() -> Self {
        Self {
            details: Some(Box::default()),
            ..Self::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    }

    /// 410 for an exact LIST below the compaction point (`etcd3/errors.go`).
    pub(crate) fn list_too_old() -> Self {
        Self::new(
            410,
            "Expired",
            "The resourceVersion for the provided list is too old.",
        )
    }

    /// 410 for a watch from a compacted revision, etcd's wording (resources without a watch cache).
    pub(crate) fn watch_too_old_etcd() -> Self {
        Self::new(
            410,
            "Expired",
            "The resourceVersion for the provided watch is too old.",
        )
    }

    /// 410 for a watch from a revision older than the watch cache's window
    /// (`watch_cache_history.go`: `too old resource version: %d (%d)`).
    pub(crate) fn watch_too_old_cache(requested: u64, oldest_minus_one: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest_minus_one})"),
        )
    }

    /// 410 for an expired continue token, carrying a replacement token (`inconsistentContinue`).
    pub(crate) fn continue_expired(replacement: String) -> Self {
        Self {
            metadata: StatusMeta {
                continue_: Some(replacement),
            },
            ..Self::new(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            )
        }
    }

    /// 422 Invalid for `ListOptions`, one cause per field error, joined as `[e1, e2]` when many.
    pub(crate) fn invalid_list_options(errors: &[FieldError]) -> Self {
        let rendered: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.kind.render(&e.detail)))
            .collect();
        let joined = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        Self {
            details: Some(Box::new(Details {
                group: Some("meta.k8s.io".to_owned()),
                kind: Some("ListOptions".to_owned()),
                causes: errors
                    .iter()
                    .map(|e| Cause {
                        reason: e.kind.reason(),
                        message: e.kind.render(&e.detail),
                        field: Some(e.field),
                    })
                    .collect(),
                ..Details::default()
            })),
            ..Self::new(
                422,
                "Invalid",
                format!("ListOptions.meta.k8s.io \"\" is invalid: {joined}"),
            )
        }
    }

    /// 504 with cause `ResourceVersionTooLarge`, as the watch cache sends it after waiting
    /// (`storage.NewTooLargeResourceVersionError`, `Retry-After: 1`).
    pub(crate) fn too_large_resource_version(requested: u64, current: u64) -> Self {
        Self::too_large(requested, current, Some(1))
    }

    /// The same from etcd, which does not wait: no `retryAfterSeconds` and no `Retry-After`
    /// (apiserver `storage/etcd3/store.go`; reference §1.7).
    pub(crate) fn too_large_resource_version_etcd(requested: u64, current: u64) -> Self {
        Self::too_large(requested, current, None)
    }

    fn too_large(requested: u64, current: u64, retry_after_seconds: Option<u32>) -> Self {
        Self {
            details: Some(Box::new(Details {
                causes: vec![Cause {
                    reason: "ResourceVersionTooLarge",
                    message: "Too large resource version".into(),
                    field: None,
                }],
                retry_after_seconds,
                ..Details::default()
            })),
            ..Self::new(
                504,
                "Timeout",
                format!("Timeout: Too large resource version: {requested}, current: {current}"),
            )
        }
    }

    /// The compact JSON body with Go's trailing newline.
    pub(crate) fn to_json_line(&self) -> Vec<u8> {
        super::go_json::line(self)
    }

    /// The HTTP response: status equal to `code`, `Retry-After` when `retryAfterSeconds > 0`.
    pub(crate) fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(self.http).expect("Status codes are valid HTTP codes"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-cache, private");
        if let Some(after) = self
            .details
            .as_ref()
            .and_then(|d| d.retry_after_seconds)
            .filter(|s| *s > 0)
        {
            builder = builder.header(header::RETRY_AFTER, after.to_string());
        }
        builder
            .body(full(Bytes::from(self.to_json_line())))
            .expect("the response head is valid")
    }
}

/// The `Retry-After` an answer carries, in whole seconds (what kube-client reads:
/// `retry.rs`, integer seconds only), as the request log records it.
pub(crate) fn retry_after_of(headers: &http::HeaderMap) -> Option<u32> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The status and `Retry-After` of an answer, as the request log records them.
pub(crate) fn answered(response: &Response<Body>) -> (u16, Option<u32>) {
    (
        response.status().as_u16(),
        retry_after_of(response.headers()),
    )
}

impl FieldErrorKind {
    fn reason(self) -> &'static str {
        match self {
            Self::Forbidden => "FieldValueForbidden",
            Self::Unsupported => "FieldValueNotSupported",
        }
    }

    fn render(self, detail: &str) -> String {
        match self {
            Self::Forbidden => format!("Forbidden: {detail}"),
            Self::Unsupported => format!("Unsupported value: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &Status) -> String {
        String::from_utf8(s.to_json_line()).unwrap()
    }

    #[test]
    fn the_etcd_watch_410_matches_the_reference_byte_for_byte() {
        assert_eq!(
            text(&Status::watch_too_old_etcd()),
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"The resourceVersion for the provided watch is too old.\",\"reason\":\"Expired\",\"code\":410}\n"
        );
    }

    #[test]
    fn the_too_large_504_carries_its_cause_and_retry_after() {
        let status = Status::too_large_resource_version(20000, 12345);
        assert_eq!(
            text(&status),
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Timeout: Too large resource version: 20000, current: 12345\",\"reason\":\"Timeout\",\"details\":{\"causes\":[{\"reason\":\"ResourceVersionTooLarge\",\"message\":\"Too large resource version\"}],\"retryAfterSeconds\":1},\"code\":504}\n"
        );
        let response = status.into_response();
        assert_eq!(response.status(), 504);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn several_list_option_errors_join_in_brackets_with_one_cause_each() {
        let status = Status::invalid_list_options(&[
            FieldError {
                field: "resourceVersionMatch",
                kind: FieldErrorKind::Forbidden,
                detail: "resourceVersionMatch is forbidden unless resourceVersion is provided"
                    .into(),
            },
            FieldError {
                field: "resourceVersionMatch",
                kind: FieldErrorKind::Unsupported,
                detail: "\"Foo\": supported values: \"Exact\", \"NotOlderThan\", \"\"".into(),
            },
        ]);
        assert_eq!(status.code, 422);
        assert!(status.message.starts_with(
            "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: "
        ));
        assert_eq!(status.details.as_ref().unwrap().causes.len(), 2);
    }

    #[test]
    fn a_missing_path_is_a_404_with_empty_details() {
        assert_eq!(
            text(&Status::not_found_path()),
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n"
        );
    }
}
