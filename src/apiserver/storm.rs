//! The storm policy the server enforces: when a run's requests come too fast to be a
//! controller's, the run is stopped as a storm.

use std::time::Duration;

/// Lists and watches started within [`STORM_SPAN`] of virtual time that make a request storm:
/// no controller needs a thousand in a second, and a real apiserver's priority and fairness
/// would be queueing and rejecting them long before. Continue pages of one LIST do not count.
pub const STORM_BURST: usize = 1_000;

/// See [`STORM_BURST`].
pub const STORM_SPAN: Duration = Duration::from_secs(1);

/// Why a run was stopped as a storm, in words: `1000 lists and watches within 0s of virtual
/// time`, or `10001 requests, past the cap of 10000`.
#[must_use]
pub fn storm_words(requests: u64, burst: Option<Duration>, cap: u64) -> String {
    match burst {
        Some(span) => format!(
            "{STORM_BURST} lists and watches within {} of virtual time, by request #{requests}",
            crate::span::format(span)
        ),
        None => format!("{requests} requests, past the cap of {cap}"),
    }
}
