//! What is known of one exec client besides the trace: who it is, the cache it wrote, how its
//! process ended, and how fast the timeline played.

use std::time::Duration;

use super::identity::ClientId;
use crate::verdict::fold::Objects;

/// How the client's process ended, as `harness exec` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// When, in virtual time; `None`: it was still running at the end and was stopped.
    pub at: Option<Duration>,
    /// Its exit status in words: `exit 1`, `signal 15`.
    pub status: String,
}

/// What is known of one client besides the trace.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Who it is.
    pub id: &'a ClientId,
    /// The cache it wrote at the end, when it wrote one.
    pub view: Option<&'a Objects>,
    /// How its process ended.
    pub exit: &'a Exit,
    /// The end of the timeline: the client is judged as of then.
    pub end: Duration,
    /// How many times faster than real time the timeline played: every wait of the client's
    /// own (its backoff, its timeouts) took that many times as long in virtual time.
    pub speed: u32,
}
