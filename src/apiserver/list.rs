//! LIST: resourceVersion × resourceVersionMatch, pagination with continue tokens, selectors
//! (reference §1).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Response;
use serde::{Deserialize, Serialize};

use super::body::{Body, json};
use super::cache::retry_after_unready;
use super::freshness::wait_for_revision;
use super::query::{Query, Version};
use super::replicas::ReplicaId;
use super::shared::Shared;
use super::status::{FieldError, FieldErrorKind, Status};

/// The apiserver's continue token: base64url (no padding) of this JSON
/// (apiserver `storage/continue.go`). `rv: -1` means "the rest, at the latest revision".
#[derive(Debug, Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

/// A token to go on after `start` (a key relative to the request's prefix, see [`relative`]).
pub(super) fn encode_continue(rv: i64, start: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: format!("{start}\u{0}"),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("a token serializes"))
}

/// A token's start key is the last key with the request's key prefix cut off
/// (`storage.EncodeContinue`). etcd's prefix ends in `/` (`/registry/configmaps/NS/`), so its
/// tokens start at `NAME`; the watch cache's does not (`/configmaps/NS`, the registry's key
/// root), so its tokens start at `/NAME`. A request across namespaces keeps `NS/`. Seen on
/// kube-apiserver 1.37 by the conformance suite (`list-paged`, `list-continue-*`).
fn relative(key: &str, namespace: Option<&str>, from_cache: bool) -> String {
    let rest = namespace
        .and_then(|ns| key.strip_prefix(ns))
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(key);
    if from_cache {
        format!("/{rest}")
    } else {
        rest.to_owned()
    }
}

/// The store key a token's start key names, for a request in `namespace`.
fn absolute(start: &str, namespace: Option<&str>) -> String {
    let rest = start.trim_end_matches('\u{0}');
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    match namespace {
        Some(ns) => format!("{ns}/{rest}"),
        None => rest.to_owned(),
    }
}

/// Where Go's `base64.RawURLEncoding` reports a `CorruptInputError`, which the apiserver's
/// message quotes (reference §1.4).
fn go_corrupt_input_offset(error: &base64::DecodeError, raw: &str) -> usize {
    match error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol(offset, _) => *offset,
        // A dangling last symbol (length 4n+1): Go names the byte after the last full quantum.
        base64::DecodeError::InvalidLength(_) => raw.len() - raw.len() % 4,
        base64::DecodeError::InvalidPadding => raw.find('=').unwrap_or(raw.len()),
    }
}

fn decode_continue(raw: &str) -> Result<(i64, String), String> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|e| {
        format!(
            "invalid continue token: continue key is not valid: illegal base64 data at input byte {}",
            go_corrupt_input_offset(&e, raw)
        )
    })?;
    let token: ContinueToken =
        serde_json::from_slice(&bytes).map_err(|e| format!("invalid continue token: {e}"))?;
    if token.v != "meta.k8s.io/v1" {
        return Err(format!(
            "invalid continue token: got version {:?}, expected meta.k8s.io/v1",
            token.v
        ));
    }
    if token.rv < -1 || token.rv == 0 {
        return Err("invalid continue token: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into());
    }
    Ok((token.rv, token.start))
}

/// `resourceVersionMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Unset,
    NotOlderThan,
    Exact,
}

