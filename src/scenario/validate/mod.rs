//! Validating a scenario file already read into a [`crate::scenario::file::ScenarioFile`]: what
//! serde cannot check (order, references, bounds, what kube-apiserver would refuse), each error
//! naming the key and the place of its value.
//!
//! `validator.rs` holds the [`validator::Validator`] and the scenario as a whole (name,
//! duration, resource, server, `expect`); `objects.rs` the objects, `timeline.rs` the timeline,
//! `topology.rs` the replicas behind a load balancer and `setups.rs` the watcher matrix.

mod objects;
mod setups;
mod timeline;
mod topology;
mod validator;

pub(super) use validator::validate;
