//! `harness explore`: the failures nobody wrote a scenario for. Random fault timelines, drawn
//! from a [`Budget`] over a scenario's own resource, objects, workload and set-ups, run in
//! virtual time and judged by the ordinary verdict; each way a set-up failed is shrunk to the
//! smallest timeline that still shows it and written as an ordinary scenario file.
//!
//! Entry point: [`explore`]. Deterministic for a seed: timeline `i` is drawn from a generator
//! seeded by the seed and `i` alone, findings are taken in run order, and each is shrunk by
//! itself, so `--jobs` changes how long it takes, never what it finds.

mod budget;
mod shrink;

pub use budget::{Budget, Error as BudgetError};

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::fault::Fault;
use crate::mechanism::Mechanism;
use crate::outcome::Outcome;
use crate::run::{self, RunOptions};
use crate::scenario::{Document, Scenario};
use crate::verdict::CheckName;

/// Faults at their times, in time order.
pub type Timeline = Vec<(Duration, Fault)>;

/// How to explore.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExploreOptions {
    /// Timelines to draw and run.
    pub runs: usize,
    /// Seeds every draw.
    pub seed: u64,
    /// Timelines run at once, each an isolated world per set-up.
    pub jobs: usize,
    /// What may be drawn.
    pub budget: Budget,
    /// How each set-up runs.
    pub run: RunOptions,
    /// Whether to shrink each finding (and check its file reproduces it); without, a finding
    /// is its first timeline as drawn.
    pub shrink: bool,
    /// Runs that may go into making one finding simpler.
    pub shrink_attempts: usize,
    /// Whether to show progress on stderr.
    pub progress: bool,
}

impl ExploreOptions {
    /// `runs` timelines from `seed` within `budget`, on every core, with progress on stderr when
    /// it is a terminal.
    #[must_use]
    pub fn new(runs: usize, seed: u64, budget: Budget) -> Self {
        Self {
            runs,
            seed,
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            budget,
            run: RunOptions::default(),
            shrink: true,
            shrink_attempts: 150,
            progress: std::io::stderr().is_terminal(),
        }
    }

    /// The same options with `jobs` timelines at once (at least 1).
    #[must_use]
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The same options without shrinking: each finding is its first timeline as drawn.
    #[must_use]
    pub fn without_shrinking(mut self) -> Self {
        self.shrink = false;
        self
    }

    /// The same options without progress.
    #[must_use]
    pub fn quiet(mut self) -> Self {
        self.progress = false;
        self
    }
}

/// Why exploring could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A drawn timeline made a scenario the loader refused, and no redraw helped: a bug in the
    /// budget's drawing, reported rather than skipped.
    #[error("timeline {run} could not be made valid: {source}")]
    Draw {
        /// The run.
        run: usize,
        /// The last refusal.
        #[source]
        source: crate::scenario::Error,
    },
    /// A run could not start.
    #[error(transparent)]
    Run(#[from] run::Error),
    /// A scenario could not be built.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::Error),
}

/// A way a set-up failed: its mechanism, and for an unknown one the first check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The set-up.
    pub setup: String,
    /// The mechanism the verdict names.
    pub mechanism: Mechanism,
    /// For [`Mechanism::Unknown`], the first check that failed, so two unknown failures are
    /// one finding only when they fail alike.
    pub check: Option<CheckName>,
}

impl Failure {
    fn of(outcome: &Outcome) -> Option<Self> {
        if outcome.verdict.recovered {
            return None;
        }
        let mechanism = outcome.verdict.mechanism.unwrap_or(Mechanism::Unknown);
        Some(Self {
            setup: outcome.setup.clone(),
            mechanism,
            check: (mechanism == Mechanism::Unknown)
                .then(|| {
                    outcome
                        .verdict
                        .checks
                        .iter()
                        .find(|c| !c.passed)
                        .map(|c| c.name)
                })
                .flatten(),
        })
    }

    /// Whether `outcome` is this failure again.
    fn is(&self, outcome: &Outcome) -> bool {
        Self::of(outcome).is_some_and(|f| f == *self)
    }
}

