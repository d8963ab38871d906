//! The verdict: is the watcher's history explainable by the server's truth?
//!
//! Pure functions of the scenario, the set-up and the run's trace — no I/O, no clock. Entry
//! point: [`judge`]. Checks (client-side cousins of etcd's watch validators): the consumer
//! survived; the view converged to the truth (and a reflector's store too); it was back in
//! sync within the deadline after the last fault; relists and request rate stayed in bounds.
//! A failure comes with a diagnosis in words.

mod diagnosis;
mod history;
mod judge;
mod model;
mod requests;
mod view;

pub use judge::{DELIVERY_LAG, gaps, judge, judge_with_lag};
pub use requests::{lists, watch_ends};
pub use model::{Check, CheckName, Figures, Verdict};
pub use view::{Objects, Sample, ViewFold, describe_difference, samples};
