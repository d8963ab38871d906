//! When a watch ends and when its bookmarks are due: the deadline from `timeoutSeconds` (or the
//! apiserver's random one), a heartbeat every `bookmark_interval`, and one last bookmark just
//! before the deadline (`nextBookmarkTime` in apiserver `cacher/cache_watcher.go`). Times are
//! virtual, converted to tokio instants only to sleep (see `Recorder`).

use std::time::Duration;

/// A bookmark goes out this long before the watch deadline, so a client that reconnects resumes
/// from a fresh revision (`nextBookmarkTime` in apiserver `cacher/cache_watcher.go`).
const BOOKMARK_BEFORE_DEADLINE: Duration = Duration::from_secs(2);
/// Without `timeoutSeconds`, the apiserver picks `minRequestTimeout * (1 + rand[0,1))` with
/// `--min-request-timeout` 1800 s: 30 to 60 minutes (apiserver `endpoints/handlers/get.go`).
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);
/// Longest `timeoutSeconds` honoured, so deadlines cannot overflow.
const MAX_TIMEOUT_SECONDS: u64 = 365 * 24 * 3600;

/// How long a watch asked to last `timeout_seconds` (when it asked) lives; `random` is a draw
/// in `[0, 1)` for the apiserver's own pick.
pub(super) fn lifetime(timeout_seconds: Option<u64>, random: impl FnOnce() -> f64) -> Duration {
    match timeout_seconds {
        Some(seconds) => Duration::from_secs(seconds.min(MAX_TIMEOUT_SECONDS)),
        None => MIN_REQUEST_TIMEOUT.mul_f64(1.0 + random()),
    }
}

/// One watch's deadline and next bookmark.
#[derive(Debug)]
pub(super) struct BookmarkClock {
    /// The watch asked for bookmarks and the resource has a watch cache to send them.
    enabled: bool,
    interval: Duration,
    deadline: Duration,
    next: Option<Duration>,
}

impl BookmarkClock {
    /// A clock for a watch that ends at `deadline`, its first bookmark scheduled from `now`.
    pub(super) fn new(
        enabled: bool,
        interval: Duration,
        now: Duration,
        deadline: Duration,
    ) -> Self {
        let mut clock = Self {
            enabled,
            interval,
            deadline,
            next: None,
        };
        clock.schedule(now);
        clock
    }

    /// When the watch ends with a timeout.
    pub(super) fn deadline(&self) -> Duration {
        self.deadline
    }

    /// When the next bookmark is due, if one is.
    pub(super) fn next(&self) -> Option<Duration> {
        self.next
    }

    /// Schedules the bookmark after one due at `from`: a heartbeat an interval later, or the
    /// last one before the deadline, or none once that has passed.
    pub(super) fn schedule(&mut self, from: Duration) {
        if !self.enabled {
            return;
        }
        let heartbeat = from + self.interval;
        let pre_timeout = self
            .deadline
            .checked_sub(BOOKMARK_BEFORE_DEADLINE)
            .unwrap_or(self.deadline);
        self.next = if heartbeat < pre_timeout {
            Some(heartbeat)
        } else if from < pre_timeout {
            Some(pre_timeout)
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn bookmarks_beat_every_interval_then_once_two_seconds_before_the_deadline_then_never() {
        let mut clock = BookmarkClock::new(true, s(60), s(0), s(150));
        let mut due = Vec::new();
        while let Some(at) = clock.next() {
            due.push(at);
            clock.schedule(at);
        }
        assert_eq!(due, [s(60), s(120), s(148)]);
        assert_eq!(clock.deadline(), s(150));
    }

    #[test]
    fn a_watch_without_bookmarks_has_none_due() {
        let mut clock = BookmarkClock::new(false, s(60), s(0), s(150));
        clock.schedule(s(60));
        assert_eq!(clock.next(), None);
    }

    #[test]
    fn a_watch_shorter_than_two_seconds_gets_its_one_bookmark_at_the_deadline() {
        let clock = BookmarkClock::new(true, s(60), s(0), s(1));
        assert_eq!(clock.next(), Some(s(1)));
    }

    #[test]
    fn a_timeout_is_honoured_up_to_a_year_and_without_one_the_apiserver_picks_30_to_60_minutes() {
        assert_eq!(lifetime(Some(5), || unreachable!()), s(5));
        assert_eq!(lifetime(Some(u64::MAX), || 0.0), s(MAX_TIMEOUT_SECONDS));
        assert_eq!(lifetime(None, || 0.0), s(1800));
        assert_eq!(lifetime(None, || 0.5), s(2700));
    }
}
