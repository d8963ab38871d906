//! Scenario files: strict YAML ([`file`]) validated into a [`Scenario`] (`model.rs`).
//!
//! Entry points: [`load`] for a path, [`Scenario::from_yaml`] for text. Every error names the
//! file, the line and column where known, and the key path (`timeline[2].at`).

mod document;
mod error;
mod file;
mod load;
mod model;
pub(crate) mod placeholder;
mod step;

pub use crate::span::{Span, format as format_duration};

/// The JSON Schema of scenario files, generated from the types the loader parses with, for
/// editors (`scenario.schema.json` in the repository is this, kept current by a test).
#[must_use]
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(file::ScenarioFile);
    schema.insert("title".into(), "kube-watch-harness scenario".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
pub use document::Document;
pub use error::{Error, Location, Result};
pub use load::{files_in, load};
pub use model::{
    Action, Backoff, BackoffOn, ClientSettings, Consumer, Expect, Expected, ListSemantic,
    ObjectSpec, PageSize, ResourceSpec, Scenario, ServerSpec, SetUp, Shape, Step, Timeout,
    WatcherSettings, Write,
};
