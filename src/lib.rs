//! kube-watch-harness: a chaos and diagnostic test harness for Kubernetes watch clients.
//!
//! A simulated kube-apiserver ([`apiserver`]) plays a scenario ([`scenario`]): a workload and
//! faults on a timeline (compaction, dropped bookmarks, expired watches) against a matrix of
//! real kube-rs watcher set-ups ([`subject`]), in deterministic virtual time ([`run`]). The
//! [`verdict`] checks each watcher's view against the server's truth and explains failures;
//! [`report`] renders the result.
//!
//! Test your own watcher code from `cargo test`: the closure gets a kube `Client` connected to
//! the scenario's server and returns what your controller consumes — an event stream
//! (`run_with`), a stream of objects (`run_with_applied_objects`, `run_with_touched_objects`),
//! or a reflector store and what drives it, a `Controller` included (`run_with_store`). A
//! 10-minute scenario runs in milliseconds, the same way every time. [`trial`] makes a
//! directory of scenarios one test per scenario × set-up.
//!
//! Beyond the catalogue: [`explore`] draws random fault timelines over a scenario's workload
//! and shrinks each failure to a minimal scenario file; [`exec`] serves a scenario to any
//! client, in any language, and judges it from what the server saw
//! ([`verdict::judge_client`]).
//!
//! ```
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::Api;
//! use kube::runtime::{WatchStreamExt, watcher};
//! use kube_watch_harness::scenario::Scenario;
//!
//! let scenario = Scenario::from_yaml(r#"
//! duration: 10m
//! resource:
//!   version: v1
//!   kind: ConfigMap
//!   plural: configmaps
//!   objects: [{ name: app-config, namespace: default }]
//! timeline:
//!   - { at: 2m, kind: expire_watches }
//!   - { at: 3m, kind: update, name: app-config, namespace: default, body: { data: { mode: green } } }
//! watchers: [{ name: defaults }]
//! expect: { deadline: 1m, recover: [defaults] }
//! "#)?;
//!
//! let outcome = scenario.run_with(|client| {
//!     watcher(Api::<ConfigMap>::all(client), watcher::Config::default()).default_backoff()
//! })?;
//! outcome.assert_recovered();
//!
//! // The scenario's own matrix of kube-rs set-ups, judged against its `expect` block.
//! scenario.run()?.assert_as_expected();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The vocabulary: what a scenario, a fault, a kind and a run's trace are made of.
pub mod check_name;
pub mod fault;
mod field_label;
pub mod mechanism;
mod merge_patch;
pub mod openapi;
mod peer;
pub mod scenario;
pub mod selector;
pub mod span;
pub mod suggest;
pub mod trace;

// The engine: the simulated kube-apiserver, in memory and on a loopback socket.
pub mod apiserver;
pub mod live;
pub mod transport;

// The watchers under test: kube-rs set-ups and what they are seen to hold.
pub mod subject;

// The judge: each view held against the server's truth, and why it failed.
pub mod outcome;
pub mod verdict;

// The drivers: runs in virtual time, any client's process, a real control plane, a proxy.
pub mod anchor;
pub mod exec;
mod kubeconfig;
pub mod proxy;
pub mod reaper;
pub mod run;
mod signal;

// The front ends: the command line, reports, a test per scenario, exploration, fuzzing.
pub mod cli;
pub mod explore;
#[doc(hidden)]
pub mod fuzz;
pub mod report;
pub mod trial;
