//! The terminal table: one row per scenario × set-up, the diagnosis under each failure.

use std::io;

use anstyle::{AnsiColor, Style};

use crate::outcome::{Outcome, RunReport};
use crate::scenario::{Expected, format_duration};

const HEADERS: [&str; 8] = [
    "SCENARIO", "SET-UP", "EXPECTED", "RESULT", "RELISTS", "REQUESTS", "RECOVERY", "",
];

/// Writes the table without colour. Deterministic: no clock.
///
/// # Errors
/// Any error of `out`.
pub fn write(reports: &[RunReport], out: &mut impl io::Write) -> io::Result<()> {
    write_styled(reports, out, false)
}

/// The style of a cell: results and expectations in green or red when `colour` is on.
fn style(column: usize, cell: &str, colour: bool) -> Style {
    if !colour {
        return Style::new();
    }
    let bad = AnsiColor::Red.on_default().bold();
    match (column, cell) {
        (3, "recovered") | (7, "ok") => AnsiColor::Green.on_default(),
        (3, _) | (7, "UNEXPECTED") => bad,
        _ => Style::new(),
    }
}

/// Writes the table, with ANSI colour when `colour` is on (a terminal that did not ask for
/// `NO_COLOR`).
///
/// # Errors
/// Any error of `out`.
pub fn write_styled(
    reports: &[RunReport],
    out: &mut impl io::Write,
    colour: bool,
) -> io::Result<()> {
    let mut rows: Vec<([String; 8], Option<String>)> = Vec::new();
    for report in reports {
        for o in &report.outcomes {
            let f = &o.verdict.figures;
            let recovery = match (o.verdict.recovered, f.recovery_latency) {
                (_, Some(latency)) => format_duration(latency),
                (true, None) => "undisrupted".into(),
                (false, None) => "-".into(),
            };
            rows.push((
                [
                    report.scenario.clone(),
                    o.setup.clone(),
                    match o.expected {
                        Expected::Recover => "recover".into(),
                        Expected::Fail => "fail".into(),
                    },
                    if o.verdict.recovered {
                        "recovered".into()
                    } else {
                        "NOT recovered".into()
                    },
                    f.relists.to_string(),
                    f.requests.to_string(),
                    recovery,
                    if o.as_expected {
                        "ok".into()
                    } else {
                        "UNEXPECTED".into()
                    },
                ],
                why(o),
            ));
        }
    }
    let mut widths = HEADERS.map(str::len);
    // The rows are laid out below; `why` belongs to each.
    for (row, _) in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 8], colour: bool| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let s = style(i, c, colour);
                // NB: padding first, so escape codes never count towards the width.
                format!(
                    "{s}{c}{s:#}{}",
                    " ".repeat(w.saturating_sub(c.chars().count()))
                )
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&HEADERS.map(String::from), false))?;
    for (row, diagnosis) in &rows {
        writeln!(out, "{}", line(row, colour))?;
        if let Some(d) = diagnosis {
            writeln!(out, "    {d}")?;
        }
    }
    let total = rows.len();
    let unexpected = reports
        .iter()
        .flat_map(|r| &r.outcomes)
        .filter(|o| !o.as_expected)
        .count();
    writeln!(out)?;
    writeln!(
        out,
        "{} of {total} set-ups as expected{}; jitter seeded per scenario",
        total - unexpected,
        if unexpected == 0 {
            String::new()
        } else {
            format!(", {unexpected} UNEXPECTED")
        }
    )
}

/// The line under a failed set-up: `why (mechanism): diagnosis`, and what was expected instead
/// when it failed another way than its scenario says; under one that recovered, the breaches
/// its scenario tolerates, or why the tolerance is stale.
fn why(o: &Outcome) -> Option<String> {
    let tolerated: Vec<&str> = o.verdict.tolerated.iter().map(|c| c.name()).collect();
    if o.verdict.recovered {
        // Recovered, with breaches its scenario tolerates, or a tolerance gone stale.
        let tolerated = (!tolerated.is_empty())
            .then(|| format!("tolerated (`expect.tolerate`): {}", tolerated.join(", ")));
        return o.verdict.diagnosis.clone().or(tolerated);
    }
    let diagnosis = o.verdict.diagnosis.as_deref()?;
    let mechanism = o
        .verdict
        .mechanism
        .map_or_else(|| "unknown".to_owned(), |m| m.to_string());
    let mut text = format!("why ({mechanism}): {diagnosis}");
    if let Some(expected) = o.expected_mechanism
        && o.verdict.mechanism != Some(expected)
    {
        text.push_str(&format!(
            "\n    expected: to fail by {expected}, not by {mechanism}"
        ));
    }
    Some(text)
}
