//! The verdict on a client the harness did not build (`harness exec`): judged from what the
//! server saw it do — its lists and watches, where each watch resumed from, what it did after
//! each 410, whether it stormed, stopped or fell behind — and, when it wrote one, from the
//! cache it ended with. Pure: no I/O, no clock.
//!
//! A client is the requests of one process, or of one `User-Agent` where the process is not
//! known (`identity.rs`); the trace is the live server's. `client_judge.rs` runs the checks,
//! `story.rs` tells why one failed.

mod breach;
mod client;
mod client_judge;
mod facts;
mod identity;
mod outcome_story;
mod pattern;
mod reactions;
mod story;
#[cfg(test)]
mod tests;
mod waits;

pub use client::{Client, Exit};
pub use client_judge::judge_client;
pub use identity::{ClientId, agents_of, clients};
