//! The `harness` command line: clap arguments ([`Args`]) to reports and exit codes.
//!
//! Exit codes: [`PASSED`] (0) when every set-up did what its scenario expects,
//! [`VERDICT_FAILED`] (1) when one did not, [`HARNESS_ERROR`] (2) when the harness could not run,
//! [`INTERRUPTED`] (130) when Ctrl-C or SIGTERM stopped `harness exec` before it judged.

mod args;
mod catalogue;
mod dispatch;
mod emit_tests;
mod exec;
mod explain;
mod explore;
mod explore_args;
mod explore_merge;
mod paths;
mod proxy;
mod render;
mod run;
mod serve;

pub use args::{
    Args, Command, ExplainFormat, ExploreArgs, ExploreCommand, ExploreFormat, Format, SchemaOf,
};
pub use dispatch::{HARNESS_ERROR, INTERRUPTED, PASSED, VERDICT_FAILED, run};
