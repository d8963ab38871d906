//! An SVG timeline of one scenario's run, a lane per set-up: the faults across the top and as
//! shaded windows, each request as a tick coloured by its answer (relists taller), the watcher's
//! errors, the stretches where its view differed from the truth, and when it was back in sync.
//! Readable at a glance in a browser or a CI artifact viewer; deterministic, so it can be
//! snapshot-tested.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use quick_xml::escape::escape;

use crate::outcome::{Outcome, RunReport};
use crate::scenario::{Action, Scenario, format_duration};
use crate::trace::TraceKind;
use crate::verdict;

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 80.0;
const LANE: f64 = 70.0;
const OK: &str = "#2e7d32";
const BAD: &str = "#c62828";
const FAULT: &str = "#6a1b9a";
const RELIST: &str = "#ef6c00";
const MUTED: &str = "#9e9e9e";
const GRID: &str = "#eeeeee";

struct Scale {
    duration: f64,
}

impl Scale {
    fn x(&self, at: Duration) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (at.as_secs_f64() / self.duration).min(1.0)
    }
}

/// Writes the timeline of `report`, a run of `scenario`.
///
/// # Errors
/// Any error of `out`.
pub fn write(scenario: &Scenario, report: &RunReport, out: &mut impl io::Write) -> io::Result<()> {
    let scale = Scale {
        duration: scenario.duration.as_secs_f64().max(1.0),
    };
    let lanes = report.outcomes.len();
    #[allow(clippy::cast_precision_loss)] // a handful of lanes
    let height = TOP + LANE * lanes as f64 + 40.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#,
        escape(format!(
            "{} — {} of virtual time, seed {}",
            scenario.name,
            format_duration(scenario.duration),
            scenario.seed
        ))
    );
    legend(&mut svg);
    axis(&mut svg, &scale, height);
    faults(&mut svg, scenario, &scale, height);
    writes(&mut svg, scenario, &scale);
    for (i, outcome) in report.outcomes.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = TOP + LANE * i as f64;
        lane(&mut svg, &scale, y, outcome);
    }
    svg.push_str("</svg>\n");
    out.write_all(svg.as_bytes())
}

fn legend(svg: &mut String) {
    let items = [
        (OK, "request answered 200"),
        (BAD, "error, or out of sync"),
        (RELIST, "relist (LIST)"),
        (FAULT, "fault"),
    ];
    for (i, (colour, label)) in items.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x = LEFT + 190.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="32" width="10" height="10" fill="{colour}"/><text x="{}" y="41">{label}</text>"#,
            x + 14.0
        );
    }
}

fn axis(svg: &mut String, scale: &Scale, height: f64) {
    let minutes = (scale.duration / 60.0).ceil().max(1.0);
    let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0]
        .into_iter()
        .find(|s| minutes / s <= 12.0)
        .unwrap_or(120.0);
    let mut minute = 0.0;
    while minute * 60.0 <= scale.duration {
        let x = scale.x(Duration::from_secs_f64(minute * 60.0));
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="{GRID}"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="{MUTED}">{minute}m</text>"#,
            TOP - 8.0,
            height - 30.0,
            height - 14.0
        );
        minute += step;
    }
}

fn faults(svg: &mut String, scenario: &Scenario, scale: &Scale, height: f64) {
    for step in &scenario.timeline {
        let Action::Fault(fault) = &step.action else {
            continue;
        };
        let (x, end) = (scale.x(step.at), scale.x(step.at + fault.duration()));
        if end - x > 1.0 {
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{}" width="{:.1}" height="{:.1}" fill="{FAULT}" fill-opacity="0.08"/>"#,
                TOP - 8.0,
                end - x,
                height - TOP - 22.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="{FAULT}" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" fill="{FAULT}">{}</text>"#,
            TOP - 8.0,
            height - 30.0,
            x + 3.0,
            TOP - 12.0,
            escape(format!("{} {}", fault.kind(), format_duration(step.at)))
        );
    }
}

