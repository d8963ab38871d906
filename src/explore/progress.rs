//! A progress line on stderr while timelines run and findings shrink.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A progress line on stderr, when it is a terminal.
pub(super) struct Progress {
    on: bool,
    what: &'static str,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    pub(super) fn new(on: bool, total: usize) -> Self {
        Self {
            on,
            what: "timelines run",
            total,
            done: AtomicUsize::new(0),
        }
    }

    pub(super) fn shrinking(on: bool, total: usize) -> Self {
        Self {
            what: "findings shrunk",
            ..Self::new(on, total)
        }
    }

    pub(super) fn ran(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.on {
            eprint!("\r{done}/{} {}", self.total, self.what);
        }
    }

    pub(super) fn done(&self) {
        if self.on && self.total > 0 {
            eprintln!();
        }
    }
}
