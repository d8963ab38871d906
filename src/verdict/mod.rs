//! The verdict: is the watcher's history explainable by the server's truth?
//!
//! Pure functions of the scenario, the set-up and the run's trace — no I/O, no clock. Entry
//! points: [`judge`] for the kube-rs watcher, [`judge_client`] for a client `harness exec` ran
//! (`blackbox/`). Checks, one file each in `check/` (client-side cousins of etcd's watch
//! validators): the consumer survived; the view converged to the truth (and a reflector's
//! store too); it was back in sync within the deadline after the last fault; relists and
//! request rate stayed in bounds. A failure comes with a diagnosis: the
//! [`Mechanism`](crate::mechanism::Mechanism) a rule recognises in the trace (`rules/`, one rule
//! per mechanism), its causal chain, and where the view first left the truth.

mod answer;
mod blackbox;
mod call;
mod check;
mod delivery_lag;
mod diagnosis;
mod evidence;
#[cfg(test)]
mod fixtures;
mod fold;
mod judge;
#[cfg(test)]
mod judge_checks;
mod protocol;
mod reaction;
mod request_log;
mod rules;
mod scorecard;
mod selection;
mod watcher_history;

pub use crate::check_name::CheckName;
pub use blackbox::{Client, ClientId, Exit, agents_of, clients, judge_client};
pub use delivery_lag::{DELIVERY_LAG, live_delivery_lag};
pub use fold::{Objects, Sample, ViewFold, describe_difference, gaps, samples};
pub use judge::{judge, judge_with_lag};
pub use request_log::{lists, watch_ends};
pub use scorecard::{Check, Divergence, Figures, Link, Marks, Verdict};
