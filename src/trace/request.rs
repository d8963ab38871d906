//! A request as the server saw it, and the kind of request it took it for.

use serde::Serialize;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Sequence number within the run, from 1.
    pub id: u64,
    /// `GET`, ...
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The HTTP status sent.
    pub status: u16,
    /// What kind of request the server took it for.
    pub verb: Verb,
    /// Its `User-Agent`, which tells one client from another in live mode; empty when it
    /// sent none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agent: String,
    /// The local process that opened its connection, when the live server was asked to tell
    /// (`harness exec`, read from procfs by `peer.rs`): clients are told apart by it before
    /// their agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<u32>,
    /// The `Retry-After` its answer carried, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// The replica the load balancer sent it to, behind one (`server.replicas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
}

impl RequestRecord {
    /// The value of a query parameter, as sent (the first, as the server reads it).
    #[must_use]
    pub fn param(&self, key: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    /// The `resourceVersion` it asked for.
    #[must_use]
    pub fn asked(&self) -> Asked {
        match self.param("resourceVersion").as_deref() {
            None => Asked::Absent,
            Some("") => Asked::Empty,
            Some(v) => match v.parse::<u64>() {
                Ok(0) => Asked::Zero,
                Ok(n) => Asked::At(n),
                Err(_) => Asked::Invalid,
            },
        }
    }

    /// Whether it asked for a streaming list (`sendInitialEvents`, a boolean as apimachinery
    /// reads one: false only when absent, `0` or `false`).
    #[must_use]
    pub fn streams_initial_events(&self) -> bool {
        self.verb == Verb::Watch
            && self
                .param("sendInitialEvents")
                .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }
}

/// The `resourceVersion` a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// None: a consistent read, or a watch from the current state.
    Absent,
    /// `resourceVersion=` with no value, which the server takes as unset.
    Empty,
    /// `"0"`: any state, from the watch cache.
    Zero,
    /// A revision: a resume point for a watch.
    At(u64),
    /// Not a number; the server refuses it.
    Invalid,
}

impl Asked {
    /// Whether a watch asking for it starts from the server's state (ADDED for every object
    /// first) rather than resuming after a revision.
    #[must_use]
    pub fn fresh(self) -> bool {
        matches!(self, Self::Absent | Self::Empty | Self::Zero)
    }
}

/// What kind of request the server took a request for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// A LIST (first page: no `continue`).
    List,
    /// A later LIST page (with `continue`).
    ListPage,
    /// A WATCH.
    Watch,
    /// A GET of one object.
    Get,
    /// Discovery or anything else.
    Other,
}

impl Verb {
    /// The verb kube-apiserver's authorizer names it by, as a 403's message does: `list` (a
    /// continue page is one), `watch`, `get` (discovery is one) (apiserver
    /// `endpoints/request/requestinfo.go`).
    #[must_use]
    pub fn authorizer_verb(self) -> &'static str {
        match self {
            Self::List | Self::ListPage => "list",
            Self::Watch => "watch",
            Self::Get | Self::Other => "get",
        }
    }

    /// The `verb` label kube-apiserver's request metrics give it: the authorizer's, in
    /// capitals (apiserver `endpoints/metrics/metrics.go`, `CleanVerb`).
    #[must_use]
    pub fn metric_verb(self) -> &'static str {
        match self {
            Self::List | Self::ListPage => "LIST",
            Self::Watch => "WATCH",
            Self::Get | Self::Other => "GET",
        }
    }
}
