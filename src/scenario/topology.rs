//! Several apiservers behind one load balancer: the replicas, each with its own watch cache,
//! and how the balancer spreads clients over them.
//!
//! Every kube-apiserver of a cluster talks to the same etcd, so writes, revisions and etcd's
//! compaction are one; each keeps its own watch cache, fed by its own etcd watch, and so each
//! can lag the others (kubernetes#59848). A LIST at `resourceVersion=0` is served from the
//! cache of whichever replica the request reaches, however far behind it is.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One kube-apiserver behind the load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaSpec {
    /// Its name, which the verdict uses to say where a request went.
    pub name: String,
    /// How late its watch cache hears each change etcd commits: its etcd watch is that far
    /// behind (an overloaded apiserver, or one whose etcd member lags). Its watches get each
    /// change that late, its bookmarks and `resourceVersion=0` LISTs show etcd as it was that
    /// long ago, and a consistent read waits for it (up to 3 s, then etcd answers). Without a
    /// watch cache (`watch_cache: false`) it does nothing: the replica serves from etcd.
    pub cache_lag: Duration,
    /// Its watch cache's history window (the server's `watch_cache_window` when left out).
    pub watch_cache_window: Duration,
}

/// How the load balancer picks a replica.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// A layer-4 balancer: each new connection goes to the next replica in turn, and every
    /// request on it to that replica, until the connection closes.
    #[default]
    Sticky,
    /// A layer-7 balancer: each request goes to the next replica in turn, whatever connection
    /// it came on.
    RoundRobin,
}

impl Balance {
    /// Its name, as `load_balancer:` writes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sticky => "sticky",
            Self::RoundRobin => "round_robin",
        }
    }
}
