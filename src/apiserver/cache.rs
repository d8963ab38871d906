//! The watch cache's history window (reference §5.1): what a watch of a cached resource can
//! resume from.
//!
//! kube-apiserver serves every watch of a cached resource from an in-memory ring of that
//! resource's events, not from etcd, so etcd's compaction does not bound it: the ring does. It
//! starts with room for 100 events, doubles while every event it holds is younger than the
//! history window (`eventFreshDuration`, 75 s), up to 102,400, and halves when even its newest
//! quarter reaches back further than that. A watch from a resourceVersion older than the ring's
//! oldest event (or, before any event was evicted, than the cache's last list) gets
//! `too old resource version: X (Y)`, whether or not etcd still has the revision. This is
//! `watchCacheHistory` in apiserver `storage/cacher/watch_cache_history.go`, rule for rule.
//!
//! The cache also has a readiness: after it (re)initializes, it is not ready for
//! `server.watch_cache_init`, and watches and most LISTs get 429 until it is
//! (`ResilientWatchCacheInitialization`; apiserver `storage/cacher/delegator.go`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::store::Change;
use super::watcher_buffer::Trigger;
use crate::scenario::ServerSpec;

/// The ring's smallest and starting capacity (`defaultLowerBoundCapacity`).
const LOWER_BOUND_CAPACITY: usize = 100;
/// The ring's largest capacity for a window of at most 75 s (`defaultUpperBoundCapacity`).
const UPPER_BOUND_CAPACITY: usize = 100 * 1024;
/// The default and smallest history window, 75 s.
const DEFAULT_WINDOW: Duration = ServerSpec::MIN_WATCH_CACHE_WINDOW;

/// The largest capacity for a history window (`capacityUpperBound`): a longer window than 75 s
/// scales the bound by the next power of two of the ratio, kept within an `int32`.
fn capacity_upper_bound(window: Duration) -> usize {
    if window <= DEFAULT_WINDOW {
        return UPPER_BOUND_CAPACITY;
    }
    let ratio = window.as_secs_f64() / DEFAULT_WINDOW.as_secs_f64();
    let exponent = ratio.log2().ceil();
    let max_exponent = (f64::from(i32::MAX) / UPPER_BOUND_CAPACITY as f64)
        .log2()
        .floor();
    // NB: both are small non-negative integers here (at most 14), so the casts are exact.
    UPPER_BOUND_CAPACITY << (exponent.min(max_exponent) as u32)
}

/// A watch asked for history the cache no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooOld {
    /// The oldest servable resourceVersion minus one: the `Y` of `too old resource version: X (Y)`.
    pub(crate) oldest_minus_one: u64,
}

/// The ring of one resource's events, with the revision of the cache's last (re)list.
#[derive(Debug)]
pub(crate) struct WatchCache {
    window: Duration,
    capacity: usize,
    upper_bound: usize,
    /// Events in revision order, each with when it was recorded.
    events: VecDeque<(Duration, Arc<Change>)>,
    /// The revision of the cache's last list from etcd (`listResourceVersion`).
    list_revision: u64,
    /// Whether an event was evicted since that list (`removedEventSinceRelist`).
    evicted_since_list: bool,
    /// When the cache last (re)initialized, and when it is ready again.
    reset_at: Duration,
    ready_at: Duration,
}

impl WatchCache {
    /// A cache that listed at `revision` at `now`, keeping `window` of history, ready after
    /// `init` more.
    pub(crate) fn new(window: Duration, revision: u64, now: Duration, init: Duration) -> Self {
        Self {
            window,
            capacity: LOWER_BOUND_CAPACITY,
            upper_bound: capacity_upper_bound(window),
            events: VecDeque::new(),
            list_revision: revision,
            evicted_since_list: false,
            reset_at: now,
            ready_at: now + init,
        }
    }

