//! The simulated kube-apiserver: a stateful store with one global revision clock, history and
//! compaction, LIST with pagination, WATCH with bookmarks and timeouts, discovery, and real
//! `metav1.Status` errors, served by hyper over any byte stream.
//!
//! It follows shared/docs/k8s-watch-semantics.md; each rule names its upstream source where it
//! is implemented. Entry points: [`ApiServer::new`], [`ApiServer::handle`] and [`serve`] for a
//! connection, [`play`] for a scenario's timeline. This module never imports `subject` or
//! `verdict`.

mod answer;
mod body;
mod discovery;
mod list;
mod query;
mod route;
mod server;
mod status;
mod store;
mod timeline;
mod watch;
mod wire;

pub use server::ApiServer;
pub use timeline::{play, serve, serve_live};
