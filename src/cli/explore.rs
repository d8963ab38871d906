//! `harness explore FILE`: explores, prints the summary, and writes the findings.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::args::ExploreFormat;
use crate::explore::{Budget, ExploreOptions, Search, explore as run_exploration};
use crate::report;
use crate::run::RunOptions;
use crate::scenario::Document;

/// What to explore, and how.
pub(super) struct Request<'a> {
    pub(super) path: &'a Path,
    pub(super) runs: usize,
    pub(super) seed: u64,
    pub(super) budget: Option<&'a Path>,
    pub(super) out: Option<&'a Path>,
    pub(super) jobs: Option<usize>,
    pub(super) shrink: bool,
    pub(super) search: Option<Search>,
    pub(super) format: ExploreFormat,
    pub(super) wall_timeout: Duration,
}

/// Explores; `Ok(true)` when no set-up failed.
pub(super) fn explore(request: &Request<'_>, out: &mut impl Write) -> anyhow::Result<bool> {
    let document = Document::load(request.path)?;
    let scenario = document.scenario()?;
    let (duration, deadline) = (scenario.duration, scenario.expect.deadline);
    let mut budget = match request.budget {
        Some(path) => Budget::load(path, duration, deadline)?,
        None => Budget::default_for(duration, deadline)?,
    };
    if let Some(search) = request.search {
        budget.search = search;
    }
    let mut options = ExploreOptions::new(request.runs, request.seed, budget);
    options.run = RunOptions::default().wall_timeout(request.wall_timeout);
    if !request.shrink {
        options = options.without_shrinking();
    }
    if let Some(jobs) = request.jobs {
        options = options.jobs(jobs);
    }
    let exploration = run_exploration(&document, &options)?;
    let files = match request.out {
        None => Vec::new(),
        Some(dir) => {
            let context = |p: &Path| format!("failed to write {}", p.display());
            std::fs::create_dir_all(dir).with_context(|| context(dir))?;
            let mut files = Vec::new();
            for finding in &exploration.findings {
                let path = dir.join(format!("{}.yaml", finding.document.name()));
                std::fs::write(&path, finding.document.to_yaml())
                    .with_context(|| context(&path))?;
                files.push(path);
            }
            let path = dir.join("findings.json");
            let mut json = Vec::new();
            report::explore::write_json(&exploration, &files, &mut json)?;
            std::fs::write(&path, json).with_context(|| context(&path))?;
            files
        }
    };
    match request.format {
        ExploreFormat::Table => report::explore::write_table(&exploration, &files, out)?,
        ExploreFormat::Json => report::explore::write_json(&exploration, &files, out)?,
    }
    Ok(exploration.findings.is_empty())
}
