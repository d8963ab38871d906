//! When a watch's next bookmark is due: every `bookmark_interval` (the cacher's heartbeat),
//! and once more just before the watch's deadline, so that a client that reconnects then
//! resumes from a fresh revision (`nextBookmarkTime` in apiserver `cacher/cache_watcher.go`).

use std::time::Duration;

/// A bookmark goes out this long before the watch deadline.
const BOOKMARK_BEFORE_DEADLINE: Duration = Duration::from_secs(2);

/// A watch's bookmark schedule, in virtual time.
pub(super) struct BookmarkClock {
    /// The watch asked for bookmarks and the watch cache sends them.
    enabled: bool,
    interval: Duration,
    deadline: Duration,
    next: Option<Duration>,
}

impl BookmarkClock {
    /// A schedule whose first bookmark is due an interval after `now`.
    pub(super) fn start(
        enabled: bool,
        interval: Duration,
        deadline: Duration,
        now: Duration,
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

    /// When the next bookmark is due, if one still is.
    pub(super) fn next(&self) -> Option<Duration> {
        self.next
    }

    /// Sets the next bookmark after one went out (or the watch opened) at `from`: the next
    /// heartbeat, or the one before the deadline when that comes first, or none after it.
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

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_watch_without_bookmarks_never_has_one_due() {
        let mut clock = BookmarkClock::start(false, S(60), S(600), S(0));
        clock.schedule(S(60));
        assert_eq!(clock.next(), None);
    }

    #[test]
    fn bookmarks_come_every_interval_then_once_two_seconds_before_the_deadline() {
        let mut clock = BookmarkClock::start(true, S(60), S(150), S(0));
        assert_eq!(clock.next(), Some(S(60)));
        clock.schedule(S(60));
        assert_eq!(clock.next(), Some(S(120)));
        clock.schedule(S(120));
        assert_eq!(
            clock.next(),
            Some(S(148)),
            "the heartbeat would pass the deadline"
        );
        clock.schedule(S(148));
        assert_eq!(clock.next(), None, "nothing is due after the last one");
    }

    #[test]
    fn a_deadline_under_two_seconds_away_gets_its_bookmark_at_the_deadline() {
        let clock = BookmarkClock::start(true, S(60), Duration::from_millis(1500), S(0));
        assert_eq!(clock.next(), Some(Duration::from_millis(1500)));
    }
}
