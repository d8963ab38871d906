//! Faults: the typed spec a scenario names ([`Fault`], of a [`FaultKind`]), whom it hits
//! ([`Target`]), and the rules the server consults while it serves ([`FaultRules`]).
//!
//! Each fault has one faithful wire form (shared/docs/k8s-watch-semantics.md §7). Three kinds:
//! - **instant** faults act on the server once, at their time (`compact`, `expire_watches`,
//!   `restart`), and `cut_stream` / `stall_stream` also hit the watches open at that moment;
//! - **window** faults on bookmarks (`idle`, `drop_bookmarks`, `stale_bookmarks`,
//!   `empty_bookmarks`) change every bookmark due inside `[at, at + for)`;
//! - **request** faults hit the requests that match their [`Target`]: verbs, a time window, a
//!   count, and substrings of the path and query.
//!
//! Rules are checked in declaration order and the first that applies wins (as in turmoil's
//! `rule.rs`). This module owns no I/O and never reads a clock: callers pass the virtual time.
//!
//! Where things are: `faults.rs` the fault itself and the one list of its kinds
//! ([`FaultKind`], which the trace records); `target.rs`, `wire_shape.rs` (with how a stream is
//! cut, [`Cut`]) and `restart.rs` the parts a fault is made of; `form.rs` the file form (one
//! walk over a kind's keys) and reading a timeline entry with it, `written.rs` the same walk
//! writing a fault out and describing it as JSON Schema; `fault_rules.rs` the table of how
//! installed faults act on bookmarks, requests and watches, and `effects.rs` what it answers.

mod effects;
mod fault_rules;
mod faults;
mod form;
mod restart;
mod target;
mod wire_shape;
mod written;

pub use effects::{
    BookmarkAction, OpenWatchHit, RequestFault, RequestFaults, RequestInfo, StreamFaults,
    WatchRequest,
};
pub use fault_rules::FaultRules;
pub use faults::{Fault, FaultKind};
pub(crate) use form::EntryReader;
pub use form::{Field, Form, KeyError, KeyNames};
pub use restart::{Restart, Revision};
pub use target::{Target, TargetVerb};
pub use wire_shape::{Cut, ErrorBody, GoneForm, GoneMessage, LatencyOn, Malformed, StreamError};
pub use written::{EntryWriter, KindSchema, SchemaForm};
