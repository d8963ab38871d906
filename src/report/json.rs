//! The JSON report. Its shape is versioned by `schema`; durations are whole virtual
//! milliseconds, so two runs of the same scenario give byte-identical output.

use std::io;
use std::time::Duration;

use serde::Serialize;

use crate::run::RunReport;
use crate::scenario::Expected;
use crate::verdict::Check;

/// The version tag of the JSON report's shape.
pub const SCHEMA: &str = "kube-watch-harness/report/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    as_expected: bool,
    scenarios: Vec<ScenarioDoc<'a>>,
}

#[derive(Serialize)]
struct ScenarioDoc<'a> {
    name: &'a str,
    seed: u64,
    duration_ms: u64,
    setups: Vec<SetupDoc<'a>>,
}

#[derive(Serialize)]
struct SetupDoc<'a> {
    name: &'a str,
    expected: Expected,
    recovered: bool,
    as_expected: bool,
    relists: u32,
    requests: u64,
    errors: u32,
    peak_requests_per_minute: u32,
    disrupted_at_ms: Option<u64>,
    recovered_at_ms: Option<u64>,
    recovery_latency_ms: Option<u64>,
    checks: &'a [Check],
    diagnosis: Option<&'a str>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Writes the reports as one pretty-printed JSON document and a newline.
///
/// # Errors
/// Any error of `out`.
pub fn write(reports: &[RunReport], out: &mut impl io::Write) -> io::Result<()> {
    let doc = Document {
        schema: SCHEMA,
        as_expected: reports.iter().all(RunReport::as_expected),
        scenarios: reports
            .iter()
            .map(|r| ScenarioDoc {
                name: &r.scenario,
                seed: r.seed,
                duration_ms: ms(r.duration),
                setups: r
                    .outcomes
                    .iter()
                    .map(|o| {
                        let f = &o.verdict.figures;
                        SetupDoc {
                            name: &o.setup,
                            expected: o.expected,
                            recovered: o.verdict.recovered,
                            as_expected: o.as_expected,
                            relists: f.relists,
                            requests: f.requests,
                            errors: f.errors,
                            peak_requests_per_minute: f.peak_requests_per_minute,
                            disrupted_at_ms: f.disrupted_at.map(ms),
                            recovered_at_ms: f.recovered_at.map(ms),
                            recovery_latency_ms: f.recovery_latency.map(ms),
                            checks: &o.verdict.checks,
                            diagnosis: o.verdict.diagnosis.as_deref(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
