//! How a watch begins: as asked, or as a fault on the request makes it begin.

/// How a watch begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    /// As the request asks.
    Normal,
    /// As the request asks, but an ERROR event leaves out the Status `code` (a `watch_410`
    /// fault with `code: false`).
    WithoutCode,
    /// With nothing at all: 200 and the end (an `empty_watch` fault).
    Empty,
    /// With an ERROR 504: a streaming list reached a watch cache that did not get to the
    /// revision it needs, `requested`, within 3 s; it is at `current`
    /// (`waitUntilWatchCacheFreshAndForceAllEvents` in apiserver `cacher.go`).
    NotFresh {
        /// The revision the watch needed: etcd's current one when it came.
        requested: u64,
        /// The cache's revision when it gave up.
        current: u64,
    },
}
