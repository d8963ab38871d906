//! `harness explore PATH`: explores a scenario or every scenario in a directory, prints one
//! summary, and writes the findings; `harness explore merge` is in `explore_merge.rs`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::explore_args::{ExploreArgs, ExploreCommand, ExploreFormat};
use super::explore_merge::merge;
use super::paths::expand;
use crate::explore::{
    Budget, Exploration, ExploreOptions, Finding, Shard, Summary, explore as explore_one,
};
use crate::report;
use crate::scenario::Document;

/// Timelines per scenario when neither `--runs` nor `--for` says.
const DEFAULT_RUNS: usize = 200;

/// Explores, or merges; `Ok(true)` when nothing failed.
pub(super) fn explore(args: &ExploreArgs, out: &mut impl Write) -> anyhow::Result<bool> {
    if let Some(ExploreCommand::Merge {
        dirs,
        out: dir,
        format,
    }) = &args.command
    {
        return merge(dirs, dir.as_deref(), *format, out);
    }
    let Some(path) = &args.path else {
        anyhow::bail!("harness explore needs a scenario file or directory");
    };
    // Load everything first: a bad file stops the exploration before anything runs.
    let documents = expand(std::slice::from_ref(path))?
        .iter()
        .map(|file| Ok((Document::load(file)?, file.clone())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let until = args.time.map(|time| Instant::now() + time);
    let mut explorations = Vec::new();
    for (n, (document, _)) in documents.iter().enumerate() {
        // Each scenario gets an equal share of the time that is left.
        let share = until.map(|until| {
            let left = until.saturating_duration_since(Instant::now());
            (left / u32::try_from(documents.len() - n).unwrap_or(u32::MAX))
                .max(Duration::from_millis(1))
        });
        let options = options(args, document, share)?;
        explorations.push(explore_one(document, &options)?);
    }
    let summary = Summary::of(&explorations, args.out.is_some());
    let kept = kept(&summary, &explorations);
    if let Some(dir) = &args.out {
        write_findings(dir, &summary, &kept)?;
    }
    if let Some(dir) = &args.emit_tests {
        super::emit_tests::write(dir, &kept)?;
    }
    match args.format {
        ExploreFormat::Table => report::explore::write_table(&summary, args.out.as_deref(), out)?,
        ExploreFormat::Json => report::explore::write_json(&summary, out)?,
    }
    Ok(summary.findings.is_empty())
}

/// The options for exploring `document` as `args` say, within `time` when timed.
fn options(
    args: &ExploreArgs,
    document: &Document,
    time: Option<Duration>,
) -> anyhow::Result<ExploreOptions> {
    let scenario = document.scenario()?;
    let (duration, deadline) = (scenario.duration, scenario.expect.deadline);
    let mut budget = match &args.budget {
        Some(path) => Budget::load(path, duration, deadline)?,
        None => Budget::default_for(duration, deadline)?,
    }
    .for_server(&scenario.server)?;
    if let Some(search) = args.search {
        budget.search = search.into();
    }
    let runs = args.runs.unwrap_or(if time.is_some() {
        usize::MAX
    } else {
        DEFAULT_RUNS
    });
    let mut options =
        ExploreOptions::new(runs, args.seed, budget).shard(args.shard.unwrap_or(Shard::WHOLE));
    options.run = options
        .run
        .clone()
        .wall_timeout(Duration::from_secs(args.wall_timeout.max(1)));
    if let Some(time) = time {
        options = options.for_time(time);
    }
    if args.no_shrink {
        options = options.without_shrinking();
    }
    if let Some(jobs) = args.jobs {
        options = options.jobs(jobs);
    }
    Ok(options)
}

/// The findings the summary keeps, in its order: the first of each set-up × mechanism.
fn kept<'a>(summary: &Summary, explorations: &'a [Exploration]) -> Vec<&'a Finding> {
    summary
        .findings
        .iter()
        .filter_map(|record| {
            explorations
                .iter()
                .filter(|e| e.scenario == record.scenario)
                .flat_map(|e| &e.findings)
                .find(|f| {
                    (&f.failure.setup, f.failure.mechanism, f.failure.check)
                        == (&record.setup, record.mechanism, record.check)
                })
        })
        .collect()
}

/// Writes each finding the summary keeps as its scenario file, and `findings.json`.
fn write_findings(dir: &Path, summary: &Summary, kept: &[&Finding]) -> anyhow::Result<()> {
    let context = |p: &Path| format!("failed to write {}", p.display());
    std::fs::create_dir_all(dir).with_context(|| context(dir))?;
    for (record, finding) in summary.findings.iter().zip(kept) {
        if let Some(file) = &record.file {
            let path = dir.join(file);
            std::fs::write(&path, finding.document.to_yaml()).with_context(|| context(&path))?;
        }
    }
    let path = dir.join("findings.json");
    let mut json = Vec::new();
    report::explore::write_json(summary, &mut json)?;
    std::fs::write(&path, json).with_context(|| context(&path))
}
