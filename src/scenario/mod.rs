//! Scenario files: strict YAML ([`file`]) validated into a [`Scenario`] (`spec.rs`, and the
//! watcher matrix's set-ups in `setup.rs`).
//!
//! Entry points: [`load`] for a path, [`Scenario::from_yaml`] for text. Every error names the
//! file, the line and column where known, and the key path (`timeline[2].at`).
//!
//! `load.rs` reads files, `yaml.rs` drives the YAML parser and words its errors, `validate/`
//! checks what serde cannot, and `write_form.rs` is the one walk over a workload write's keys.

mod document;
mod error;
mod file;
mod load;
pub(crate) mod placeholder;
mod server_settings;
mod setup;
mod spec;
mod topology;
mod validate;
mod write_form;
mod yaml;

pub use crate::span::{Span, format as format_duration};
pub use document::Document;
pub use error::{Error, Location, Result};
pub use file::json_schema;
pub use load::{files_in, load};
pub use server_settings::ServerSettings;
pub use setup::{
    Backoff, BackoffOn, ClientSettings, Consumer, Expected, ListSemantic, PageSize, SetUp, Shape,
    Timeout, WatcherSettings,
};
pub use spec::{Action, Expect, ObjectSpec, ResourceSpec, Scenario, ServerSpec, Step, Write};
pub use topology::{Balance, ReplicaSpec};
