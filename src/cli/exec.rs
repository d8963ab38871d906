//! `harness exec`: a scenario served for any command, which is then judged.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::args::Format;
use crate::exec::{ExecOptions, exec as exec_client};
use crate::scenario;

/// What `harness exec` was asked to do.
#[derive(Debug)]
pub(super) struct Request<'a> {
    pub(super) path: &'a Path,
    pub(super) speed: u32,
    pub(super) format: Format,
    pub(super) setup: Option<String>,
    pub(super) grace: Duration,
    pub(super) upstream: Option<crate::proxy::ProxyOptions>,
    pub(super) command: &'a [String],
}

/// Runs the command against the scenario and writes the verdict; `true` when it is what the
/// scenario expects.
pub(super) fn exec(
    request: &Request<'_>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<bool> {
    let scenario = scenario::load(request.path)?;
    let mut options = ExecOptions::default()
        .speed(request.speed)
        .grace(request.grace)
        .interruptible();
    if let Some(setup) = &request.setup {
        options = options.setup(setup.clone());
    }
    let through = match &request.upstream {
        Some(proxy) => {
            options = options.upstream(proxy.clone(), request.path);
            format!(" through a proxy in front of {}", proxy.upstream.display())
        }
        None => String::new(),
    };
    writeln!(
        err,
        "serving scenario {}{through} for `{}` ({} of timeline at {}×)",
        scenario.name,
        request.command.join(" "),
        scenario::format_duration(scenario.duration),
        request.speed
    )?;
    let executed = exec_client(&scenario, request.command, &options)?;
    for problem in &executed.problems {
        writeln!(err, "warning: {problem}")?;
    }
    let reports = [executed.report];
    super::render::render(&reports, request.format, out)?;
    Ok(reports.iter().all(crate::outcome::RunReport::as_expected))
}
