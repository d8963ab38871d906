//! What a guided draw is made of ([`Feature`]), each a choice coverage feedback can weight:
//! a fault kind, a pair of kinds, a timeline being a pair at all, a server setting drawn.

use crate::fault::FaultKind;

/// One choice a guided draw made, which feedback credits when the timeline shows something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// A fault of this kind is on the timeline.
    Kind(FaultKind),
    /// The timeline is a pair: a fault that changes what the client carries, then a trigger.
    Paired,
    /// That pair: the change's kind, then the trigger's.
    Pair(FaultKind, FaultKind),
    /// A server setting was drawn over the scenario's own.
    Setting(Knob),
}

/// A server setting a guided draw may put over the scenario's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Knob {
    /// The watch cache turned the other way (`watch_cache`).
    WatchCache,
    /// A longer watch cache window (`watch_cache_window`).
    WatchCacheWindow,
    /// The WatchList feature turned the other way (`watch_list`).
    WatchList,
    /// Bookmarks more often (`bookmark_interval`).
    BookmarkInterval,
    /// etcd's periodic compaction (`compaction_interval`).
    CompactionInterval,
}

impl Knob {
    /// Every knob, in the order a draw considers them (a seed's draws depend on it).
    pub const ALL: [Self; 5] = [
        Self::WatchCache,
        Self::WatchCacheWindow,
        Self::WatchList,
        Self::BookmarkInterval,
        Self::CompactionInterval,
    ];
}
