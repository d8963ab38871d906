//! The kinds kube-apiserver serves, from k8s-openapi, and whether an object is one a real
//! apiserver could have stored.
//!
//! A built-in object that lacks a required field (an Event without `involvedObject`, a Pod whose
//! `spec` has no `containers`) is refused by kube-apiserver, so no real client ever receives one.
//! kube-rs does not notice (k8s-openapi fills a missing required field with its default), but
//! strict clients do: the Python `kubernetes` client's models refuse to decode it. So the loader
//! checks every object a scenario would have the server serve against the OpenAPI schema that
//! k8s-openapi carries for its kind (its `schemars` feature): every required field present,
//! recursively; every field one the kind has (the apiserver drops unknown ones, so it never
//! serves them); every value of its field's JSON type, and times in RFC 3339.
//!
//! Entry point: [`Kind::find`]; then [`Kind::check_body`] for an object's fields, or
//! [`Kind::check_object`] for a whole object as served. Custom resources are not known here and
//! are not checked. Beyond its schema, kube-apiserver validates more (a Pod needs at least one
//! container, names have a format); that is not checked here.
//!
//! Where things are: `kinds.rs` the catalogue of built-in kinds and their schemas; `schema_walk.rs`
//! the walk of a value against a schema; `violation.rs` what it reports.

mod kinds;
mod schema_walk;
mod violation;

pub use kinds::{Kind, SERVER_SET};
pub use violation::{Problem, Violation};
