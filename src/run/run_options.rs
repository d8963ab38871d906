//! How to run scenarios: the wall-clock limit of a set-up, and where it meets its server
//! (simulated or live).

use std::time::Duration;

/// How to run scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Wall-clock time one set-up may take before it is reported as hung. Default 60 s; in
    /// live mode the scenario's own wall duration is added.
    pub wall_timeout: Duration,
    /// Where set-ups run. Default [`Mode::Simulated`].
    pub mode: Mode,
    /// Run a scenario's set-ups one after another instead of all at once (each still in a
    /// world and on a thread of its own, with the whole wall timeout). For callers that
    /// already run many scenarios in parallel, such as `harness explore`: threads beyond the
    /// cores only cost memory (glibc gives each running thread a malloc arena of its own).
    pub one_at_a_time: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            wall_timeout: Duration::from_secs(60),
            mode: Mode::Simulated,
            one_at_a_time: false,
        }
    }
}

impl RunOptions {
    /// Sets [`RunOptions::wall_timeout`].
    #[must_use]
    pub fn wall_timeout(mut self, timeout: Duration) -> Self {
        self.wall_timeout = timeout;
        self
    }

    /// Sets [`RunOptions::one_at_a_time`].
    #[must_use]
    pub fn one_at_a_time(mut self) -> Self {
        self.one_at_a_time = true;
        self
    }

    /// Sets [`RunOptions::mode`].
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

/// Where a set-up's watcher meets its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// A paused clock and an in-memory transport: deterministic, and a 30-minute scenario takes
    /// milliseconds.
    #[default]
    Simulated,
    /// A [`LiveServer`](crate::live::LiveServer) on loopback TCP with the wall clock sped up `speed`×; the kube client's
    /// timeouts and the set-up's backoff are scaled to match. For checking that the simulation
    /// agrees with real I/O.
    Live {
        /// Virtual seconds per wall second.
        speed: u32,
    },
}
