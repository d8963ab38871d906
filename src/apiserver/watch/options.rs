//! A watch request's query, validated the way the apiserver does before the stream starts
//! (apimachinery `internalversion/validation`, `defaults.go`; reference §2.1, §3).

use super::super::query::{Query, Version};
use super::super::shared::Shared;
use super::super::status::{FieldError, FieldErrorKind, Status};
use crate::selector::Selector;

/// What a valid watch request asks for.
pub(super) struct WatchOptions {
    pub(super) version: Version,
    pub(super) selector: Selector,
    /// `timeoutSeconds`, when positive.
    pub(super) timeout: Option<u64>,
    /// A streaming list, asked for or defaulted.
    pub(super) send_initial: bool,
    /// `allowWatchBookmarks`.
    pub(super) allow_bookmarks: bool,
}

impl WatchOptions {
    pub(super) fn parse(inner: &Shared, query: &Query) -> Result<Self, Box<Status>> {
        let bad = |message: String| Box::new(Status::bad_request(message));
        let version = Version::parse(query.get("resourceVersion")).map_err(bad)?;
        let selector = inner.selector(query).map_err(bad)?;
        let timeout = query
            .integer("timeoutSeconds")
            .map_err(bad)?
            .and_then(|t| u64::try_from(t).ok())
            .filter(|t| *t > 0);
        let send_initial = query
            .get("sendInitialEvents")
            .map(|_| query.flag("sendInitialEvents"));
        let rv_match = query.get("resourceVersionMatch").filter(|m| !m.is_empty());
        let forbidden = |field, detail: &str| {
            Box::new(Status::invalid_list_options(&[FieldError {
                field,
                kind: FieldErrorKind::Forbidden,
                detail: detail.to_owned(),
            }]))
        };
        if send_initial.is_some() && !inner.spec.watch_list {
            return Err(forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            ));
        }
        match (send_initial, rv_match) {
            (Some(_), m) if m != Some("NotOlderThan") => {
                return Err(forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            (None, Some(_)) => {
                return Err(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            _ => {}
        }
        // With the WatchList gate on, a watch from ""/"0" that names neither parameter is
        // defaulted to a streaming list (`SetListOptionsDefaults` in apimachinery
        // `internalversion/defaults.go`): with bookmarks allowed it ends its initial events
        // with the annotated bookmark although the client never asked (reference §2.7).
        let send_initial = match (send_initial, rv_match, version) {
            (None, None, Version::Unset | Version::Zero) => inner.spec.watch_list,
            (send, _, _) => send == Some(true),
        };
        Ok(Self {
            version,
            selector,
            timeout,
            send_initial,
            allow_bookmarks: query.flag("allowWatchBookmarks"),
        })
    }
}
