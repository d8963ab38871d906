//! The watch cache's buffer between its dispatcher and one watcher's connection, and its rule
//! for a watcher that stops taking events (apiserver `storage/cacher/cache_watcher.go`, `add`
//! and `processInterval`; `cacher.go`, `dispatchEvent`).
//!
//! Each `cacheWatcher` has an `input` and a `result` channel of `chanSize` events. The
//! dispatcher offers every change to every watcher without blocking; a watcher whose `input` is
//! full gets the dispatch timeout budget (at most 100 ms, `time_budget.go`) to take it, and is
//! then closed: `Forcing ... watcher close due to unresponsiveness`. Closed, it still writes
//! what its `result` holds, drops what `input` held and the event `process` had in hand, and
//! its response ends cleanly (`close(c.result)` ends `serveWatch`). While a watcher still sends
//! its initial events or backlog (`processInterval`), `result` carries those and only `input`
//! takes live changes. A watch list closed before its initial-events-end bookmark was sent is
//! closed gracefully (`graceful`, `drainInputBuffer`): it sends everything it owes first.
//!
//! Here a watch's live changes dispatched and not yet handed to its connection stand for
//! `input`, the event `process` holds and `result` (the line hyper holds is the encoder's, in
//! `Write`). A change that finds them full starts the budget's clock; if they are still over
//! full when it runs out, the watcher is closed. A watch the server has nothing to send then
//! (parked, waiting for news: its changes are held back upstream by a `latency` fault) is not
//! blocked, and stays open. NB: the budget is taken whole (100 ms); upstream it starts empty
//! and refills at 50 ms a second, so a cacher that blocks often waits less, and it holds every
//! other watcher's event back while it waits, which is not modelled. Nor is it that upstream
//! offers a watcher every change of its namespace (or name, or trigger value) and filters by
//! its selectors only later: here only the changes it selects fill its buffer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::selector::Selector;
use crate::trace::Recorder;

/// The dispatcher's longest wait for a blocked watcher (`maxBudget` in `time_budget.go`).
const DISPATCH_BUDGET: Duration = Duration::from_millis(100);
/// The smallest channel a watcher gets (`minWatchChanSize`).
const MIN_CHAN_SIZE: usize = 10;

/// Which channel size cap applies to a watch: a resource without a trigger index takes up to
/// 100; one with an index, up to 1,000, or 10 for a watch its trigger selects
/// (`suggestedWatchChannelSize` in `watch_cache_history.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The resource has no trigger index.
    None,
    /// It has one, and the watch's field selector does not name it.
    Unused,
    /// The watch selects one value of it.
    Used,
}

/// The built-in kinds whose registry gives the watch cache a trigger index, and its field
/// (`TriggerFunc` in kubernetes v1.37.2 `pkg/registry/core/pod/storage/storage.go` and
/// `pkg/registry/resource/resourceslice/storage/storage.go`; the `metadata.name` triggers of
/// Secrets, ConfigMaps and Nodes went with watchers partitioned by name, in 1.27).
const TRIGGERS: [(&str, &str, &str); 2] = [
    ("", "Pod", "spec.nodeName"),
    ("resource.k8s.io", "ResourceSlice", "spec.nodeName"),
];

impl Trigger {
    /// The trigger a watch of `group`/`kind` selecting `selector` meets.
    pub(crate) fn of(group: &str, kind: &str, selector: &Selector) -> Self {
        match TRIGGERS.iter().find(|(g, k, _)| *g == group && *k == kind) {
            None => Self::None,
            Some((_, _, field)) if selector.requires_field(field) => Self::Used,
            Some(_) => Self::Unused,
        }
    }

