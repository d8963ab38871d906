//! A conformance case: a short script of writes and requests, read from `cases.yaml`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One case: the same steps run against the real apiserver and the simulation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    /// Unique, kebab-case; also the namespace the case writes into (`c-NAME`).
    pub(crate) name: String,
    /// What the case shows, in a sentence.
    pub(crate) about: String,
    /// `configmaps`, `events` or `pods`.
    #[serde(default = "configmaps")]
    pub(crate) resource: String,
    /// Whether the resource is served from the watch cache. Default: as kube-apiserver's
    /// defaults have it (Events are not).
    #[serde(default)]
    pub(crate) cached: Option<bool>,
    /// The script.
    pub(crate) steps: Vec<Step>,
}

fn configmaps() -> String {
    "configmaps".into()
}

impl Case {
    /// The namespace the case's objects live in.
    pub(crate) fn namespace(&self) -> String {
        format!("c-{}", self.name)
    }

    /// The case, checked to be named `name` (a case made in code names itself once).
    pub(crate) fn named(self, name: &str) -> Self {
        assert_eq!(self.name, name, "the case's YAML names it");
        self
    }

    /// Whether the case's resource has a watch cache.
    pub(crate) fn cached(&self) -> bool {
        self.cached.unwrap_or(self.resource != "events")
    }
}

/// One step of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Step {
    /// Create an object in the case's namespace.
    Create(Object),
    /// Merge-patch an object: new labels if given, and `body`.
    Update(Object),
    /// Update an object `times` times, 20 ms apart, each time setting `data.fill` to a new
    /// value of `bytes` bytes: a resource changing faster than a reader that does not read
    /// takes.
    Churn(Churn),
    /// Delete an object.
    Delete {
        /// Its name.
        name: String,
    },
    /// Compact etcd's history below its current revision.
    Compact,
    /// Restart kube-apiserver (etcd keeps running), and wait until it is ready.
    Restart,
    /// One request whose whole answer is recorded.
    Request(Request),
    /// Open a watch and record its head; its events are read by `read`.
    Watch(Watch),
    /// Read events from an open watch.
    Read(Read),
}

/// Updates of one object, each carrying `bytes` bytes of data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Churn {
    /// `metadata.name`.
    pub(crate) name: String,
    /// How many updates.
    pub(crate) times: usize,
    /// The size of each update's `data.fill`.
    pub(crate) bytes: usize,
}

/// An object to write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Object {
    /// `metadata.name`.
    pub(crate) name: String,
    /// `metadata.labels`.
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    /// The fields beside `metadata` (a merge patch for `update`).
    #[serde(default)]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

/// A request. Placeholders in `path` and `query`: `{ns}` the case's namespace, `{collection}`
/// the namespaced collection's path, `{rv}` and `{continue}` from the last LIST answer,
/// `{rv:NAME}` the resourceVersion of NAME's last write, `{ahead}` a revision well past the
/// server's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    /// HTTP method. Default `GET`.
    #[serde(default = "get")]
    pub(crate) method: String,
    /// Path; default `{collection}`.
    #[serde(default = "collection")]
    pub(crate) path: String,
    /// Query string without `?`.
    #[serde(default)]
    pub(crate) query: String,
    /// Accept header, if any.
    #[serde(default)]
    pub(crate) accept: Option<String>,
    /// What the normalized answer keeps of a body: `all` (default), or `status` alone, for
    /// answers whose body is not part of the comparison (say so in the case's `about`).
    #[serde(default)]
    pub(crate) keep: Keep,
    /// Compare only one element of an array in the body, `FIELD[KEY=VALUE]`: a discovery
    /// document's entry for the case's own resource (the simulation serves one resource).
    #[serde(default)]
    pub(crate) pick: Option<String>,
}

fn get() -> String {
    "GET".into()
}

fn collection() -> String {
    "{collection}".into()
}

/// What a recorded answer keeps.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Keep {
    /// Status, framing and the normalized body.
    #[default]
    All,
    /// Status and framing.
    Status,
}

/// A watch to open.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Watch {
    /// The name `read` steps use.
    pub(crate) id: String,
    /// Path; default `{collection}`.
    #[serde(default = "collection")]
    pub(crate) path: String,
    /// Query string without `?` (`watch=true` is the case's to give).
    pub(crate) query: String,
    /// Accept header, if any.
    #[serde(default)]
    pub(crate) accept: Option<String>,
    /// Accept-Encoding header, if any: a gzipped answer is read member by member.
    #[serde(default)]
    pub(crate) accept_encoding: Option<String>,
}

/// Events to read from an open watch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Read {
    /// The watch.
    pub(crate) id: String,
    /// Stop after this many events; default: read until the stream ends or `within` passes.
    #[serde(default)]
    pub(crate) events: Option<usize>,
    /// Longest wait, in seconds, for the events or the end. Default 5.
    #[serde(default = "five")]
    pub(crate) within: f64,
    /// Leave BOOKMARK events out: their timing is the server's wall clock.
    #[serde(default)]
    pub(crate) skip_bookmarks: bool,
    /// Record the events' types and whether the last write came, not the events: how many
    /// arrive is a matter of each side's buffers.
    #[serde(default)]
    pub(crate) tally: bool,
}

fn five() -> f64 {
    5.0
}
