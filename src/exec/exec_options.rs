//! How `harness exec` runs a client: the speed of the timeline, the grace after SIGTERM, the
//! set-up whose expectation the client is held to, and a real apiserver behind a proxy.

use std::path::PathBuf;
use std::time::Duration;

#[cfg(doc)]
use super::error::Error;
use crate::proxy::ProxyOptions;

/// How to run a client.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecOptions {
    /// Play the timeline this many times faster than real time.
    pub speed: u32,
    /// How long the client has to exit after SIGTERM before it is killed.
    pub grace: Duration,
    /// The set-up of the scenario whose expectation the client is held to; `None`: it must
    /// recover.
    pub setup: Option<String>,
    /// Run the client through `harness proxy` in front of a real apiserver instead of against
    /// the simulation, and the scenario's file, for messages.
    pub upstream: Option<(ProxyOptions, PathBuf)>,
    /// Stop at Ctrl-C or SIGTERM: the client is stopped, what a proxy wrote upstream is
    /// deleted, and [`Error::Interrupted`] returned. Installs the process's handlers for both
    /// signals, which stay installed (for the command line). Default off.
    pub interruptible: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            speed: 1,
            grace: Duration::from_secs(5),
            setup: None,
            upstream: None,
            interruptible: false,
        }
    }
}

impl ExecOptions {
    /// Plays the timeline `speed` times faster than real time.
    #[must_use]
    pub fn speed(mut self, speed: u32) -> Self {
        self.speed = speed.max(1);
        self
    }

    /// Holds the client to set-up `name`'s expectation.
    #[must_use]
    pub fn setup(mut self, name: impl Into<String>) -> Self {
        self.setup = Some(name.into());
        self
    }

    /// Runs the client through a proxy in front of the real apiserver `proxy` names; `path` is
    /// the scenario's file, named in errors.
    #[must_use]
    pub fn upstream(mut self, proxy: ProxyOptions, path: impl Into<PathBuf>) -> Self {
        self.upstream = Some((proxy, path.into()));
        self
    }

    /// Stops at Ctrl-C or SIGTERM; see [`ExecOptions::interruptible`].
    #[must_use]
    pub fn interruptible(mut self) -> Self {
        self.interruptible = true;
        self
    }

    /// Gives the client `grace` to exit after SIGTERM.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}