    /// `chanSize` for a watch cache holding `capacity` events over a `window` of history:
    /// about one second of history, within the cap this trigger sets.
    pub(crate) fn chan_size(self, capacity: usize, window: Duration) -> usize {
        let per_second = (capacity as f64 / window.as_secs_f64().max(1.0)).ceil();
        // NB: capacity is at most a few million, so the cast back is exact.
        let size = (per_second as usize).max(MIN_CHAN_SIZE);
        size.min(match self {
            Self::Used => 10,
            Self::Unused => 1000,
            Self::None => 100,
        })
    }
}

/// What one line a watch sent was, for its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// One of its initial events or its backlog (`processInterval`).
    Interval,
    /// The initial-events-end bookmark, or the last line of its backlog: `process` reads
    /// `input` from now on.
    IntervalEnd,
    /// A change dispatched to it while open.
    Live,
    /// A bookmark or an error.
    Other,
}

/// One watcher's buffer.
#[derive(Debug)]
pub(crate) struct WatcherBuffer {
    chan_size: usize,
    /// A watch list: closed before its initial-events-end bookmark went out, it is closed
    /// gracefully.
    watch_list: bool,
    recorder: Recorder,
    state: Mutex<BufferState>,
}

#[derive(Debug, Default)]
struct BufferState {
    /// Live changes dispatched and not yet written.
    owed: usize,
    /// Its initial events or backlog are all written.
    interval_over: bool,
    /// The server has nothing to send it and waits for news.
    parked: bool,
    /// A blocked dispatch is waiting out the budget.
    blocked: bool,
    closed: bool,
}

