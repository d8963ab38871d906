//! `harness run`: load the scenarios, run their matrices (several scenarios as one pool of
//! set-ups, a job per core), render the reports, and write them to a directory when asked.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;

use super::args::Format;
use super::paths::expand;
use crate::report;
use crate::run::{RunOptions, run as run_scenario, run_all};
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
    let reports = if let [scenario] = &scenarios[..] {
        vec![run_scenario(scenario, &options)?]
    } else {
        let total: usize = scenarios.iter().map(|s| s.watchers.len()).sum();
        let done = AtomicUsize::new(0);
        let reports = run_all(&scenarios, &options, jobs(), |scenario, setup| {
            let done = done.fetch_add(1, Ordering::Relaxed) + 1;
            if progress {
                // NB: progress is for people on the terminal (stderr is one); logs and pipes
                // get only the report.
                let _ = write!(
                    std::io::stderr(),
                    "\r[{done}/{total}] {:<50}",
                    format!("{scenario}/{setup}")
                );
            }
        })?;
        if progress {
            let _ = write!(err, "\r{:<60}\r", "");
        }
        reports
    };
    if let Some(dir) = request.out {
        write_reports(dir, &scenarios, &reports)?;
    }
    super::render::render(&reports, request.format, out)?;
    Ok(reports.iter().all(crate::run::RunReport::as_expected))
}

/// Set-ups run at once over several scenarios: one per core.
fn jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
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
