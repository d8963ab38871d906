//! The JSON report. Its shape is versioned by `schema` and documented by a JSON Schema
//! generated from these types (`report.schema.json` in the repository, kept current by a
//! test); durations are whole virtual milliseconds, so two runs of the same scenario give
//! byte-identical output.
//!
//! v2: adds the `monotonic`, `resumable` and `checkpoints` checks and `blind_time_ms`.
//! v3 (this): adds each failed set-up's `mechanism` and causal `chain`, its
//! `first_divergence`, and the `expected_mechanism` of a set-up expected to fail.

use std::io;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::mechanism::Mechanism;
use crate::outcome::RunReport;
use crate::scenario::Expected;
use crate::verdict::Check;

/// The version tag of the JSON report's shape.
pub const SCHEMA: &str = "kube-watch-harness/report/v3";

/// A kube-watch-harness report: the verdict of every scenario × watcher set-up.
#[derive(Serialize, JsonSchema)]
struct Document<'a> {
    /// `kube-watch-harness/report/v3`.
    schema: &'static str,
    /// Every set-up did what its scenario expects.
    as_expected: bool,
    /// One entry per scenario, in the order run.
    scenarios: Vec<ScenarioDoc<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct ScenarioDoc<'a> {
    /// The scenario's name.
    name: &'a str,
    /// Its seed.
    seed: u64,
    /// Its virtual duration.
    duration_ms: u64,
    /// One entry per set-up, in the scenario's order.
    setups: Vec<SetupDoc<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct SetupDoc<'a> {
    /// The set-up's name.
    name: &'a str,
    /// What the scenario expects of it.
    expected: Expected,
    /// The mechanism it is expected to fail by, when it is expected to fail.
    expected_mechanism: Option<Mechanism>,
    /// How it failed, when it did.
    mechanism: Option<Mechanism>,
    /// Every check passed.
    recovered: bool,
    /// `recovered` is what `expected` says.
    as_expected: bool,
    /// Full LISTs after the first.
    relists: u32,
    /// Requests the watcher made.
    requests: u64,
    /// Errors the watcher emitted.
    errors: u32,
    /// Most requests in any sliding virtual minute.
    peak_requests_per_minute: u32,
    /// When the faults first disrupted the watcher.
    disrupted_at_ms: Option<u64>,
    /// When it was back in sync for good.
    recovered_at_ms: Option<u64>,
    /// `recovered_at_ms - disrupted_at_ms`.
    recovery_latency_ms: Option<u64>,
    /// The longest stretch in which its view differed from the truth.
    blind_time_ms: Option<u64>,
    /// Every check, passed or not, with what was found.
    checks: &'a [Check],
    /// Why it did not recover, as a causal chain, oldest first.
    chain: Vec<LinkDoc<'a>>,
    /// Where its view first left the truth after the first fault.
    first_divergence: Option<DivergenceDoc<'a>>,
    /// Why it did not recover, in words.
    diagnosis: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct LinkDoc<'a> {
    /// When, in virtual milliseconds.
    at_ms: u64,
    /// What happened.
    text: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct DivergenceDoc<'a> {
    /// When, in virtual milliseconds.
    at_ms: u64,
    /// What differed.
    difference: &'a str,
}

/// The JSON Schema of the report, generated from the types that write it.
#[must_use]
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Document<'static>);
    schema.insert("title".into(), "kube-watch-harness report".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
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
                            expected_mechanism: o.expected_mechanism,
                            mechanism: o.verdict.mechanism,
                            recovered: o.verdict.recovered,
                            as_expected: o.as_expected,
                            relists: f.relists,
                            requests: f.requests,
                            errors: f.errors,
                            peak_requests_per_minute: f.peak_requests_per_minute,
                            disrupted_at_ms: f.disrupted_at.map(ms),
                            recovered_at_ms: f.recovered_at.map(ms),
                            recovery_latency_ms: f.recovery_latency.map(ms),
                            blind_time_ms: f.blind_time.map(ms),
                            checks: &o.verdict.checks,
                            chain: o
                                .verdict
                                .chain
                                .iter()
                                .map(|l| LinkDoc {
                                    at_ms: ms(l.at),
                                    text: &l.text,
                                })
                                .collect(),
                            first_divergence: o.verdict.first_divergence.as_ref().map(|d| {
                                DivergenceDoc {
                                    at_ms: ms(d.at),
                                    difference: &d.difference,
                                }
                            }),
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
