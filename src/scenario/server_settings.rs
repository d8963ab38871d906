//! Server settings to put over a scenario's own ([`ServerSettings`]): what `harness explore`
//! draws, and a finding's file keeps.

use std::time::Duration;

/// Settings of the simulated server to put over a scenario's own; `None` keeps the scenario's.
/// Each is a key of the file's `server:` block, under the same bounds (see [`super::ServerSpec`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ServerSettings {
    /// `watch_cache`.
    pub watch_cache: Option<bool>,
    /// `watch_cache_window`.
    pub watch_cache_window: Option<Duration>,
    /// `watch_list`.
    pub watch_list: Option<bool>,
    /// `bookmark_interval`.
    pub bookmark_interval: Option<Duration>,
    /// `compaction_interval`.
    pub compaction_interval: Option<Duration>,
}

impl ServerSettings {
    /// Whether it keeps every setting of the scenario.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The same settings, each with one of them given back to the scenario: simpler first in
    /// the order the file lists them.
    #[must_use]
    pub fn each_without_one(&self) -> Vec<Self> {
        let mut out = Vec::new();
        let mut without = |clear: fn(&mut Self) -> bool| {
            let mut fewer = *self;
            if clear(&mut fewer) {
                out.push(fewer);
            }
        };
        without(|s| s.watch_cache.take().is_some());
        without(|s| s.watch_cache_window.take().is_some());
        without(|s| s.watch_list.take().is_some());
        without(|s| s.bookmark_interval.take().is_some());
        without(|s| s.compaction_interval.take().is_some());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_without_one_gives_back_one_setting_at_a_time() {
        let settings = ServerSettings {
            watch_cache: Some(false),
            compaction_interval: Some(Duration::from_secs(60)),
            ..ServerSettings::default()
        };
        let fewer = settings.each_without_one();
        assert_eq!(fewer.len(), 2);
        assert_eq!(fewer[0].watch_cache, None);
        assert_eq!(fewer[0].compaction_interval, Some(Duration::from_secs(60)));
        assert_eq!(fewer[1].watch_cache, Some(false));
        assert_eq!(fewer[1].compaction_interval, None);
        assert!(ServerSettings::default().each_without_one().is_empty());
    }
}