    /// The ring's capacity now.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.capacity
    }

    /// The channel size a watch opened now gets (`suggestedWatchChannelSize`).
    pub(crate) fn chan_size(&self, trigger: Trigger) -> usize {
        trigger.chan_size(self.capacity, self.window)
    }

    /// Records an event of the resource at `now` (`updateCache`): the ring grows or shrinks
    /// first, then evicts its oldest event when full.
    pub(crate) fn add(&mut self, change: Arc<Change>, now: Duration) {
        self.resize(now);
        if self.is_full() {
            self.events.pop_front();
            self.evicted_since_list = true;
        }
        self.events.push_back((now, change));
    }

    fn is_full(&self) -> bool {
        self.events.len() >= self.capacity
    }

    /// `resizeCacheLocked`: double when full of fresh events; halve when full and even the
    /// newest quarter is stale, keeping the newest events.
    fn resize(&mut self, now: Duration) {
        if !self.is_full() {
            return;
        }
        let oldest = self.events.front().map_or(now, |(at, _)| *at);
        if now.saturating_sub(oldest) < self.window {
            self.capacity = (self.capacity * 2).min(self.upper_bound);
            return;
        }
        let quarter = self.events[self.events.len() - self.capacity / 4].0;
        if now.saturating_sub(quarter) > self.window {
            let capacity = (self.capacity / 2).max(LOWER_BOUND_CAPACITY);
            // NB: shrinking drops the oldest events without marking an eviction, as upstream's
            // `doCacheResizeLocked` does; the ring is then full, so `add` evicts one more and
            // marks it.
            while self.events.len() > capacity {
                self.events.pop_front();
            }
            self.capacity = capacity;
        }
    }

    /// The cache (re)lists at `revision` at `now` (`Replace`, then `ResetLocked`): every event
    /// it held is forgotten, and it is ready again after `init`.
    pub(crate) fn reset(&mut self, revision: u64, now: Duration, init: Duration) {
        self.events.clear();
        self.list_revision = revision;
        self.evicted_since_list = false;
        self.reset_at = now;
        self.ready_at = now + init;
    }

    /// The oldest resourceVersion a watch can be served from (`GetIntervalLocked`): one after
    /// the last list while nothing was evicted since, else the oldest event held.
    fn oldest(&self) -> u64 {
        match self.events.front() {
            Some((_, change)) if self.evicted_since_list => change.revision,
            // NB: upstream also requires a list revision above 0, which only its unit tests
            // (a ring filled without a list) lack.
            _ => self.list_revision + 1,
        }
    }

    /// The lowest resourceVersion a watch can start from.
    pub(crate) fn floor(&self) -> u64 {
        self.oldest() - 1
    }

    /// The events after `revision`, or why there are none to give: a watch from below the
    /// oldest servable revision minus one is too old.
    pub(crate) fn since(
        &self,
        revision: u64,
    ) -> Result<impl Iterator<Item = &Arc<Change>>, TooOld> {
        let oldest = self.oldest();
        if revision < oldest - 1 {
            return Err(TooOld {
                oldest_minus_one: oldest - 1,
            });
        }
        let start = self.events.partition_point(|(_, c)| c.revision <= revision);
        Ok(self.events.range(start..).map(|(_, change)| change))
    }

    /// Whether the cache is still (re)initializing at `now`, and since when: watches and most
    /// LISTs get 429 meanwhile.
    pub(crate) fn unready(&self, now: Duration) -> Option<Duration> {
        (now < self.ready_at).then(|| now.saturating_sub(self.reset_at))
    }
}

