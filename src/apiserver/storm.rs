//! The storm policy the server enforces: when a run's requests come too fast to be a
//! controller's, the run is stopped as a storm.

use std::time::Duration;

use super::shared::Shared;

/// Lists and watches started within [`STORM_SPAN`] of virtual time that make a request storm:
/// no controller needs a thousand in a second, and a real apiserver's priority and fairness
/// would be queueing and rejecting them long before. Continue pages of one LIST do not count.
pub const STORM_BURST: usize = 1_000;

/// See [`STORM_BURST`].
pub const STORM_SPAN: Duration = Duration::from_secs(1);

/// Counts request `id`, a list or watch, toward a burst, and flags the storm when one is
/// complete.
pub(super) fn count_start(shared: &Shared, id: u64) {
    let now = shared.recorder.now();
    let mut state = shared.lock();
    if state.starts.len() == STORM_BURST {
        state.starts.pop_front();
    }
    state.starts.push_back(now);
    if let Some(first) = state.starts.front().copied()
        && state.starts.len() == STORM_BURST
        && now - first < STORM_SPAN
    {
        shared.storm.send_if_modified(|storm| {
            storm.get_or_insert((id, Some(now - first)));
            true
        });
    }
}

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
