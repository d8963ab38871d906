//! Validating a scenario file already read into a [`crate::scenario::file::ScenarioFile`]: what
//! serde cannot check (order, references, bounds, what kube-apiserver would refuse), each error
//! naming the key and the place of its value.
//!
//! `validator.rs` holds the [`validator::Validator`] and the scenario as a whole (name,
//! duration, resource, server, `expect`); `objects.rs` the objects, `timeline.rs` the timeline
//! and `setups.rs` the watcher matrix.

mod objects;
mod setups;
mod timeline;
mod validator;

pub(super) use validator::validate;
