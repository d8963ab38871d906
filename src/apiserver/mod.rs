//! The simulated kube-apiserver: a stateful store with one global revision clock, history and
//! compaction, a watch cache with its history window, LIST with pagination, WATCH with
//! bookmarks and timeouts, discovery, and real `metav1.Status` errors, served by hyper over any
//! byte stream.
//!
//! It follows shared/docs/k8s-watch-semantics.md; each rule names its upstream source where it
//! is implemented. Entry points: [`ApiServer::new`], [`ApiServer::handle`] and [`serve`] for a
//! connection (`connection`), [`play`] for a scenario's timeline (`timeline`). Dependencies
//! point one way: [`ApiServer`] dispatches to the handlers (`list`, `watch`, `answer`), and
//! they all share `shared::Shared`, which imports none of them; faults reach open watches over
//! one channel (`alarm`). A run that asks too fast is stopped as a storm (`storm`). This module never imports `subject` or `verdict`.

mod alarm;
pub(crate) mod answer;
mod balancer;
pub(crate) mod body;
mod cache;
mod connection;
mod discovery;
mod discovery_known;
mod discovery_known_core;
mod discovery_known_groups;
mod downtime;
mod fanout;
mod freshness;
mod go_json;
mod history;
mod lagging;
mod list;
mod memo;
mod metrics;
mod object_body;
pub(crate) mod query;
mod remaining;
mod replicas;
pub(crate) mod route;
mod server;
mod shared;
pub(crate) mod status;
mod store;
mod storm;
mod table_columns;
mod table_printer;
mod timeline;
mod watch;
mod watcher_buffer;
mod wire;

pub(crate) use connection::restarted;
pub use connection::{serve, serve_live};
pub use history::Floors;
pub(crate) use route::verb_of;
pub use server::ApiServer;
pub use storm::{STORM_BURST, STORM_SPAN, storm_words};
pub use timeline::play;
