//! What `harness explore` found: a summary table, and one JSON document (also
//! `findings.json`). Deterministic: no clock, nothing of how many jobs ran.

use std::io;
use std::path::PathBuf;

use serde::Serialize;

use crate::explore::{Exploration, Finding, Timeline};
use crate::scenario::format_duration;

/// One fault as a timeline entry writes it: `at 2m: {kind: http_error, status: 503}`.
fn fault_words(at: std::time::Duration, fault: &crate::fault::Fault) -> String {
    let written = serde_saphyr::to_string(&serde_saphyr::FlowMap(fault)).unwrap_or_default();
    format!("at {}: {}", format_duration(at), written.trim())
}

/// Writes the summary: totals, then a row per finding with its shrunk faults and why.
///
/// # Errors
/// Any error of `out`.
pub fn write_table(
    exploration: &Exploration,
    files: &[PathBuf],
    out: &mut impl io::Write,
) -> io::Result<()> {
    writeln!(
        out,
        "explored {} (seed {}): {} timelines, {} set-up runs, {} did not recover, {} finding{}",
        exploration.scenario,
        exploration.seed,
        exploration.runs,
        exploration.setup_runs,
        exploration.failures,
        exploration.findings.len(),
        if exploration.findings.len() == 1 {
            ""
        } else {
            "s"
        }
    )?;
    if exploration.findings.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 5]> = exploration
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            [
                f.failure.mechanism.name().to_owned(),
                f.failure.setup.clone(),
                f.runs.to_string(),
                format!("{} (from {})", f.faults.len(), f.drawn.len()),
                files
                    .get(i)
                    .map_or_else(|| "-".to_owned(), |p| p.display().to_string()),
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
    for (row, finding) in rows.iter().zip(&exploration.findings) {
        writeln!(
            out,
            "{}",
            line([&row[0], &row[1], &row[2], &row[3], &row[4]])
        )?;
        for (at, fault) in &finding.faults {
            writeln!(out, "    {}", fault_words(*at, fault))?;
        }
        let mut notes = Vec::new();
        if !finding.minimal {
            notes.push("not shown minimal: shrinking ran out of attempts");
        }
        if !finding.reproduced {
            notes.push("NOT reproduced by its own file");
        }
        if !notes.is_empty() {
            writeln!(out, "    note: {}", notes.join("; "))?;
        }
        writeln!(out, "    why: {}", finding.diagnosis)?;
    }
    Ok(())
}

/// The JSON document.
#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    scenario: &'a str,
    seed: u64,
    runs: usize,
    setup_runs: usize,
    failures: usize,
    findings: Vec<FindingDoc<'a>>,
}

#[derive(Serialize)]
struct FindingDoc<'a> {
    mechanism: &'static str,
    setup: &'a str,
    first_run: usize,
    runs: usize,
    drawn: Vec<FaultDoc<'a>>,
    faults: Vec<FaultDoc<'a>>,
    minimal: bool,
    reproduced: bool,
    diagnosis: &'a str,
    file: Option<String>,
}

#[derive(Serialize)]
struct FaultDoc<'a> {
    at: String,
    #[serde(flatten)]
    fault: &'a crate::fault::Fault,
}

fn faults(timeline: &Timeline) -> Vec<FaultDoc<'_>> {
    timeline
        .iter()
        .map(|(at, fault)| FaultDoc {
            at: format_duration(*at),
            fault,
        })
        .collect()
}

fn finding_doc<'a>(f: &'a Finding, file: Option<&PathBuf>) -> FindingDoc<'a> {
    FindingDoc {
        mechanism: f.failure.mechanism.name(),
        setup: &f.failure.setup,
        first_run: f.first_run,
        runs: f.runs,
        drawn: faults(&f.drawn),
        faults: faults(&f.faults),
        minimal: f.minimal,
        reproduced: f.reproduced,
        diagnosis: &f.diagnosis,
        file: file.map(|p| p.display().to_string()),
    }
}

/// Writes the JSON document (version 1), pretty, with a final newline.
///
/// # Errors
/// Any error of `out`.
pub fn write_json(
    exploration: &Exploration,
    files: &[PathBuf],
    out: &mut impl io::Write,
) -> io::Result<()> {
    let doc = Doc {
        version: 1,
        scenario: &exploration.scenario,
        seed: exploration.seed,
        runs: exploration.runs,
        setup_runs: exploration.setup_runs,
        failures: exploration.failures,
        findings: exploration
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| finding_doc(f, files.get(i)))
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
