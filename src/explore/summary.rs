//! What `findings.json` holds ([`Summary`]): the totals of one or more explorations and their
//! findings, deduplicated by set-up × mechanism across scenarios; made from explorations, read
//! back, and merged from shards into what one run over every timeline would have written.
//!
//! Merging is exact because every figure in it is a sum or a minimum over timelines: a finding
//! is the one whose first timeline comes first (scenario order, then timeline number), and it
//! was shrunk from that timeline alone, so whichever shard ran that timeline wrote the same
//! finding a single run would have.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::Error;
use super::exploration::Exploration;
use super::shard::Shard;
use crate::fault::Fault;
use crate::mechanism::Mechanism;
use crate::scenario::{ServerSettings, format_duration};
use crate::verdict::CheckName;

/// The schema version `findings.json` is written in.
pub const VERSION: u32 = 2;

/// The totals and findings of an exploration, as `findings.json` holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// The schema version, [`VERSION`].
    pub version: u32,
    /// The seed.
    pub seed: u64,
    /// `K/N` when this is one shard's share; absent for the whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Timelines run, over every scenario.
    pub runs: usize,
    /// Set-up runs (timelines × set-ups).
    pub setup_runs: usize,
    /// Set-up runs that did not recover.
    pub failures: usize,
    /// Each scenario explored, in the order explored.
    pub scenarios: Vec<ScenarioTotals>,
    /// One per set-up × mechanism, in the order first seen.
    pub findings: Vec<FindingRecord>,
}

/// One scenario's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScenarioTotals {
    /// The scenario's name.
    pub name: String,
    /// Timelines run.
    pub runs: usize,
    /// Set-up runs.
    pub setup_runs: usize,
    /// Set-up runs that did not recover.
    pub failures: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FindingRecord {
    /// The scenario it was first found in, whose file it is written as.
    pub scenario: String,
    /// Other scenarios where the same set-up failed by the same mechanism.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
    /// How it failed.
    pub mechanism: Mechanism,
    /// For `unknown`, the first check that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckName>,
    /// The set-up.
    pub setup: String,
    /// The first timeline (by number, in its scenario) that showed it.
    pub first_run: usize,
    /// How many timelines showed it, over every scenario.
    pub runs: usize,
    /// That first timeline's faults.
    pub drawn: Vec<TimedFault>,
    /// The shrunk faults.
    pub faults: Vec<TimedFault>,
    /// The server settings the finding puts over its scenario's (drawn by the guided search,
    /// less those shrinking gave back), as its file's `server:` block has them.
    #[serde(default, skip_serializing_if = "DrawnServer::is_empty")]
    pub server: DrawnServer,
    /// Whether each shrunk fault was shown to be needed.
    pub minimal: bool,
    /// Whether the finding's own file reproduced it.
    pub reproduced: bool,
    /// The diagnosis of the shrunk run.
    pub diagnosis: String,
    /// The finding's scenario file, beside `findings.json`, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Server settings over a scenario's own, as a `server:` block writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DrawnServer {
    /// `watch_cache`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_cache: Option<bool>,
    /// `watch_cache_window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_cache_window: Option<String>,
    /// `watch_list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_list: Option<bool>,
    /// `bookmark_interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmark_interval: Option<String>,
    /// `compaction_interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction_interval: Option<String>,
}

impl DrawnServer {
    fn of(settings: &ServerSettings) -> Self {
        Self {
            watch_cache: settings.watch_cache,
            watch_cache_window: settings.watch_cache_window.map(format_duration),
            watch_list: settings.watch_list,
            bookmark_interval: settings.bookmark_interval.map(format_duration),
            compaction_interval: settings.compaction_interval.map(format_duration),
        }
    }

    /// Whether it keeps every setting of the scenario.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A fault at its time, as a timeline entry writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedFault {
    /// When, as a scenario writes a duration.
    pub at: String,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
}

impl FindingRecord {
    fn key(&self) -> (&str, Mechanism, Option<CheckName>) {
        (&self.setup, self.mechanism, self.check)
    }
}

impl Summary {
    /// The summary of `explorations`, one per scenario in the order explored; `written` when
    /// each finding's file is written beside `findings.json` as `<name>.yaml`.
    #[must_use]
    pub fn of(explorations: &[Exploration], written: bool) -> Self {
        let shard = explorations.first().map_or(Shard::WHOLE, |e| e.shard);
        let records = explorations.iter().flat_map(|exploration| {
            exploration.findings.iter().map(move |f| FindingRecord {
                scenario: exploration.scenario.clone(),
                also_in: Vec::new(),
                mechanism: f.failure.mechanism,
                check: f.failure.check,
                setup: f.failure.setup.clone(),
                first_run: f.first_run,
                runs: f.runs,
                drawn: timed(&f.drawn),
                faults: timed(&f.faults),
                server: DrawnServer::of(&f.server),
                minimal: f.minimal,
                reproduced: f.reproduced,
                diagnosis: f.diagnosis.clone(),
                file: written.then(|| format!("{}.yaml", f.document.name())),
            })
        });
        let scenarios: Vec<ScenarioTotals> = explorations
            .iter()
            .map(|e| ScenarioTotals {
                name: e.scenario.clone(),
                runs: e.runs,
                setup_runs: e.setup_runs,
                failures: e.failures,
            })
            .collect();
        let findings = dedup(&scenarios, records.map(|r| ((), r)))
            .into_iter()
            .map(|((), r)| r)
            .collect();
        Self::totalled(
            explorations.first().map_or(0, |e| e.seed),
            (!shard.is_whole()).then(|| shard.to_string()),
            scenarios,
            findings,
        )
    }

