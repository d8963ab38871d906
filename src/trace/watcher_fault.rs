//! An error kube's watcher emitted, as the trace records it ([`WatcherFault`]): the
//! `watcher::Error` variant as a type, the Status it carried, and whether the client gave up
//! waiting — read from the error's types, never from its message, which kube may reword in any
//! release.

use serde::Serialize;

/// Which `kube::runtime::watcher::Error` variant it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WatcherErrorVariant {
    /// The initial LIST (or a page of it) failed.
    InitialListFailed,
    /// A WATCH request failed before its stream began.
    WatchStartFailed,
    /// An open watch stream failed (a cut, a read timeout, a line kube could not decode).
    WatchFailed,
    /// The server sent an ERROR event (a Status) on the stream.
    WatchError,
    /// An object came without a resourceVersion.
    NoResourceVersion,
}

/// An error the watcher emitted, reduced to what a verdict needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatcherFault {
    /// The `watcher::Error` variant.
    pub variant: WatcherErrorVariant,
    /// The HTTP or Status code, when there is one.
    pub code: Option<u16>,
    /// The Status reason, when there is one.
    pub reason: Option<String>,
    /// The Status message, when there is one.
    pub status_message: Option<String>,
    /// The client gave up waiting: an I/O error of kind `TimedOut` among the error's sources
    /// (kube's read timeout, through hyper-timeout).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
    /// The full message, for people.
    pub message: String,
}
