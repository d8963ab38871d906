//! The one vocabulary every module shares: a [`Trace`] of [`TraceEvent`]s in virtual time.
//!
//! The server records the truth (writes, faults, requests and how each watch ended); the subject
//! records what the watcher emitted. The verdict reads nothing else, and reads it as types: a
//! fault's [`FaultKind`], how a watch ended ([`WatchEnd`], a cut's [`Cut`]), the watcher's
//! error ([`WatcherFault`]) and why the consumer stopped ([`ConsumerStop`]) are each recorded
//! as what they are, never as words to be parsed back.
//!
//! Where things are: `event.rs` the events; `request.rs` a request and its verb; `watch.rs`
//! what a watch sent and how it ended; `object_key.rs` how an object is named;
//! `watcher_fault.rs` kube's watcher errors; `consumer_stop.rs` why a consumer stopped;
//! `recorder.rs` the run's clock, which stamps and appends events. A fault's kind and how a
//! stream is cut are the fault's ([`crate::fault`], beside the faults they describe); events
//! carry them, so they are named here too. The storm policy is the server's
//! (`apiserver::storm`).

mod consumer_stop;
mod event;
mod object_key;
mod recorder;
mod request;
mod watch;
mod watcher_fault;

pub use crate::fault::{Cut, FaultKind};
pub use consumer_stop::ConsumerStop;
pub use event::{Trace, TraceEvent, TraceKind};
pub use object_key::ObjectKey;
pub use recorder::{Recorder, SIMULATED_EPOCH};
pub use request::{Asked, RequestRecord, Verb};
pub use watch::{ClosedWhy, Damage, EventType, SentEvent, WatchEnd};
pub use watcher_fault::{WatcherErrorVariant, WatcherFault};
