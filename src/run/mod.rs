//! Orchestration: each set-up of a scenario runs in a fresh, isolated world — its own thread,
//! its own current-thread tokio runtime with the clock paused, its own [`ApiServer`](crate::apiserver::ApiServer) and kube
//! `Client` over in-memory connections — and is judged from its trace.
//!
//! Entry point: [`run`]. A run that passes the scenario's request cap is stopped and judged as
//! a storm; one that passes the wall-clock deadline (a hot loop that never lets virtual time
//! move) or panics is reported as that set-up's failure, and the other set-ups still run.

mod catalogue;
mod custom;
mod error;
mod judged;
mod matrix;
pub(crate) mod parallel;
mod run_options;
mod world;
mod world_thread;

pub use crate::outcome::{Outcome, RunReport};
pub use catalogue::run_all;
pub use custom::CustomRun;
pub use error::Error;
pub use matrix::run;
pub use run_options::{Mode, RunOptions};
