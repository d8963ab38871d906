//! How a fault looks on the wire, where its kind leaves a choice: how a 410 is sent
//! ([`GoneForm`]) and worded ([`GoneMessage`]), how a stream is cut ([`Cut`]), how an error is
//! written ([`ErrorBody`]), what latency slows ([`LatencyOn`]), how an event line is malformed
//! ([`Malformed`]), and which in-stream `ERROR` ends a watch ([`StreamError`]). Each is the faithful form of a real server's or proxy's
//! (shared/docs/k8s-watch-semantics.md §2.5, §4).

use serde::{Deserialize, Serialize};

/// How a 410 at watch start is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoneForm {
    /// HTTP 200, one `ERROR` event, end of stream: what kube-apiserver does (reference §2.5).
    Event,
    /// An HTTP 410 response with a Status body, as proxies and aggregated API servers do.
    Http,
}

/// Whose words a 410 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoneMessage {
    /// The watch cache's `too old resource version: N (M)`.
    Cache,
    /// etcd's `The resourceVersion for the provided watch is too old.`
    Etcd,
}

/// How an error response is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBody {
    /// A `metav1.Status` JSON body, the apiserver's own form.
    Status,
    /// Plain text, as priority-and-fairness and Go's HTTP server write (reference §4, 429 (b)).
    Text,
}

/// What a `latency` fault slows down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyOn {
    /// Each matching request waits before it is answered.
    Requests,
    /// Each event on a matching watch arrives late.
    Events,
}

/// Which in-stream `ERROR` (other than a 410) the apiserver ends a watch with, each a state a
/// real server is in and worded as its source words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamError {
    /// The WatchList gate is on but etcd cannot give progress notifications on request (an
    /// etcd older than 3.4.31 or 3.5.13, or one the apiserver cannot check: its
    /// `storage/feature/feature_support_checker.go`): the watch cache answers every streaming
    /// list it serves (`sendInitialEvents=true` with bookmarks allowed) with HTTP 200,
    /// one `ERROR` 500 `InternalError` "a watch stream was requested by the client but the
    /// required storage feature RequestWatchProgress is disabled", and the end (apiserver
    /// `storage/cacher/cacher.go`, `Watch`: "client-go is going to fall back to a standard
    /// LIST on any error returned for watch-list requests"; `newErrWatcher`).
    WatchProgressUnsupported,
}

/// How an event line is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// The line is cut in half (then ends with its newline): invalid JSON.
    Truncated,
    /// Valid JSON of the wrong shape: the object without its `{"type","object"}` envelope.
    WrongShape,
}

/// How a watch stream is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// A clean end: the final zero-length chunk, as at a timeout.
    Clean,
    /// The connection closes in the middle of an event line, without the final chunk.
    MidChunk,
    /// The connection closes between events, without the final chunk.
    Reset,
}

impl Cut {
    /// The name a scenario gives it: `clean`, `mid_chunk`, `reset`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::MidChunk => "mid_chunk",
            Self::Reset => "reset",
        }
    }
}

/// Its name, as a scenario writes it.
impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