impl WatcherBuffer {
    /// A buffer of `chan_size` events a channel, for a watch list or not, on the run's clock.
    pub(crate) fn new(chan_size: usize, watch_list: bool, recorder: Recorder) -> Arc<Self> {
        Arc::new(Self {
            chan_size,
            watch_list,
            recorder,
            state: Mutex::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BufferState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Room for live changes: `input` while the interval is sent; `input`, the event
    /// `process` holds and `result` after it.
    fn room(&self, state: &BufferState) -> usize {
        if state.interval_over {
            2 * self.chan_size + 1
        } else {
            self.chan_size
        }
    }

    /// The dispatcher hands it a change: `false` once the watcher is closed, when the change is
    /// not its any more. A change that finds it full starts the budget's clock (in the caller's
    /// runtime); if it is still over full when the budget runs out, the watcher is closed.
    pub(crate) fn offer(self: &Arc<Self>) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.owed += 1;
        if state.owed > self.room(&state) && !state.blocked {
            state.blocked = true;
            let at = self.recorder.now() + DISPATCH_BUDGET;
            tokio::spawn(Arc::clone(self).wait_out_budget(at));
        }
        true
    }

    async fn wait_out_budget(self: Arc<Self>, at: Duration) {
        self.recorder.sleep_until(at).await;
        let mut state = self.lock();
        state.blocked = false;
        if state.owed > self.room(&state) && !state.parked {
            state.closed = true;
        }
    }

    /// The watch wrote a line to its connection.
    pub(crate) fn sent(&self, what: Sent) {
        let mut state = self.lock();
        match what {
            Sent::Interval | Sent::Other => {}
            Sent::IntervalEnd => state.interval_over = true,
            Sent::Live => {
                state.owed = state.owed.saturating_sub(1);
                state.interval_over = true;
            }
        }
    }

    /// A change handed to the watch that it will never send (at or below its start).
    pub(crate) fn dropped(&self) {
        let mut state = self.lock();
        state.owed = state.owed.saturating_sub(1);
    }

    /// It has no initial events or backlog to send: live changes have both channels.
    pub(crate) fn without_interval(&self) {
        self.lock().interval_over = true;
    }

    /// The watch waits for news (`true`), or has something to write again (`false`).
    pub(crate) fn park(&self, parked: bool) {
        self.lock().parked = parked;
    }

    /// The cacher has closed it.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// How many of the lines it owes a closed watcher still writes: `result`'s; all of them
    /// for a watch list closed before its initial events were over (a graceful close).
    pub(crate) fn kept_on_close(&self) -> usize {
        if self.watch_list && !self.lock().interval_over {
            usize::MAX
        } else {
            self.chan_size
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(chan_size: usize) -> Arc<WatcherBuffer> {
        WatcherBuffer::new(chan_size, false, Recorder::start())
    }

    async fn after_the_budget(buffer: &WatcherBuffer) {
        let at = buffer.recorder.now() + DISPATCH_BUDGET + Duration::from_millis(1);
        buffer.recorder.sleep_until(at).await;
    }

    #[test]
    fn the_channel_holds_about_a_second_of_history_within_its_cap() {
        let window = Duration::from_secs(75);
        assert_eq!(Trigger::None.chan_size(100, window), 10, "at least 10");
        assert_eq!(Trigger::None.chan_size(1600, window), 22);
        assert_eq!(Trigger::None.chan_size(102_400, window), 100);
        assert_eq!(Trigger::Unused.chan_size(102_400, window), 1000);
        assert_eq!(Trigger::Used.chan_size(102_400, window), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_watcher_that_writes_nothing_for_the_budget_after_its_input_fills_is_closed() {
        let buffer = buffer(10);
        for _ in 0..11 {
            assert!(buffer.offer(), "still open");
        }
        after_the_budget(&buffer).await;
        assert!(buffer.is_closed());
        assert!(!buffer.offer(), "a closed watcher takes no more");
    }

    #[tokio::test(start_paused = true)]
    async fn a_watcher_that_makes_room_within_the_budget_stays_open() {
        let buffer = buffer(10);
        buffer.without_interval();
        for _ in 0..22 {
            buffer.offer();
        }
        buffer.sent(Sent::Live);
        after_the_budget(&buffer).await;
        assert!(!buffer.is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_watcher_that_writes_but_stays_over_full_is_closed() {
        let buffer = buffer(10);
        buffer.without_interval();
        for _ in 0..30 {
            buffer.offer();
        }
        buffer.sent(Sent::Live);
        after_the_budget(&buffer).await;
        assert!(buffer.is_closed(), "one line out, eight over");
    }

    #[tokio::test(start_paused = true)]
    async fn after_its_interval_both_channels_and_the_event_in_hand_fit() {
        let buffer = buffer(10);
        buffer.sent(Sent::IntervalEnd);
        for _ in 0..21 {
            buffer.offer();
        }
        after_the_budget(&buffer).await;
        assert!(!buffer.is_closed(), "21 fit: 10 + 1 + 10");
        buffer.offer();
        after_the_budget(&buffer).await;
        assert!(buffer.is_closed(), "the 22nd does not");
        assert_eq!(buffer.kept_on_close(), 10, "what `result` held");
    }

    #[tokio::test(start_paused = true)]
    async fn writing_its_initial_events_frees_no_room_for_live_changes() {
        let buffer = buffer(10);
        for _ in 0..11 {
            buffer.offer();
        }
        buffer.sent(Sent::Interval);
        buffer.sent(Sent::Other);
        after_the_budget(&buffer).await;
        assert!(buffer.is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_list_closed_before_its_initial_events_end_sends_everything_first() {
        let buffer = WatcherBuffer::new(10, true, Recorder::start());
        assert_eq!(buffer.kept_on_close(), usize::MAX, "graceful");
        buffer.sent(Sent::IntervalEnd);
        assert_eq!(buffer.kept_on_close(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_watcher_waiting_for_news_when_the_budget_runs_out_is_not_closed() {
        let buffer = buffer(10);
        for _ in 0..50 {
            buffer.offer();
        }
        buffer.park(true);
        after_the_budget(&buffer).await;
        assert!(!buffer.is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_without_initial_events_has_both_channels_from_the_start() {
        let buffer = buffer(10);
        buffer.without_interval();
        for _ in 0..21 {
            buffer.offer();
        }
        after_the_budget(&buffer).await;
        assert!(!buffer.is_closed());
    }
}
