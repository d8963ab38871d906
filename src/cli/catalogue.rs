//! `harness list`: the scenario catalogue with what each one models.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use crate::report::wrap::wrap;
use crate::scenario::{self, Action, format_duration};

/// Width the descriptions are wrapped to.
const WIDTH: usize = 96;

/// Prints each scenario in `files`: name, file, length, set-ups, faults, and its description.
pub(super) fn list(files: &[PathBuf], out: &mut impl Write) -> anyhow::Result<()> {
    for (i, path) in files.iter().enumerate() {
        let scenario = scenario::load(path)?;
        let faults: BTreeSet<&str> = scenario
            .timeline
            .iter()
            .filter_map(|step| match &step.action {
                Action::Fault(fault) => Some(fault.kind()),
                Action::Write(_) => None,
            })
            .collect();
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}  ({}; {}, {} set-up{}; faults: {})",
            scenario.name,
            path.display(),
            format_duration(scenario.duration),
            scenario.watchers.len(),
            if scenario.watchers.len() == 1 {
                ""
            } else {
                "s"
            },
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.into_iter().collect::<Vec<_>>().join(", ")
            }
        )?;
        for line in wrap(&scenario.description, WIDTH - 2) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}
