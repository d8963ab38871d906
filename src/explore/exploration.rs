//! Exploring a scenario ([`explore`]) and what it found ([`Exploration`]): timelines drawn and
//! run until the count or the time is up, each run folded into a [`Tally`] and dropped, and
//! each way a set-up failed shrunk to a finding.
//!
//! Deterministic for a seed: timeline `i` is drawn from a generator seeded by the seed and `i`,
//! with what its lane learned from the lane's earlier timelines (`lanes.rs`); threads take timelines in number order (so the timelines run are always `0..n` of
//! the shard's share), the tally keeps each failure's first timeline by number, and each
//! finding is shrunk by itself. `--jobs` changes how long it takes, never what it finds; a
//! time budget changes only how many ran, which the summary says.
//!
//! Memory stays flat however many timelines run: a run's outcomes (traces and all) are
//! dropped as soon as they are folded in; a finding's first timeline is run again to shrink it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use super::error::Error;
use super::explore_options::ExploreOptions;
use super::finding::{Finding, finding};
use super::lanes::{Lanes, run_one};
use super::progress::Progress;
use super::shard::Shard;
use super::tally::{Group, Tally};
use crate::outcome::Outcome;
use crate::run;
use crate::run::parallel::in_parallel;
use crate::scenario::Document;

/// What exploring found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exploration {
    /// The scenario explored.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// The share of the timelines run.
    pub shard: Shard,
    /// Timelines run.
    pub runs: usize,
    /// Set-up runs in all (timelines × set-ups).
    pub setup_runs: usize,
    /// Set-up runs that did not recover.
    pub failures: usize,
    /// One per way a set-up failed, in the order first seen.
    pub findings: Vec<Finding>,
}

/// Explores `document`: its workload and set-ups under drawn fault timelines, as many as
/// `options.runs` (of which `options.shard`'s share) or as many as run in `options.time`.
/// The document's own faults are taken out first.
///
/// # Errors
/// [`Error`] when a run cannot start or a drawn timeline cannot be made valid.
pub fn explore(document: &Document, options: &ExploreOptions) -> Result<Exploration, Error> {
    let base = document.without_faults().for_any_faults();
    let scenario = base.scenario()?;
    let (runs, tally) = run_timelines(&base, options)?;
    let (setup_runs, failures) = (tally.setup_runs, tally.failures);
    let groups = tally.into_groups();
    let shrinking = Progress::shrinking(options.progress, groups.len());
    let findings = in_parallel(groups.len(), options.jobs, |g| {
        let group = &groups[g];
        let finding = again(&base, options, group).and_then(|outcome| {
            finding(
                &base,
                &scenario,
                options,
                &group.failure,
                (group.first.0, group.runs),
                &group.drawn,
                outcome,
            )
        });
        shrinking.ran();
        finding
    });
    shrinking.done();
    Ok(Exploration {
        scenario: scenario.name.clone(),
        seed: options.seed,
        shard: options.shard,
        runs,
        setup_runs,
        failures,
        findings: findings.into_iter().collect::<Result<_, _>>()?,
    })
}

/// Runs the shard's timelines in number order on `options.jobs` threads until the count or the
/// time is up, folding each run into the tally; how many ran, and the tally.
fn run_timelines(base: &Document, options: &ExploreOptions) -> Result<(usize, Tally), Error> {
    let shard = options.shard;
    // This shard's share of `0..options.runs`.
    let share = options
        .runs
        .saturating_sub(shard.index)
        .div_ceil(shard.count);
    let until = options.time.map(|time| Instant::now() + time);
    let progress = Progress::new(options.progress, share, options.time);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let tally = Mutex::new(Tally::default());
    let lanes = Lanes::new();
    let error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, share.max(1)) {
            scope.spawn(|| {
                // The time is checked before a timeline is taken, never after: every timeline
                // taken runs to its end, so the ones run are always `0..n`.
                while until.is_none_or(|until| Instant::now() < until)
                    && !failed.load(Ordering::Relaxed)
                {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    if j >= share {
                        break;
                    }
                    let i = shard.timeline(j);
                    let Some(coverage) = lanes.coverage_for(i) else {
                        failed.store(true, Ordering::Relaxed);
                        break;
                    };
                    match run_one(base, options, &coverage, i) {
                        Ok((drawn, outcomes)) => {
                            lanes.learn(i, Some((&drawn, &outcomes)));
                            if let Ok(mut tally) = tally.lock() {
                                tally.add(i, &drawn, &outcomes);
                            }
                        }
                        Err(e) => {
                            lanes.learn(i, None);
                            failed.store(true, Ordering::Relaxed);
                            if let Ok(mut error) = error.lock()
                                && error.as_ref().is_none_or(|(first, _)| i < *first)
                            {
                                *error = Some((i, e));
                            }
                        }
                    }
                    progress.ran();
                }
            });
        }
    });
    progress.done();
    if let Some((_, e)) = error.into_inner().ok().flatten() {
        return Err(e);
    }
    let ran = next.into_inner().min(share);
    Ok((ran, tally.into_inner().unwrap_or_default()))
}

/// The group's first timeline run again (runs are deterministic): the set-up's outcome there,
/// where shrinking starts.
fn again(base: &Document, options: &ExploreOptions, group: &Group) -> Result<Outcome, Error> {
    let scenario = base
        .with_server(&group.drawn.server)
        .with_faults(&group.drawn.timeline)
        .scenario()?;
    let mut outcomes = run::run(&scenario, &options.run)?.outcomes;
    Ok(outcomes.swap_remove(group.first.1))
}