/// One way a set-up failed, shrunk.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finding {
    /// The set-up and how it failed.
    pub failure: Failure,
    /// The first timeline (by index) that showed it.
    pub first_run: usize,
    /// How many timelines showed it.
    pub runs: usize,
    /// That first timeline's faults.
    pub drawn: Timeline,
    /// The shrunk faults.
    pub faults: Timeline,
    /// Whether each shrunk fault was shown to be needed.
    pub minimal: bool,
    /// The diagnosis of the shrunk run.
    pub diagnosis: String,
    /// The finding as a scenario: this set-up alone, the shrunk faults, expected to fail so.
    pub document: Document,
    /// Whether loading `document` back from its YAML and running it gave the same failure.
    pub reproduced: bool,
}

/// What exploring found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exploration {
    /// The scenario explored.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Timelines run.
    pub runs: usize,
    /// Set-up runs in all (timelines × set-ups).
    pub setup_runs: usize,
    /// Set-up runs that did not recover.
    pub failures: usize,
    /// One per way a set-up failed, in the order first seen.
    pub findings: Vec<Finding>,
}

/// Explores `document`: its workload and set-ups under `options.runs` drawn fault timelines.
/// The document's own faults are taken out first.
///
/// # Errors
/// [`Error`] when a run cannot start or a drawn timeline cannot be made valid.
pub fn explore(document: &Document, options: &ExploreOptions) -> Result<Exploration, Error> {
    let base = document.without_faults().for_any_faults();
    let scenario = base.scenario()?;
    let progress = Progress::new(options.progress, options.runs);
    let drawn: Vec<Result<(Timeline, Vec<Outcome>), Error>> =
        in_parallel(options.runs, options.jobs, |i| {
            let result = run_one(&base, options, i);
            progress.ran();
            result
        });
    progress.done();
    let mut groups: Vec<(Failure, usize, usize, Timeline, Outcome)> = Vec::new();
    let (mut setup_runs, mut failures) = (0, 0);
    for (i, result) in drawn.into_iter().enumerate() {
        let (timeline, outcomes) = result?;
        setup_runs += outcomes.len();
        for outcome in outcomes {
            let Some(failure) = Failure::of(&outcome) else {
                continue;
            };
            failures += 1;
            match groups.iter_mut().find(|g| g.0 == failure) {
                Some(group) => group.2 += 1,
                None => groups.push((failure, i, 1, timeline.clone(), outcome)),
            }
        }
    }
    let shrinking = Progress::shrinking(options.progress, groups.len());
    let findings = in_parallel(groups.len(), options.jobs, |g| {
        let (failure, first_run, runs, drawn, outcome) = &groups[g];
        let finding = finding(
            &base,
            &scenario,
            options,
            failure,
            (*first_run, *runs),
            drawn,
            outcome.clone(),
        );
        shrinking.ran();
        finding
    });
    shrinking.done();
    Ok(Exploration {
        scenario: scenario.name.clone(),
        seed: options.seed,
        runs: options.runs,
        setup_runs,
        failures,
        findings: findings.into_iter().collect::<Result<_, _>>()?,
    })
}

/// Draws timeline `i` and runs the whole matrix under it.
fn run_one(
    base: &Document,
    options: &ExploreOptions,
    i: usize,
) -> Result<(Timeline, Vec<Outcome>), Error> {
    let timeline = draw(base, &options.budget, options.seed, i)?;
    let scenario = base.with_faults(&timeline).scenario()?;
    let report = run::run(&scenario, &options.run)?;
    Ok((timeline, report.outcomes))
}

/// Redraws of one fault before giving up on it.
const REDRAWS: usize = 16;

