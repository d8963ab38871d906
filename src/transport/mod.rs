//! How a kube `Client` reaches the server: in memory ([`client`], simulated mode) or over TCP
//! ([`tcp_client`], live mode).
//!
//! Both build the `Client` the way kube's `ClientBuilder::try_from(Config)` does — base URI,
//! client retry of 429/503/504, auth and extra headers, hyper-timeout's connect/read/write
//! timeouts — with two changes: the connector (an in-memory pipe, or plain TCP), and kube's
//! retry policy replaced by a replica whose jitter is seeded and whose delays follow the
//! run's speed (`retry.rs`).

mod client;
mod memory;
mod retry;

pub use client::{Error, SIMULATED_URL, client, config, tcp_client};
pub use memory::{MemoryConnector, MemoryStream};
