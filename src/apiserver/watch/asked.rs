//! What a watch was asked, kept for the fault rules it meets while it is open.

use crate::fault::RequestInfo;
use crate::trace::Verb;

/// A watch request as the fault rules see it, owned.
pub(super) struct Asked {
    path: String,
    query: String,
    /// The resourceVersion it was asked from, when it names one.
    resource_version: Option<u64>,
    /// The watch cache serves it: etcd's errors never reach it.
    from_watch_cache: bool,
}

impl Asked {
    pub(super) fn of(info: &RequestInfo<'_>) -> Self {
        Self {
            path: info.path.to_owned(),
            query: info.query.to_owned(),
            resource_version: info.resource_version,
            from_watch_cache: info.from_watch_cache,
        }
    }

    /// What the fault rules know of it.
    pub(super) fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            verb: Verb::Watch,
            path: &self.path,
            query: &self.query,
            resource_version: self.resource_version,
            from_watch_cache: self.from_watch_cache,
        }
    }
}
