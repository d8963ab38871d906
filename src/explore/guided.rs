//! The guided search's draw of one run ([`guided`]): the server's settings, maybe a pair of a
//! change and its trigger, then faults from a swarm subset of the budget's kinds (Groce et al.,
//! "Swarm testing", ISSTA 2012: leaving kinds out of a timeline lets the others act without
//! being masked), every choice weighted by what coverage has learned.

use std::time::Duration;

use super::budget::{Budget, seconds};
use super::coverage::{BASE, Coverage};
use super::drawn::Drawn;
use super::error::Error;
use super::feature::Feature;
use super::roles::{carried_by_bookmarks, carries, changes, triggers_for};
use super::server_draw::draw_settings;
use super::timeline::{REDRAWS, Timeline, fit};
use crate::fault::{Cut, Fault, FaultKind, Target};
use crate::scenario::Document;

/// How long after a change without a window its trigger may come: soon, before the client's
/// own periodic re-watch (every 290 s with kube) meets the change first.
const SOON_AFTER: Duration = Duration::from_secs(180);

/// How long after a bookmark a trigger that meets what it carried may come, at most. kube
/// re-watches at once after a clean end, so a watch opened by a clean cut has its bookmark
/// within a moment of the cut and one bookmark interval; a second or two after that, the next
/// event (which would overwrite the resume point) has most likely not come yet.
const AFTER_BOOKMARK: u64 = 2;

