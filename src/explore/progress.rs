//! A progress line on stderr while timelines run and findings shrink: a count of a total, or,
//! under a time budget, a count and the time left.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A progress line on stderr, when it is a terminal.
pub(super) struct Progress {
    on: bool,
    what: &'static str,
    total: usize,
    time: Option<(Instant, Duration)>,
    done: AtomicUsize,
}

impl Progress {
    /// Timelines run, of `total` or within `time`.
    pub(super) fn new(on: bool, total: usize, time: Option<Duration>) -> Self {
        Self {
            on,
            what: "timelines run",
            total,
            time: time.map(|time| (Instant::now(), time)),
            done: AtomicUsize::new(0),
        }
    }

    /// Findings shrunk, of `total`.
    pub(super) fn shrinking(on: bool, total: usize) -> Self {
        Self {
            what: "findings shrunk",
            ..Self::new(on, total, None)
        }
    }

    pub(super) fn ran(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.on {
            return;
        }
        match self.time {
            Some((started, time)) => {
                let left = time.saturating_sub(started.elapsed()).as_secs();
                eprint!(
                    "\r{done} {}, {}m{:02}s left   ",
                    self.what,
                    left / 60,
                    left % 60
                );
            }
            None => eprint!("\r{done}/{} {}", self.total, self.what),
        }
    }

    pub(super) fn done(&self) {
        if self.on && self.done.load(Ordering::Relaxed) > 0 {
            eprintln!();
        }
    }
}