/// The `Retry-After` of a 429 from a cache unready for `downtime`: e^(0.06 s⁻¹ × downtime),
/// between 1 and 30 s (`calculateRetryAfterForUnreadyCache` in apiserver
/// `storage/cacher/util.go`).
pub(crate) fn retry_after_unready(downtime: Duration) -> u32 {
    // NB: the value is clamped to 1..=30 first, so the cast is exact.
    (0.06 * downtime.as_secs_f64()).exp().clamp(1.0, 30.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn change(revision: u64) -> Arc<Change> {
        Arc::new(Change {
            revision,
            before: None,
            after: None,
            deleted: Default::default(),
        })
    }

    /// A cache listed at revision 10 at time zero, then `n` events at revisions 11, 12, …,
    /// one every `every`.
    fn filled(n: u64, every: Duration) -> WatchCache {
        let mut cache = WatchCache::new(DEFAULT_WINDOW, 10, Duration::ZERO, Duration::ZERO);
        for i in 1..=n {
            cache.add(change(10 + i), every * u32::try_from(i).unwrap());
        }
        cache
    }

    #[test]
    fn before_any_eviction_the_oldest_servable_revision_is_one_after_the_list() {
        let cache = filled(5, S(1));
        assert!(
            cache.since(10).is_ok(),
            "a watch from the list revision resumes"
        );
        assert_eq!(cache.since(10).unwrap().count(), 5);
        assert_eq!(
            cache.since(9).err(),
            Some(TooOld {
                oldest_minus_one: 10
            }),
            "too old resource version: 9 (10)"
        );
        assert_eq!(cache.since(13).unwrap().count(), 2);
    }

    #[test]
    fn the_ring_starts_at_100_and_evicts_its_oldest_event_once_full_of_stale_events() {
        // One event every minute: the ring fills over 100 minutes, far beyond the window, so it
        // never grows.
        let cache = filled(101, S(60));
        assert_eq!(cache.capacity(), 100);
        assert_eq!(
            cache.floor(),
            11,
            "revision 11 was evicted: the oldest held is 12"
        );
        assert!(cache.since(11).is_ok());
        assert_eq!(
            cache.since(10).err(),
            Some(TooOld {
                oldest_minus_one: 11
            })
        );
    }

    #[test]
    fn the_ring_doubles_while_every_event_it_holds_is_younger_than_the_window() {
        // Ten events a second for a minute: a full ring of 100, 200 or 400 spans 10, 20 or 40 s,
        // inside 75 s, so it doubles each time it fills.
        let cache = filled(600, Duration::from_millis(100));
        assert_eq!(cache.capacity(), 800, "100 → 200 → 400 → 800");
        assert!(
            cache.since(10).is_ok(),
            "nothing evicted: the whole history is servable"
        );
        // Full again at 80 s: its oldest event is now older than 75 s, so it evicts instead.
        let cache = filled(1_000, Duration::from_millis(100));
        assert_eq!(cache.capacity(), 800);
        assert_eq!(cache.floor(), 10 + 1_000 - 800);
    }

    #[test]
    fn the_ring_stops_doubling_at_its_upper_bound_and_then_evicts() {
        // A thousand events a second for two minutes: every event is fresh when the ring fills.
        let mut cache = WatchCache::new(DEFAULT_WINDOW, 0, Duration::ZERO, Duration::ZERO);
        for i in 1..=120_000u64 {
            cache.add(change(i), Duration::from_millis(i));
        }
        assert_eq!(cache.capacity(), 102_400);
        assert_eq!(cache.floor(), 120_000 - 102_400);
    }

    #[test]
    fn the_ring_keeps_about_the_window_of_a_busy_resource_and_no_more() {
        // Two events a second for ten minutes: the ring grows until it holds 75 s, then keeps
        // between one and two windows' worth.
        let cache = filled(1_200, Duration::from_millis(500));
        assert_eq!(cache.capacity(), 200);
        let newest = 10 + 1_200;
        let held = newest - cache.floor();
        assert!(
            (150..=400).contains(&held),
            "{held} events held: 75 s to 150 s of history at two a second"
        );
    }

    #[test]
    fn the_ring_halves_when_even_its_newest_quarter_is_older_than_the_window() {
        // A burst grows the ring, then the resource goes slow: one event every 100 s.
        let mut cache = WatchCache::new(DEFAULT_WINDOW, 0, Duration::ZERO, Duration::ZERO);
        for i in 1..=400u64 {
            cache.add(change(i), Duration::from_millis(i * 10));
        }
        assert_eq!(cache.capacity(), 400);
        cache.add(change(401), S(401 * 100));
        assert_eq!(
            cache.capacity(),
            200,
            "halved once the newest quarter went stale"
        );
        for i in 402..=500u64 {
            cache.add(change(i), S(i * 100));
        }
        assert_eq!(cache.capacity(), 100, "and again, down to the lower bound");
        assert_eq!(cache.floor(), 400, "the newest 100 events are held");
    }

    #[test]
    fn a_longer_window_raises_the_upper_bound_by_powers_of_two() {
        assert_eq!(capacity_upper_bound(S(75)), 102_400);
        assert_eq!(capacity_upper_bound(S(76)), 204_800);
        assert_eq!(capacity_upper_bound(S(300)), 409_600);
        assert!(capacity_upper_bound(S(1_000_000)) <= i32::MAX as usize);
    }

    #[test]
    fn a_reset_forgets_every_event_and_serves_from_the_new_list_revision_on() {
        let mut cache = filled(5, S(1));
        cache.reset(40, S(10), S(2));
        assert_eq!(cache.since(40).map(Iterator::count), Ok(0));
        assert_eq!(
            cache.since(15).err(),
            Some(TooOld {
                oldest_minus_one: 40
            })
        );
        assert_eq!(
            cache.unready(S(11)),
            Some(S(1)),
            "initializing for 1 s so far"
        );
        assert_eq!(cache.unready(S(12)), None, "ready after 2 s");
    }

    #[test]
    fn an_unready_cache_asks_for_a_retry_growing_from_1_to_30_seconds() {
        assert_eq!(retry_after_unready(Duration::ZERO), 1);
        assert_eq!(retry_after_unready(S(20)), 3, "e^1.2 = 3.3");
        assert_eq!(retry_after_unready(S(600)), 30);
    }
}
