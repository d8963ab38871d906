//! Drawing the server's settings for a guided timeline ([`draw_settings`]), each within what a
//! real kube-apiserver allows, each drawn more often when it has produced something new.

use std::time::Duration;

use super::coverage::{BASE, Coverage};
use super::feature::{Feature, Knob};
use crate::scenario::{ServerSettings, ServerSpec};

/// How much less likely a knob is drawn than left alone, at the base weight: one in four.
const LEFT_ALONE: u32 = 3 * BASE;

/// etcd compaction intervals to draw from: kube-apiserver's default (5m) and shorter and longer
/// ones it takes (`--etcd-compaction-interval` validates no minimum; kubernetes' own
/// integration tests run it at 100ms).
const COMPACTIONS: [u64; 6] = [10, 30, 60, 120, 300, 600];

/// The settings to put over `server` (the scenario's own), and the knobs drawn. Each knob is
/// drawn with a chance that grows with its weight, about one in four at first:
/// - the watch cache the other way (off is how kube-apiserver serves Events, and any resource
///   given `--watch-cache-sizes=resource#0`);
/// - a longer watch cache window, 76 s to 10 min, never below the 75 s kube-apiserver keeps
///   (`DefaultEventFreshDuration`): a quiet resource's cache holds far more than 75 s;
/// - the WatchList feature the other way (a feature gate, on by default since 1.34);
/// - bookmarks every 10 s to 60 s, never longer than the cacher's 1-minute
///   `defaultBookmarkFrequency` (the 75 s window is that plus 15 s, so a longer interval
///   would let a quiet watch fall out of any window), shorter as when a watch nears its
///   deadline and the cacher sends its bookmark early;
/// - etcd's periodic compaction, from [`COMPACTIONS`].
pub(super) fn draw_settings(
    server: &ServerSpec,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
) -> (ServerSettings, Vec<Knob>) {
    let mut settings = ServerSettings::default();
    let mut knobs = Vec::new();
    for knob in Knob::ALL {
        let weight = coverage.weight(Feature::Setting(knob));
        if rng.u32(..weight + LEFT_ALONE) >= weight {
            continue;
        }
        knobs.push(knob);
        match knob {
            Knob::WatchCache => settings.watch_cache = Some(!server.watch_cache),
            Knob::WatchCacheWindow => {
                let least = ServerSpec::MIN_WATCH_CACHE_WINDOW.as_secs() + 1;
                settings.watch_cache_window = Some(Duration::from_secs(rng.u64(least..=600)));
            }
            Knob::WatchList => settings.watch_list = Some(!server.watch_list),
            Knob::BookmarkInterval => {
                settings.bookmark_interval = Some(Duration::from_secs(rng.u64(10..=60)));
            }
            Knob::CompactionInterval => {
                let every = COMPACTIONS[rng.usize(..COMPACTIONS.len())];
                settings.compaction_interval = Some(Duration::from_secs(every));
            }
        }
    }
    (settings, knobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Document;

    #[test]
    fn drawn_server_settings_are_ones_the_loader_accepts_and_within_real_bounds() {
        let base = Document::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/forced-410.yaml"
        ))
        .unwrap();
        let server = base.scenario().unwrap().server;
        let mut rng = fastrand::Rng::with_seed(3);
        let mut knobs = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let (settings, drawn) = draw_settings(&server, &Coverage::default(), &mut rng);
            knobs.extend(drawn);
            let scenario = base.with_server(&settings).scenario().unwrap_or_else(|e| {
                panic!("{settings:?} is refused: {e}");
            });
            let s = scenario.server;
            assert!(s.watch_cache_window >= ServerSpec::MIN_WATCH_CACHE_WINDOW);
            assert!(s.watch_cache_window <= Duration::from_secs(600));
            assert!(s.bookmark_interval >= Duration::from_secs(10));
            assert!(s.bookmark_interval <= Duration::from_secs(60));
            assert!(s.bookmark_interval + Duration::from_secs(15) <= s.watch_cache_window);
            assert!(
                s.compaction_interval
                    .is_none_or(|c| c >= Duration::from_secs(10))
            );
        }
        assert_eq!(knobs.len(), Knob::ALL.len(), "every knob is drawn");
    }
}