/// Checks `ListOptions` the way apimachinery `ValidateListOptions` does.
fn validate(query: &Query, version: Version, has_continue: bool) -> Result<Match, Box<Status>> {
    let mut errors = Vec::new();
    let matching = match query.get("resourceVersionMatch") {
        None | Some("") => Match::Unset,
        Some("NotOlderThan") => Match::NotOlderThan,
        Some("Exact") => Match::Exact,
        Some(other) => {
            errors.push(FieldError {
                field: "resourceVersionMatch",
                kind: FieldErrorKind::Unsupported,
                detail: format!("\"{other}\": supported values: \"Exact\", \"NotOlderThan\", \"\""),
            });
            Match::Unset
        }
    };
    if matching != Match::Unset {
        if has_continue {
            errors.push(forbidden(
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        match version {
            Version::Unset => errors.push(forbidden(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            )),
            Version::Zero if matching == Match::Exact => {
                errors.push(forbidden(
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            _ => {}
        }
    }
    if query.get("sendInitialEvents").is_some() {
        errors.push(FieldError {
            field: "sendInitialEvents",
            kind: FieldErrorKind::Forbidden,
            detail: "sendInitialEvents is forbidden for list".into(),
        });
    }
    if errors.is_empty() {
        Ok(matching)
    } else {
        Err(Box::new(Status::invalid_list_options(&errors)))
    }
}

fn forbidden(detail: &str) -> FieldError {
    FieldError {
        field: "resourceVersionMatch",
        kind: FieldErrorKind::Forbidden,
        detail: detail.into(),
    }
}

/// Answers a LIST of the collection (in `namespace`, or across all namespaces).
pub(super) async fn list(
    shared: &Shared,
    namespace: Option<&str>,
    query: &Query,
) -> Response<Body> {
    match try_list(shared, namespace, query).await {
        Ok(response) | Err(response) => response,
    }
}

/// The revision a LIST page's continue token names, when it names one (`rv: -1`, "the rest at
/// the latest revision", names none).
pub(super) fn continue_revision(query: &Query) -> Option<u64> {
    let (rv, _) = decode_continue(query.get("continue")?).ok()?;
    u64::try_from(rv).ok()
}

async fn try_list(
    inner: &Shared,
    namespace: Option<&str>,
    query: &Query,
) -> Result<Response<Body>, Response<Body>> {
    let bad = |m: String| Status::bad_request(m).into_response();
    let version = Version::parse(query.get("resourceVersion")).map_err(bad)?;
    let continue_ = query.get("continue").filter(|c| !c.is_empty());
    let matching = validate(query, version, continue_.is_some()).map_err(|s| s.into_response())?;
    if continue_.is_some() && matches!(version, Version::At(_)) {
        return Err(bad(
            "specifying resource version is not allowed when using continue".into(),
        ));
    }
    let selector = inner.selector(query).map_err(bad)?;
    let limit = query
        .integer("limit")
        .map_err(bad)?
        .filter(|l| *l > 0)
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    // A watch cache still (re)initializing sends a LIST with a limit and no selector to etcd
    // and answers any other 429 (`shouldDelegateListOnNotReadyCache` in apiserver
    // `cacher/delegator.go`, ResilientWatchCacheInitialization).
    let unready = {
        let now = inner.recorder.now();
        inner
            .lock()
            .cache(query.replica)
            .and_then(|c| c.unready(now))
    };
    if let Some(downtime) = unready
        && (limit.is_none() || !selector.is_empty())
    {
        return Err(Status::too_many_requests()
            .with_retry_after(retry_after_unready(downtime))
            .into_response());
    }
    // With a watch cache, RV=0 is served from the cache and the limit is ignored
    // (`computeListLimit` in apiserver `cacher.go`); without one (Events) etcd honours it.
    let from_cache = inner.spec.watch_cache && unready.is_none();
    let limit = if version == Version::Zero && from_cache {
        None
    } else {
        limit
    };

    let (snapshot, start_after) = snapshot(
        inner,
        namespace,
        continue_,
        (version, matching),
        limit.is_some(),
        from_cache.then_some(query.replica),
    )
    .await?;

    let mut state = inner.lock();
    let state = &mut *state;
    let mut matching = state
        .store
        .state_at_after(snapshot, start_after.as_deref())
        .filter(|o| namespace.is_none_or(|ns| o.namespace.as_deref() == Some(ns)))
        .filter(|o| selector.selects_fields(&o.name, o.namespace.as_deref(), &o.labels, &o.body))
        .peekable();
    let page: Vec<_> = match limit {
        Some(limit) => matching.by_ref().take(limit).collect(),
        None => matching.by_ref().collect(),
    };
    let last = page
        .last()
        .map_or_else(|| start_after.clone().unwrap_or_default(), |o| o.key());
    // A full page says "more" when any key is left in the range, selected or not: etcd's
    // range response and the cache's index walk stop at the limit without looking further
    // (`hasMore` in apiserver `etcd3/store.go`, `cacher.go`), so a selected list can end
    // with an empty page (reference §1.1).
    let more = if selector.is_empty() {
        matching.peek().is_some()
    } else {
        limit.is_some_and(|l| page.len() == l)
            && state
                .store
                .state_at_after(snapshot, Some(&last))
                .any(|o| namespace.is_none_or(|ns| o.namespace.as_deref() == Some(ns)))
    };
    // `remainingItemCount` is only sent without a selector (apiserver `storage/continue.go`).
    let remaining = (more && selector.is_empty()).then(|| {
        let known = start_after
            .as_deref()
            .and_then(|after| state.remaining.get(snapshot, namespace, after))
            .and_then(|before| before.checked_sub(page.len() as u64));
        let remaining = known.unwrap_or_else(|| matching.count() as u64);
        state
            .remaining
            .keep(snapshot, namespace, last.clone(), remaining);
        remaining
    });
    let continue_token = more.then(|| {
        encode_continue(
            i64::try_from(snapshot).unwrap_or(i64::MAX),
            &relative(&last, namespace, from_cache),
        )
    });
    if let Some(printer) = inner.printer(query) {
        return Ok(json(printer.table(
            &page,
            snapshot,
            continue_token,
            remaining,
        )));
    }
    Ok(json(inner.wire(query).list(
        &page,
        snapshot,
        continue_token,
        remaining,
    )))
}

/// The revision a LIST reads at, and the key it starts after: a continue token's, or the one
/// its resourceVersion and match rule ask for (reference §1.3); a token or revision the server
/// cannot serve is the error response. `cache` is the replica whose watch cache serves it,
/// if one does: a LIST at "0" reads it as it is, lagging or not, and a consistent read waits
/// for it to reach etcd's revision, for up to 3 s, then asks etcd (`GetList` in apiserver
/// `cacher/delegator.go`).
async fn snapshot(
    inner: &Shared,
    namespace: Option<&str>,
    continue_: Option<&str>,
    (version, matching): (Version, Match),
    limited: bool,
    cache: Option<ReplicaId>,
) -> Result<(u64, Option<String>), Response<Body>> {
    let from_cache = cache.is_some();
    let bad = |m: String| Status::bad_request(m).into_response();
    if let Some(token) = continue_ {
        let (rv, start) = decode_continue(token).map_err(bad)?;
        // A page at a revision is an exact read: a watch cache serves it once it has got there,
        // waiting as for any other (`delegator/interface.go`); a lagging one may not have.
        if let (Some(id), Ok(rv)) = (cache, u64::try_from(rv)) {
            let heard = wait_for_revision(inner, rv, id).await;
            if rv > heard {
                return Err(Status::too_large_resource_version(rv, heard).into_response());
            }
        }
        let state = inner.lock();
        let last_key = absolute(&start, namespace);
        if rv == -1 {
            Ok((state.store.revision(), Some(last_key)))
        } else {
            let rv = u64::try_from(rv).expect("decode_continue rejects negatives other than -1");
            if rv < state.store.compacted() {
                // etcd's replacement token (`etcd3/errors.go`): etcd's prefix, whatever served
                // the first page.
                let start = relative(&last_key, namespace, false);
                return Err(Status::continue_expired(encode_continue(-1, &start)).into_response());
            }
            Ok((rv, Some(last_key)))
        }
    } else {
        // The legacy rule: a limit with an RV and no match means Exact (reference §1.3).
        let exact = matching == Match::Exact
            || (matching == Match::Unset && limited && matches!(version, Version::At(_)));
        match version {
            Version::Zero => {
                let state = inner.lock();
                let at = cache.map_or(state.store.revision(), |id| state.revision_of(id));
                Ok((at, None))
            }
            Version::Unset => {
                let current = inner.lock().store.revision();
                let at = match cache {
                    Some(id) => match wait_for_revision(inner, current, id).await {
                        heard if heard >= current => heard,
                        // Not fresh within the timeout: etcd answers.
                        _ => inner.lock().store.revision(),
                    },
                    None => current,
                };
                Ok((at, None))
            }
            Version::At(n) => {
                let current = match cache {
                    Some(id) => wait_for_revision(inner, n, id).await,
                    None => inner.lock().store.revision(),
                };
                if n > current {
                    let status = if from_cache {
                        Status::too_large_resource_version(n, current)
                    } else {
                        Status::too_large_resource_version_etcd(n, current)
                    };
                    return Err(status.into_response());
                }
                if exact {
                    if n < inner.lock().store.compacted() {
                        return Err(Status::list_too_old().into_response());
                    }
                    Ok((n, None))
                } else {
                    Ok((current, None))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_s_start_key_is_relative_to_the_prefix_of_the_store_that_served_the_page() {
        assert_eq!(
            relative("ns/b", Some("ns"), false),
            "b",
            "etcd: /registry/cm/ns/"
        );
        assert_eq!(relative("ns/b", Some("ns"), true), "/b", "cache: /cm/ns");
        assert_eq!(relative("ns/b", None, false), "ns/b");
        assert_eq!(relative("ns/b", None, true), "/ns/b");
        for (start, namespace) in [("b", Some("ns")), ("/b", Some("ns")), ("ns/b", None)] {
            assert_eq!(absolute(start, namespace), "ns/b");
        }
    }

    #[test]
    fn continue_tokens_have_the_apiservers_shape() {
        // The reference's example token for RV 12345 and last item `default/pod-b` (§1.4).
        assert_eq!(
            encode_continue(12345, "default/pod-b"),
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDUsInN0YXJ0IjoiZGVmYXVsdC9wb2QtYlx1MDAwMCJ9"
        );
        assert_eq!(
            decode_continue(&encode_continue(-1, "a/b")).unwrap(),
            (-1, "a/b\u{0}".to_owned())
        );
    }

    #[test]
    fn malformed_continue_tokens_are_rejected_with_the_reason() {
        assert_eq!(
            decode_continue("eyJ2!!!").unwrap_err(),
            "invalid continue token: continue key is not valid: illegal base64 data at input byte 4"
        );
        assert!(decode_continue(&URL_SAFE_NO_PAD.encode(b"{}")).is_err());
    }

    #[test]
    fn match_without_version_and_exact_zero_are_invalid() {
        let q = Query::parse(Some("resourceVersionMatch=Exact"));
        assert_eq!(validate(&q, Version::Unset, false).unwrap_err().code, 422);
        assert_eq!(validate(&q, Version::Zero, false).unwrap_err().code, 422);
        assert_eq!(validate(&q, Version::At(5), false).unwrap(), Match::Exact);
        let q = Query::parse(Some("resourceVersionMatch=Foo&resourceVersion=5"));
        assert!(
            validate(&q, Version::At(5), false)
                .unwrap_err()
                .message
                .contains("Unsupported value: \"Foo\"")
        );
    }
}
