//! `harness list`: the scenario catalogue with what each one models.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

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

/// Greedy word wrap; a word longer than `width` (a URL) gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_between_words_and_keeps_long_words_whole() {
        assert_eq!(
            wrap("a bb ccc https://example.com/long dd", 8),
            ["a bb ccc", "https://example.com/long", "dd"]
        );
        assert!(wrap("", 8).is_empty());
    }
}
