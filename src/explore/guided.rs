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
use super::roles::{carries, pairs};
use super::server_draw::draw_settings;
use super::timeline::{REDRAWS, Timeline, fit};
use crate::fault::{Fault, FaultKind};
use crate::scenario::Document;

/// How long after a change without a window its trigger may come: soon, before the client's
/// own periodic re-watch (every 290 s with kube) meets the change first.
const SOON_AFTER: Duration = Duration::from_secs(180);

/// Draws run `i` of the guided search from `rng`.
pub(super) fn guided(
    base: &Document,
    budget: &Budget,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
    i: usize,
) -> Result<Drawn, Error> {
    let (server, knobs) = draw_settings(&base.scenario()?.server, coverage, rng);
    let base = base.with_server(&server);
    let mut features: Vec<Feature> = knobs.into_iter().map(Feature::Setting).collect();
    let count = budget.count(rng);
    let pair = draw_pair_kinds(budget, coverage, rng);
    let subset = swarm(budget, coverage, rng, pair);
    let mut timeline = Timeline::new();
    if let Some((change, trigger)) = pair
        && let Ok(fitted) = fit(&base, &timeline, || pair_of(budget, change, trigger, rng))
    {
        timeline = fitted;
        features.extend([Feature::Paired, Feature::Pair(change, trigger)]);
    }
    for _ in timeline.len()..count {
        let mut one = || {
            let kind = pick(rng, &subset, |k| coverage.weight(Feature::Kind(k)));
            let fault = budget.fault(kind.unwrap_or(FaultKind::CutStream), rng);
            vec![(budget.place(&fault, rng), fault)]
        };
        if let Ok(fitted) = fit(&base, &timeline, &mut one) {
            timeline = fitted;
        }
    }
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

/// Whether this run is a pair, and which: about one run in three at first, each pair of the
/// budget's kinds by its weight. Never when the budget allows one fault a timeline.
fn draw_pair_kinds(
    budget: &Budget,
    coverage: &Coverage,
    rng: &mut fastrand::Rng,
) -> Option<(FaultKind, FaultKind)> {
    let paired = coverage.weight(Feature::Paired);
    if budget.faults.1 < 2 || rng.u32(..paired + 2 * BASE) >= paired {
        return None;
    }
    pick(rng, &pairs(&budget.kinds), |(change, trigger)| {
        coverage.weight(Feature::Pair(change, trigger))
    })
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
/// (a LIST that keeps failing while a relist is forced), else soon after it; both inside the
/// budget's span.
fn pair_of(
    budget: &Budget,
    change: FaultKind,
    trigger: FaultKind,
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