/// Draws run `i` of the guided search from `rng`.
pub(super) fn guided(
    base: &Document,
    budget: &Budget,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
    i: usize,
) -> Result<Drawn, Error> {
    let spec = base.scenario()?.server;
    let (server, knobs) = draw_settings(&spec, coverage, rng);
    let bookmarks = bookmark_clock(budget, &spec, &server);
    let base = base.with_server(&server);
    let mut features: Vec<Feature> = knobs.into_iter().map(Feature::Setting).collect();
    let count = budget.count(rng);
    let pair = draw_pair_kinds(budget, coverage, rng);
    let subset = swarm(budget, coverage, rng, pair);
    let mut timeline = Timeline::new();
    if let Some((change, trigger)) = pair
        && let Ok(fitted) = fit(&base, &timeline, || {
            pair_of(budget, change, trigger, bookmarks, rng)
        })
    {
        timeline = fitted;
        features.extend([Feature::Paired, Feature::Pair(change, trigger)]);
    }
    let mut timeline = fill(&base, budget, coverage, &subset, timeline, count, rng);
    if timeline.is_empty() {
        // Nothing in the subset fits this scenario (an `idle` window in a busy workload): a
        // fault of any kind, as the uniform search draws it.
        timeline = fit(&base, &timeline, || vec![budget.draw(rng)])
            .map_err(|source| Error::Draw { run: i, source })?;
    }
    let mut kinds: Vec<FaultKind> = timeline.iter().map(|(_, f)| f.kind_of()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    features.extend(kinds.into_iter().map(Feature::Kind));
    Ok(Drawn {
        timeline,
        server,
        features,
    })
}

/// `timeline` with faults of the kinds in `subset` (by weight) added up to `count`, each
/// redrawn until it fits, left out when none does.
fn fill(
    base: &Document,
    budget: &Budget,
    coverage: &Coverage,
    subset: &[FaultKind],
    mut timeline: Timeline,
    count: usize,
    rng: &mut fastrand::Rng,
) -> Timeline {
    for _ in timeline.len()..count {
        let mut one = || {
            let kind = pick(rng, subset, |k| coverage.weight(Feature::Kind(k)));
            kind.map(|kind| {
                let fault = budget.fault(kind, rng);
                (budget.place(&fault, rng), fault)
            })
            .into_iter()
            .collect()
        };
        if let Ok(fitted) = fit(base, &timeline, &mut one) {
            timeline = fitted;
        }
    }
    timeline
}

/// Whether this run is a pair, and which: about one run in three at first. Never when the
/// budget allows one fault a timeline.
///
/// The change is drawn first, by the mean weight of its pairs, then a trigger that meets it by
/// the pair's weight: each change is a different way the client's state goes wrong, and the
/// triggers only the means of showing it, so every change gets its share of the pairs however
/// many triggers meet it (drawn flat from every pair, a change five triggers meet would be
/// drawn two and a half times as often as one that two meet, for nothing about the change).
fn draw_pair_kinds(
    budget: &Budget,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
) -> Option<(FaultKind, FaultKind)> {
    let paired = coverage.weight(Feature::Paired);
    if budget.faults.1 < 2 || rng.u32(..paired + 2 * BASE) >= paired {
        return None;
    }
    let weight = |change, trigger| coverage.weight(Feature::Pair(change, trigger));
    let change = pick(rng, &changes(&budget.kinds), |change| {
        let triggers = triggers_for(change, &budget.kinds);
        let total: u32 = triggers.iter().map(|&t| weight(change, t)).sum();
        total / u32::try_from(triggers.len().max(1)).unwrap_or(u32::MAX)
    })?;
    let trigger = pick(rng, &triggers_for(change, &budget.kinds), |t| {
        weight(change, t)
    })?;
    Some((change, trigger))
}

/// The bookmark interval of this run's server, when a pair may time a trigger by it: the
/// watch cache is on (it sends the bookmarks), and the budget has the clean cut that restarts
/// every watch's bookmark clock and room for it (three faults).
fn bookmark_clock(
    budget: &Budget,
    spec: &crate::scenario::ServerSpec,
    server: &crate::scenario::ServerSettings,
) -> Option<Duration> {
    let cache = server.watch_cache.unwrap_or(spec.watch_cache);
    let can_cut = budget.kinds.contains(&FaultKind::CutStream) && budget.faults.1 >= 3;
    (cache && can_cut).then(|| server.bookmark_interval.unwrap_or(spec.bookmark_interval))
}

/// A swarm subset of the budget's kinds: each kind in with a chance that grows with its weight
/// (one in two at first), the pair's kinds always; never empty.
fn swarm(
    budget: &Budget,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
    pair: Option<(FaultKind, FaultKind)>,
) -> Vec<FaultKind> {
    let mut subset: Vec<FaultKind> = Vec::new();
    for &kind in &budget.kinds {
        let weight = coverage.weight(Feature::Kind(kind));
        if rng.u32(..weight + BASE) < weight && !subset.contains(&kind) {
            subset.push(kind);
        }
    }
    for kind in pair
        .into_iter()
        .flat_map(|(change, trigger)| [change, trigger])
    {
        if !subset.contains(&kind) {
            subset.push(kind);
        }
    }
    if subset.is_empty()
        && let Some(kind) = pick(rng, &budget.kinds, |k| coverage.weight(Feature::Kind(k)))
    {
        subset.push(kind);
    }
    subset
}

/// A change of kind `change` in the form that changes what a client carries, and after it a
/// trigger of kind `trigger`: inside the change's window three times in four when it has one
/// (a LIST that keeps failing while a relist is forced), else soon after it; all inside the
/// budget's span.
///
/// A change carried by bookmarks is in the client only from a bookmark to the next event, a
/// few seconds in a busy workload, and a trigger at any moment of the window lands there about
/// once in ten (bookmarks come once a minute). When `bookmarks` gives the server's interval,
/// the pair is timed by the bookmarks instead ([`after_a_bookmark`]).
fn pair_of(
    budget: &Budget,
    change: FaultKind,
    trigger: FaultKind,
    bookmarks: Option<Duration>,
    rng: &mut fastrand::Rng,
) -> Vec<(Duration, Fault)> {
    let mut changed = budget.fault(change, rng);
    for _ in 0..REDRAWS {
        if carries(&changed) {
            break;
        }
        changed = budget.fault(change, rng);
    }
    let triggered = budget.fault(trigger, rng);
    let second = Duration::from_secs(1);
    let last_trigger = budget.span.1.saturating_sub(triggered.duration());
    let lasts = changed.duration();
    let last_change = budget
        .span
        .1
        .saturating_sub(lasts)
        .min(last_trigger.saturating_sub(second));
    let at = seconds(rng, budget.span.0, last_change);
    if carried_by_bookmarks(change)
        && let Some(every) = bookmarks
        && let Some((cut_at, trigger_at)) =
            after_a_bookmark(budget, (at, lasts), every, last_trigger, rng)
    {
        let cut = Fault::CutStream {
            how: Cut::Clean,
            target: Target::default(),
        };
        return vec![(at, changed), (cut_at, cut), (trigger_at, triggered)];
    }
    let (from, to) = if lasts >= 2 * second && rng.u8(..4) != 0 {
        (at + second, at + lasts - second)
    } else {
        let after = at + lasts.max(second);
        (after, after + SOON_AFTER)
    };
    let to = to.min(last_trigger).max(at + second);
    let trigger_at = seconds(rng, from.min(to), to);
    vec![(at, changed), (trigger_at, triggered)]
}

/// When to cut every watch cleanly, and when the trigger comes, so that it meets the client
/// right after a bookmark inside the change's `window` (its start and length): the client
/// re-watches at once after the cut, and the server sends that watch's first bookmark `every`
/// later; the trigger comes one or two seconds after it. `None` when the window has no such
/// moment inside the budget's span.
fn after_a_bookmark(
    budget: &Budget,
    (at, lasts): (Duration, Duration),
    every: Duration,
    last_trigger: Duration,
    rng: &mut fastrand::Rng,
) -> Option<(Duration, Duration)> {
    let second = Duration::from_secs(1);
    let first = (at + second).max(budget.span.0 + every);
    let last = (at + lasts)
        .saturating_sub(second)
        .min(last_trigger.saturating_sub(Duration::from_secs(AFTER_BOOKMARK)));
    if first > last || every.is_zero() {
        return None;
    }
    let bookmark = seconds(rng, first, last);
    let trigger_at = bookmark + Duration::from_secs(rng.u64(1..=AFTER_BOOKMARK));
    Some((bookmark - every, trigger_at))
}

/// One of `items` by weight; `None` when there are none.
fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[T], weight: impl Fn(T) -> u32) -> Option<T> {
    let total: u32 = items.iter().map(|&item| weight(item)).sum();
    let mut left = rng.u32(..total.max(1));
    for &item in items {
        let w = weight(item);
        if left < w {
            return Some(item);
        }
        left -= w;
    }
    items.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::roles::pairs;

    fn matrix() -> (Document, Budget) {
        let base = Document::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/explore/generic-matrix.yaml"
        ))
        .unwrap()
        .without_faults()
        .for_any_faults();
        let scenario = base.scenario().unwrap();
        let budget = Budget::default_for(scenario.duration, scenario.expect.deadline).unwrap();
        (base, budget)
    }

    #[test]
    fn a_swarm_draw_uses_only_its_subset() {
        let (base, budget) = matrix();
        let coverage = Coverage::default();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut sizes = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let subset = swarm(&budget, &coverage, &mut rng, None);
            assert!(!subset.is_empty());
            assert!(subset.iter().all(|k| budget.kinds.contains(k)));
            sizes.insert(subset.len());
            let timeline = fill(
                &base,
                &budget,
                &coverage,
                &subset,
                Timeline::new(),
                3,
                &mut rng,
            );
            for (_, fault) in &timeline {
                assert!(
                    subset.contains(&fault.kind_of()),
                    "{fault:?} not in {subset:?}"
                );
            }
        }
        assert!(sizes.len() > 3, "subsets vary in size: {sizes:?}");
        let paired = swarm(
            &budget,
            &coverage,
            &mut rng,
            Some((FaultKind::Idle, FaultKind::Compact)),
        );
        assert!(paired.contains(&FaultKind::Idle) && paired.contains(&FaultKind::Compact));
    }

    #[test]
    fn a_pair_puts_the_trigger_after_the_state_change_inside_the_span() {
        let (_, budget) = matrix();
        let mut rng = fastrand::Rng::with_seed(11);
        for (change, trigger) in pairs(&budget.kinds) {
            for _ in 0..20 {
                let pair = pair_of(&budget, change, trigger, None, &mut rng);
                let [(at, changed), (then, triggered)] = &pair[..] else {
                    panic!("a pair is two faults: {pair:?}");
                };
                assert_eq!((changed.kind_of(), triggered.kind_of()), (change, trigger));
                assert!(then > at, "{pair:?}");
                assert!(*at >= budget.span.0, "{pair:?}");
                assert!(*then + triggered.duration() <= budget.span.1, "{pair:?}");
            }
        }
        // The pair: a LIST that keeps failing, and a relist forced inside its window.
        let inside = (0..50)
            .map(|_| {
                pair_of(
                    &budget,
                    FaultKind::HttpError,
                    FaultKind::ExpireWatches,
                    None,
                    &mut rng,
                )
            })
            .filter(|p| carries(&p[0].1) && p[1].0 < p[0].0 + p[0].1.duration())
            .count();
        assert!(inside > 25, "{inside} of 50 inside the window");
    }

    #[test]
    fn a_change_carried_by_bookmarks_is_met_right_after_a_bookmark() {
        let (_, budget) = matrix();
        let every = Duration::from_secs(60);
        let mut rng = fastrand::Rng::with_seed(13);
        let mut timed = 0;
        for _ in 0..50 {
            let change = FaultKind::EmptyBookmarks;
            let pair = pair_of(&budget, change, FaultKind::Restart, Some(every), &mut rng);
            let (at, window) = (pair[0].0, pair[0].1.duration());
            let Some((cut_at, _)) = pair
                .iter()
                .find(|(_, f)| f.kind_of() == FaultKind::CutStream)
            else {
                assert_eq!(pair.len(), 2, "{pair:?}");
                continue;
            };
            timed += 1;
            let (then, triggered) = pair.last().unwrap();
            assert_eq!(triggered.kind_of(), FaultKind::Restart);
            // The watch the cut opens has its first bookmark `every` later, in the window;
            // the trigger comes a second or two after it.
            let bookmark = *cut_at + every;
            assert!(bookmark > at && bookmark < at + window, "{pair:?}");
            let after = then.saturating_sub(bookmark);
            assert!(
                *then > bookmark && after.as_secs() <= AFTER_BOOKMARK,
                "{pair:?}"
            );
            assert!(*cut_at >= budget.span.0, "{pair:?}");
            assert!(*then + triggered.duration() <= budget.span.1, "{pair:?}");
        }
        assert!(timed > 25, "{timed} of 50 timed by the bookmarks");
    }

    #[test]
    fn every_change_gets_a_share_of_the_pairs_however_many_triggers_meet_it() {
        let (_, budget) = matrix();
        let coverage = Coverage::default();
        let mut rng = fastrand::Rng::with_seed(17);
        let mut drawn = std::collections::BTreeMap::<FaultKind, usize>::new();
        for _ in 0..30_000 {
            if let Some((change, _)) = draw_pair_kinds(&budget, &coverage, &mut rng) {
                *drawn.entry(change).or_default() += 1;
            }
        }
        let changes = changes(&budget.kinds);
        assert_eq!(drawn.len(), changes.len(), "{drawn:?}");
        let (least, most) = (drawn.values().min().unwrap(), drawn.values().max().unwrap());
        assert!(most * 2 < least * 3, "{drawn:?}");
    }
}
