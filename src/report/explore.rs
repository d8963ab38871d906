//! What `harness explore` found: a summary table, and one JSON document (also
//! `findings.json`, the explore [`Summary`]). Deterministic: no clock, nothing of how many jobs
//! ran.

use std::io;
use std::path::Path;

use crate::explore::{Summary, TimedFault};

/// One fault as a timeline entry writes it: `at 2m: {kind: http_error, status: 503}`.
fn fault_words(timed: &TimedFault) -> String {
    let written = serde_saphyr::to_string(&serde_saphyr::FlowMap(&timed.fault)).unwrap_or_default();
    format!("at {}: {}", timed.at, written.trim())
}

/// Writes the summary: totals, then a row per finding with its shrunk faults and why; files
/// are shown under `dir`, where they were written.
///
/// # Errors
/// Any error of `out`.
pub fn write_table(
    summary: &Summary,
    dir: Option<&Path>,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let what = match summary.scenarios.as_slice() {
        [one] => one.name.clone(),
        many => format!("{} scenarios", many.len()),
    };
    let shard = summary
        .shard
        .as_ref()
        .map_or_else(String::new, |s| format!(", shard {s}"));
    let count = summary.findings.len();
    writeln!(
        out,
        "explored {what} (seed {}{shard}): {} timelines, {} set-up runs, {} did not recover, {count} finding{}",
        summary.seed,
        summary.runs,
        summary.setup_runs,
        summary.failures,
        if count == 1 { "" } else { "s" }
    )?;
    if summary.scenarios.len() > 1 {
        for s in &summary.scenarios {
            writeln!(
                out,
                "  {}: {} timelines, {} set-up runs, {} did not recover",
                s.name, s.runs, s.setup_runs, s.failures
            )?;
        }
    }
    if summary.findings.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 5]> = summary
        .findings
        .iter()
        .map(|f| {
            [
                f.mechanism.name().to_owned(),
                f.setup.clone(),
                f.runs.to_string(),
                format!("{} (from {})", f.faults.len(), f.drawn.len()),
                match (&f.file, dir) {
                    (Some(file), Some(dir)) => dir.join(file).display().to_string(),
                    (Some(file), None) => file.clone(),
                    (None, _) => "-".to_owned(),
                },
            ]
        })
        .collect();
    let headers = ["MECHANISM", "SET-UP", "TIMELINES", "FAULTS", "FILE"];
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        let mut text = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c == 4 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        text.trim_end().to_owned()
    };
    writeln!(out)?;
    writeln!(out, "{}", line(headers))?;
    for (row, finding) in rows.iter().zip(&summary.findings) {
        writeln!(
            out,
            "{}",
            line([&row[0], &row[1], &row[2], &row[3], &row[4]])
        )?;
        if !finding.server.is_empty() {
            let written = serde_saphyr::to_string(&serde_saphyr::FlowMap(&finding.server))
                .unwrap_or_default();
            writeln!(out, "    server: {}", written.trim())?;
        }
        for timed in &finding.faults {
            writeln!(out, "    {}", fault_words(timed))?;
        }
        let mut notes = Vec::new();
        if summary.scenarios.len() > 1 {
            notes.push(format!("in {}", finding.scenario));
            if !finding.also_in.is_empty() {
                notes.push(format!("also in {}", finding.also_in.join(", ")));
            }
        }
        if !finding.minimal {
            notes.push("not shown minimal: shrinking ran out of attempts".into());
        }
        if !finding.reproduced {
            notes.push("NOT reproduced by its own file".into());
        }
        if !notes.is_empty() {
            writeln!(out, "    note: {}", notes.join("; "))?;
        }
        writeln!(out, "    why: {}", finding.diagnosis)?;
    }
    Ok(())
}

/// Writes the JSON document, pretty, with a final newline.
///
/// # Errors
/// Any error of `out`.
pub fn write_json(summary: &Summary, out: &mut impl io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    writeln!(out)
}