    /// A summary of `scenarios` and `findings`, its totals summed from the scenarios'.
    fn totalled(
        seed: u64,
        shard: Option<String>,
        scenarios: Vec<ScenarioTotals>,
        findings: Vec<FindingRecord>,
    ) -> Self {
        Self {
            version: VERSION,
            seed,
            shard,
            runs: scenarios.iter().map(|s| s.runs).sum(),
            setup_runs: scenarios.iter().map(|s| s.setup_runs).sum(),
            failures: scenarios.iter().map(|s| s.failures).sum(),
            scenarios,
            findings,
        }
    }

    /// The shards' summaries as one: what a single run over every timeline writes. `paths`
    /// name each summary in errors. Which shard each finding came from is returned beside it,
    /// so its file can be copied.
    ///
    /// # Errors
    /// [`Error::Merge`] when the summaries are not every shard of one exploration, once each.
    pub fn merge(shards: Vec<(String, Self)>) -> Result<(Self, Vec<usize>), Error> {
        let Some((first_path, first)) = shards.first().cloned() else {
            return Err(Error::Merge {
                path: "(none)".into(),
                reason: "no findings to merge".into(),
            });
        };
        let refuse = |path: &str, reason: String| Error::Merge {
            path: path.to_owned(),
            reason,
        };
        let mut seen = Vec::new();
        for (path, summary) in &shards {
            if summary.version != VERSION {
                return Err(refuse(
                    path,
                    format!("version {} (expected {VERSION})", summary.version),
                ));
            }
            let names = |s: &Self| {
                s.scenarios
                    .iter()
                    .map(|t| t.name.clone())
                    .collect::<Vec<_>>()
            };
            if summary.seed != first.seed || names(summary) != names(&first) {
                return Err(refuse(
                    path,
                    format!(
                        "explored seed {} over {:?}, but {first_path} seed {} over {:?}",
                        summary.seed,
                        names(summary),
                        first.seed,
                        names(&first)
                    ),
                ));
            }
            let shard: Shard = match &summary.shard {
                None => Shard::WHOLE,
                Some(text) => text.parse()?,
            };
            seen.push((path.as_str(), shard));
        }
        let count = seen[0].1.count;
        for index in 0..count {
            let with: Vec<&str> = seen
                .iter()
                .filter(|(_, s)| s.count == count && s.index == index)
                .map(|(p, _)| *p)
                .collect();
            if with.len() != 1 {
                return Err(refuse(
                    &first_path,
                    format!(
                        "shards of {count} need each of 0/{count} to {}/{count} once; shard {index}/{count} is in {} file(s) {with:?}",
                        count - 1,
                        with.len()
                    ),
                ));
            }
        }
        if let Some((path, shard)) = seen.iter().find(|(_, s)| s.count != count) {
            return Err(refuse(path, format!("shard {shard} is not one of {count}")));
        }
        let mut scenarios = first.scenarios.clone();
        for totals in &mut scenarios {
            (totals.runs, totals.setup_runs, totals.failures) = (0, 0, 0);
        }
        let mut records = Vec::new();
        for (from, (_, summary)) in shards.into_iter().enumerate() {
            for (totals, theirs) in scenarios.iter_mut().zip(&summary.scenarios) {
                totals.runs += theirs.runs;
                totals.setup_runs += theirs.setup_runs;
                totals.failures += theirs.failures;
            }
            records.extend(summary.findings.into_iter().map(|r| (from, r)));
        }
        let order = |name: &str| scenarios.iter().position(|s| s.name == name);
        // Stable: two findings with the same first timeline come from the shard that ran it,
        // already in the order that run saw them.
        records.sort_by_key(|(_, r)| (order(&r.scenario), r.first_run));
        let (from, findings) = dedup(&scenarios, records).into_iter().unzip();
        let merged = Self::totalled(first.seed, None, scenarios, findings);
        Ok((merged, from))
    }
}

/// Records in scenario order (each with where it came from), each set-up × mechanism kept
/// once: the first, with the runs of the others added and their scenarios (and those they
/// name) named.
fn dedup<T>(
    scenarios: &[ScenarioTotals],
    records: impl IntoIterator<Item = (T, FindingRecord)>,
) -> Vec<(T, FindingRecord)> {
    let order = |name: &str| scenarios.iter().position(|s| s.name == name);
    let mut kept: Vec<(T, FindingRecord)> = Vec::new();
    for (from, record) in records {
        match kept.iter_mut().find(|(_, k)| k.key() == record.key()) {
            None => kept.push((from, record)),
            Some((_, first)) => {
                first.runs += record.runs;
                for name in std::iter::once(record.scenario).chain(record.also_in) {
                    if name != first.scenario && !first.also_in.contains(&name) {
                        first.also_in.push(name);
                    }
                }
                first.also_in.sort_by_key(|name| order(name));
            }
        }
    }
    kept
}

fn timed(timeline: &[(Duration, Fault)]) -> Vec<TimedFault> {
    timeline
        .iter()
        .map(|(at, fault)| TimedFault {
            at: format_duration(*at),
            fault: fault.clone(),
        })
        .collect()
}