/// Timeline `i` of `seed`: a count of faults, each redrawn until the scenario with it is one
/// the loader takes (an `idle` window must not hold a write, for one).
fn draw(base: &Document, budget: &Budget, seed: u64, i: usize) -> Result<Timeline, Error> {
    let mut rng = fastrand::Rng::with_seed(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut timeline = Timeline::new();
    for _ in 0..budget.count(&mut rng) {
        let mut refused = None;
        for _ in 0..REDRAWS {
            let mut candidate = timeline.clone();
            candidate.push(budget.draw(&mut rng));
            candidate.sort_by_key(|(at, _)| *at);
            match base.with_faults(&candidate).scenario() {
                Ok(_) => {
                    timeline = candidate;
                    refused = None;
                    break;
                }
                Err(error) => refused = Some(error),
            }
        }
        // A fault that no redraw could fit is left out; a timeline with none at all is a bug.
        if let Some(source) = refused
            && timeline.is_empty()
        {
            return Err(Error::Draw { run: i, source });
        }
    }
    Ok(timeline)
}

/// Shrinks one failure and writes it as a scenario of its own.
fn finding(
    base: &Document,
    scenario: &Scenario,
    options: &ExploreOptions,
    failure: &Failure,
    (first_run, runs): (usize, usize),
    drawn: &Timeline,
    outcome: Outcome,
) -> Result<Finding, Error> {
    let alone = base.only(&failure.setup, Some(failure.mechanism));
    if !options.shrink {
        return Ok(Finding {
            failure: failure.clone(),
            first_run,
            runs,
            drawn: drawn.clone(),
            faults: drawn.clone(),
            minimal: false,
            diagnosis: outcome.verdict.diagnosis.clone().unwrap_or_default(),
            document: alone.with_faults(drawn).named(
                &file_name(scenario, failure),
                &format!(
                    "Found by `harness explore` (seed {}, timeline {first_run}; {runs} of {} timelines failed so), not shrunk.",
                    options.seed, options.runs
                ),
            ),
            reproduced: false,
        });
    }
    let mut run = |faults: &Timeline| -> Option<Outcome> {
        let scenario = alone.with_faults(faults).scenario().ok()?;
        run::run(&scenario, &options.run)
            .ok()?
            .outcomes
            .into_iter()
            .next()
    };
    let shrunk = shrink::shrink(
        drawn.clone(),
        outcome,
        failure,
        options.budget.span.0,
        options.shrink_attempts,
        &mut run,
    );
    let diagnosis = shrunk.outcome.verdict.diagnosis.clone().unwrap_or_default();
    let name = file_name(scenario, failure);
    let description = format!(
        "Found by `harness explore` (seed {}, timeline {first_run}; {runs} of {} timelines failed so), {}. Set-up {} fails by {}: {diagnosis}",
        options.seed,
        options.runs,
        match (drawn.len(), shrunk.faults.len(), shrunk.minimal) {
            (1, 1, needed) => format!("one fault{}", if needed { ", needed" } else { "" }),
            (drawn, 1, true) => format!("shrunk from {drawn} faults to one, needed"),
            (drawn, kept, true) => {
                format!("shrunk from {drawn} faults to {kept}, each of them needed")
            }
            (drawn, kept, false) => format!("shrunk from {drawn} faults to {kept}"),
        },
        failure.setup,
        failure.mechanism.name(),
    );
    let document = alone.with_faults(&shrunk.faults).named(&name, &description);
    let reproduced = Scenario::from_yaml(&document.to_yaml())
        .ok()
        .and_then(|s| run::run(&s, &options.run).ok())
        .is_some_and(|report| report.as_expected());
    Ok(Finding {
        failure: failure.clone(),
        first_run,
        runs,
        drawn: drawn.clone(),
        faults: shrunk.faults,
        minimal: shrunk.minimal,
        diagnosis,
        document,
        reproduced,
    })
}

/// `<scenario>-<set-up>-<mechanism>`, and the failing check for an unknown mechanism.
fn file_name(scenario: &Scenario, failure: &Failure) -> String {
    let check = failure
        .check
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(|c| format!("-{}", c.replace('_', "-"))))
        .unwrap_or_default();
    format!(
        "{}-{}-{}{check}",
        scenario.name,
        failure.setup,
        failure.mechanism.name().replace('_', "-")
    )
}

/// `f(0..n)` on `jobs` threads, results in index order.
fn in_parallel<T: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let result = f(i);
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// A progress line on stderr, when it is a terminal.
struct Progress {
    on: bool,
    what: &'static str,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    fn new(on: bool, total: usize) -> Self {
        Self {
            on,
            what: "timelines run",
            total,
            done: AtomicUsize::new(0),
        }
    }

    fn shrinking(on: bool, total: usize) -> Self {
        Self {
            what: "findings shrunk",
            ..Self::new(on, total)
        }
    }

    fn ran(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.on {
            eprint!("\r{done}/{} {}", self.total, self.what);
        }
    }

    fn done(&self) {
        if self.on && self.total > 0 {
            eprintln!();
        }
    }
}
