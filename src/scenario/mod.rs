//! Scenario files: strict YAML ([`file`]) validated into a [`Scenario`] ([`model`]).
//!
//! Entry points: [`load`] for a path, [`Scenario::from_yaml`] for text. Every error names the
//! file, the line and column where known, and the key path (`timeline[2].at`).

mod duration;
mod error;
mod file;
mod load;
mod model;
mod step;

pub use duration::{Span, format as format_duration};
pub use error::{Error, Location, Result};
pub use load::load;
pub use model::{
    Action, Backoff, BackoffOn, ClientSettings, Consumer, Expect, Expected, ObjectSpec,
    ResourceSpec, Scenario, ServerSpec, SetUp, Step, WatcherSettings, Write,
};
