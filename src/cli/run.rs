//! `harness run`: load the scenarios, run each one's matrix, render the reports, and write
//! them to a directory when asked.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::args::Format;
use super::paths::expand;
use crate::report;
use crate::run::{RunOptions, run as run_scenario};
use crate::scenario;

/// What `harness run` was asked.
pub(super) struct Request<'a> {
    /// Scenario files and directories.
    pub paths: &'a [PathBuf],
    /// How to render the reports.
    pub format: Format,
    /// Wall-clock time one set-up may take.
    pub wall_timeout: Duration,
    /// Where to write `report.json`, `junit.xml` and the timelines, when anywhere.
    pub out: Option<&'a Path>,
    /// Run only this set-up of each scenario.
    pub setup: Option<&'a str>,
}

/// Runs every scenario `request` names; whether every set-up did what its scenario expects.
pub(super) fn run(
    request: &Request<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<bool> {
    let files = expand(request.paths)?;
    // Load everything first: a bad file stops the run before anything runs.
    let mut scenarios = files
        .iter()
        .map(scenario::load)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(name) = request.setup {
        for scenario in &mut scenarios {
            scenario.only(name).map_err(anyhow::Error::msg)?;
        }
    }
    let options = RunOptions::default().wall_timeout(request.wall_timeout);
    let progress = std::io::stderr().is_terminal() && scenarios.len() > 1;
    let mut reports = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        if progress {
            // NB: progress is for people; logs and pipes get only the report.
            let _ = write!(
                err,
                "\r[{}/{}] {:<40}",
                i + 1,
                scenarios.len(),
                scenario.name
            );
        }
        reports.push(run_scenario(scenario, &options)?);
    }
    if progress {
        let _ = write!(err, "\r{:<50}\r", "");
    }
    if let Some(dir) = request.out {
        write_reports(dir, &scenarios, &reports)?;
    }
    super::render::render(&reports, request.format, out)?;
    Ok(reports.iter().all(crate::run::RunReport::as_expected))
}

/// Writes `report.json`, `junit.xml` and one `<scenario>.svg` per scenario into `dir`.
fn write_reports(
    dir: &Path,
    scenarios: &[scenario::Scenario],
    reports: &[crate::run::RunReport],
) -> anyhow::Result<()> {
    let context = |path: &Path| format!("failed to write {}", path.display());
    std::fs::create_dir_all(dir).with_context(|| context(dir))?;
    let create = |name: &str| -> anyhow::Result<(PathBuf, std::io::BufWriter<std::fs::File>)> {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).with_context(|| context(&path))?;
        Ok((path, std::io::BufWriter::new(file)))
    };
    let (path, mut file) = create("report.json")?;
    report::json::write(reports, &mut file).with_context(|| context(&path))?;
    file.flush().with_context(|| context(&path))?;
    let (path, mut file) = create("junit.xml")?;
    report::junit::write(reports, &mut file).with_context(|| context(&path))?;
    file.flush().with_context(|| context(&path))?;
    for (scenario, report) in scenarios.iter().zip(reports) {
        // Scenario names become file names: only the characters that are safe everywhere.
        let stem: String = scenario
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let (path, mut file) = create(&format!("{stem}.svg"))?;
        report::svg::write(scenario, report, &mut file).with_context(|| context(&path))?;
        file.flush().with_context(|| context(&path))?;
    }
    Ok(())
}
