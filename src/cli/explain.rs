//! `harness explain FILE [--setup NAME]`: runs a scenario (only the named set-up, when one is
//! named) and explains each set-up that failed or did not do what the scenario expects.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::args::ExplainFormat;
use crate::report::explain::{Slice, write_json, write_text};
use crate::run::{RunOptions, run};
use crate::scenario;

/// What to explain.
pub(super) struct Request<'a> {
    pub(super) path: &'a Path,
    pub(super) setup: Option<&'a str>,
    pub(super) format: ExplainFormat,
    pub(super) whole_trace: bool,
    pub(super) wall_timeout: Duration,
}

/// Explains and reports whether the set-ups explained did what the scenario expects.
pub(super) fn explain(request: &Request<'_>, out: &mut impl Write) -> anyhow::Result<bool> {
    let mut scenario = scenario::load(request.path)?;
    if let Some(name) = request.setup {
        scenario.only(name).map_err(anyhow::Error::msg)?;
    }
    let report = run(
        &scenario,
        &RunOptions::default().wall_timeout(request.wall_timeout),
    )?;
    let chosen: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| request.setup.is_some() || !o.verdict.recovered || !o.as_expected)
        .collect();
    if chosen.is_empty() && request.format == ExplainFormat::Text {
        writeln!(
            out,
            "{}: every set-up recovered, as expected; name one with --setup to see its trace",
            scenario.name
        )?;
    }
    let slice = if request.whole_trace {
        Slice::Whole
    } else {
        Slice::AroundTheCause
    };
    for (i, outcome) in chosen.iter().enumerate() {
        match request.format {
            ExplainFormat::Text => {
                if i > 0 {
                    writeln!(out)?;
                }
                write_text(&scenario.name, outcome, slice, out)?;
            }
            ExplainFormat::Json => write_json(&scenario.name, outcome, slice, out)?,
        }
    }
    Ok(chosen.iter().all(|o| o.as_expected))
}
