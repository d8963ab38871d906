//! kube's default watcher backoff, the one place its numbers are written: kube-runtime
//! `watcher.rs` `DefaultBackoff` (800 ms → 30 s, factor 2, full jitter, reset after 120 s
//! without a backoff), itself client-go's reflector backoff. The seeded replica the runner
//! gives kube-rs set-ups and the verdict rule that recognises its first step both read it.

use std::ops::Range;
use std::time::Duration;

/// The parameters of kube's `DefaultBackoff`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffParameters {
    /// The first delay, before jitter.
    pub initial: Duration,
    /// The longest delay, before jitter.
    pub max: Duration,
    /// The growth factor.
    pub factor: f64,
    /// How long without a backoff resets it to its first step.
    pub reset_after: Duration,
}

/// kube's `default_backoff()`.
pub const KUBE_DEFAULT_BACKOFF: BackoffParameters = BackoffParameters {
    initial: Duration::from_millis(800),
    max: Duration::from_secs(30),
    factor: 2.0,
    reset_after: Duration::from_secs(120),
};

impl BackoffParameters {
    /// Where the first delay falls: jitter adds up to one more delay (backon's `with_jitter`).
    #[must_use]
    pub fn first_step(&self) -> Range<Duration> {
        self.initial..self.initial * 2
    }
}
