//! kube-watch-harness: a chaos and diagnostic test harness for Kubernetes watch clients.
//!
//! A simulated kube-apiserver ([`apiserver`]) plays a scenario ([`scenario`]): a workload and
//! faults on a timeline (compaction, dropped bookmarks, expired watches) against a matrix of
//! real kube-rs watcher set-ups ([`subject`]), in deterministic virtual time ([`run`]). The
//! [`verdict`] checks each watcher's view against the server's truth and explains failures;
//! [`report`] renders the result.
//!
//! ```no_run
//! use kube_watch_harness::{run, scenario};
//!
//! let scenario = scenario::load("scenarios/idle-expire.yaml")?;
//! let report = run::run(&scenario, &run::RunOptions::default())?;
//! for outcome in &report.outcomes {
//!     println!("{}: {}", outcome.setup, if outcome.verdict.recovered { "recovered" } else { "not recovered" });
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod apiserver;
pub mod cli;
pub mod fault;
pub mod live;
pub mod report;
pub mod run;
pub mod scenario;
pub mod selector;
pub mod subject;
pub mod trace;
pub mod transport;
pub mod verdict;
