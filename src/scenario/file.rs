//! The raw scenario file, exactly as YAML spells it: strict serde types, no cross-checks.
//!
//! Everything here is `deny_unknown_fields`; [`super::model`] turns a [`ScenarioFile`] into a
//! validated [`super::Scenario`] and checks what serde cannot (order, references, bounds).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::duration::Span;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) seed: Option<u64>,
    pub(crate) duration: Span,
    pub(crate) resource: ResourceFile,
    #[serde(default)]
    pub(crate) server: ServerFile,
    #[serde(default)]
    pub(crate) timeline: Vec<StepFile>,
    pub(crate) watchers: Vec<WatcherFile>,
    pub(crate) expect: ExpectFile,
}

/// What is watched, and the objects it starts with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceFile {
    #[serde(default)]
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) plural: String,
    #[serde(default = "yes")]
    pub(crate) namespaced: bool,
    #[serde(default)]
    pub(crate) objects: Vec<ObjectFile>,
}

fn yes() -> bool {
    true
}

/// One object of the watched resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectFile {
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    /// Top-level fields besides `metadata` (`spec`, `data`, `reason`, ...), copied as they are.
    #[serde(default)]
    pub(crate) body: BTreeMap<String, serde_json::Value>,
}

/// How the simulated API server behaves.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerFile {
    pub(crate) watch_cache: Option<bool>,
    pub(crate) watch_list: Option<bool>,
    pub(crate) bookmark_interval: Option<Span>,
    pub(crate) churn_interval: Option<Span>,
    pub(crate) compaction_interval: Option<Span>,
    pub(crate) max_requests: Option<u64>,
}

/// One timeline entry: a workload write or a fault, tagged by `kind:`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum StepFile {
    Create {
        at: Span,
        name: String,
        namespace: Option<String>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        body: BTreeMap<String, serde_json::Value>,
    },
    Update {
        at: Span,
        every: Option<Span>,
        until: Option<Span>,
        name: String,
        namespace: Option<String>,
        labels: Option<BTreeMap<String, String>>,
        #[serde(default)]
        body: BTreeMap<String, serde_json::Value>,
    },
    Delete {
        at: Span,
        name: String,
        namespace: Option<String>,
    },
    Idle {
        at: Span,
        #[serde(rename = "for")]
        duration: Span,
    },
    Compact {
        at: Span,
        retain: Option<Span>,
    },
    DropBookmarks {
        at: Span,
        #[serde(rename = "for")]
        duration: Span,
    },
    ExpireWatches {
        at: Span,
    },
}

/// One watcher set-up of the matrix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherFile {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) config: WatcherConfigFile,
    pub(crate) backoff: Option<BackoffFile>,
    pub(crate) consumer: Option<ConsumerFile>,
}

/// The fields of kube-runtime's `watcher::Config`; each absent one keeps kube's default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatcherConfigFile {
    pub(crate) bookmarks: Option<bool>,
    pub(crate) timeout: Option<Span>,
    pub(crate) page_size: Option<u32>,
    pub(crate) list_semantic: Option<ListSemanticFile>,
    pub(crate) streaming_lists: Option<bool>,
    pub(crate) label_selector: Option<String>,
    pub(crate) field_selector: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListSemanticFile {
    MostRecent,
    Any,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BackoffFile {
    None,
    Default,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsumerFile {
    Reflector,
    ContinueOnError,
    StopOnError,
}

/// What "recovered" means for this scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    pub(crate) deadline: Span,
    pub(crate) max_relists: Option<u32>,
    pub(crate) max_requests_per_minute: Option<u32>,
    #[serde(default)]
    pub(crate) recover: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) fail: Vec<Spanned<String>>,
}