/// The workload's writes as small marks under the fault labels.
fn writes(svg: &mut String, scenario: &Scenario, scale: &Scale) {
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{:.1}" fill="{MUTED}">writes</text>"#,
        TOP + 2.0
    );
    for step in &scenario.timeline {
        if let Action::Write(write) = &step.action {
            let x = scale.x(step.at);
            let what = match write {
                crate::scenario::Write::Create(o) => format!("create {}", o.name),
                crate::scenario::Write::Update { name, .. } => format!("update {name}"),
                crate::scenario::Write::Delete { name, .. } => format!("delete {name}"),
            };
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="3" height="8" fill="{MUTED}"><title>{}</title></rect>"#,
                x - 1.5,
                TOP - 6.0,
                escape(format!("{} {what}", format_duration(step.at)))
            );
        }
    }
}

fn lane(svg: &mut String, scale: &Scale, y: f64, outcome: &Outcome) {
    let verdict = &outcome.verdict;
    let (name_colour, result) = if verdict.recovered {
        (OK, "recovered")
    } else {
        (BAD, "NOT recovered")
    };
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{:.1}" font-weight="bold">{}</text><text x="10" y="{:.1}" fill="{name_colour}">{result}</text>"#,
        y + 22.0,
        escape(&outcome.setup),
        y + 38.0
    );
    let base = y + 45.0;
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{base:.1}" x2="{:.1}" y2="{base:.1}" stroke="{MUTED}"/>"#,
        WIDTH - RIGHT
    );
    // Out of sync, past the delivery lag the verdict forgave.
    let marks = &verdict.marks;
    for (start, end) in marks.gaps.iter().copied() {
        let (x1, x2) = (scale.x(start), end.map_or(WIDTH - RIGHT, |e| scale.x(e)));
        let _ = writeln!(
            svg,
            r#"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="6" fill="{BAD}" fill-opacity="0.6"><title>view differs from the truth</title></rect>"#,
            base + 2.0,
            (x2 - x1).max(1.0)
        );
    }
    for event in &outcome.trace {
        let x = scale.x(event.at);
        match &event.kind {
            TraceKind::Request(r) => {
                let failed = marks.failed_requests.contains(&r.id);
                let relist = !failed && verdict::lists(r) && event.at > Duration::ZERO;
                let (colour, tall) = if failed {
                    (BAD, 12.0)
                } else if verdict::lists(r) {
                    (RELIST, 22.0)
                } else {
                    (OK, 12.0)
                };
                if relist {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{x:.1}" y="{:.1}" fill="{RELIST}" text-anchor="middle" font-size="10">relist</text>"#,
                        base + 17.0
                    );
                }
                let _ = writeln!(
                    svg,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{base:.1}" stroke="{colour}"><title>{}</title></line>"#,
                    base - tall,
                    escape(format!(
                        "{} {} {}?{} → {}",
                        format_duration(event.at),
                        r.method,
                        r.path,
                        r.query,
                        r.status
                    ))
                );
            }
            TraceKind::WatcherError(fault) => {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{:.1}" r="3.5" fill="{BAD}"><title>{}</title></circle>"#,
                    base - 18.0,
                    escape(format!("{} {}", format_duration(event.at), fault.message))
                );
                if let Some(code) = fault.code.filter(|c| *c != 0) {
                    let _ = writeln!(
                        svg,
                        r#"<text x="{:.1}" y="{:.1}" fill="{BAD}" text-anchor="end" font-size="10">{code}</text>"#,
                        x - 5.0,
                        base - 15.0
                    );
                }
            }
            TraceKind::StreamEnded { cause } => {
                let _ = writeln!(
                    svg,
                    r#"<text x="{x:.1}" y="{:.1}" fill="{BAD}" font-weight="bold">✕<title>{}</title></text>"#,
                    base - 24.0,
                    escape(cause.describe())
                );
            }
            _ => {}
        }
    }
    if let Some(at) = verdict.figures.recovered_at {
        let x = scale.x(at);
        let _ = writeln!(
            svg,
            r#"<path d="M{x:.1} {base:.1} v-30 l10 5 l-10 5" fill="{OK}" stroke="{OK}"><title>back in sync at {}</title></path><text x="{:.1}" y="{:.1}" fill="{OK}">in sync {}</text>"#,
            format_duration(at),
            x + 12.0,
            base - 22.0,
            format_duration(at)
        );
    }
}
