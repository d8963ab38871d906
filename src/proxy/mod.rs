//! Real-cluster mode: `harness proxy` stands between clients and a real kube-apiserver (kind,
//! k3d, a staging cluster, the anchor control plane), forwards every request to it as the
//! kubeconfig's user, and plays a scenario's faults on that traffic on the scenario's
//! timeline, as an intermediary can make them honestly (`playable`); the scenario's workload
//! is written upstream in namespaces of the run's own and deleted at the end. What the proxy
//! saw is recorded in the same trace the simulated server keeps, so `harness exec --upstream`
//! judges a client exactly as on the simulation, with the truth read from the real apiserver
//! (`truth`).

mod error;
mod forward;
mod playable;
mod server;
mod shared;
mod truth;
mod upstream;
mod watch_relay;
mod workload;

pub use error::Error;
pub use server::{Proxy, ProxyOptions};
pub(crate) use upstream::chosen as upstream_context;
pub use workload::RUN_LABEL;
