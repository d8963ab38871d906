//! One way a set-up failed, shrunk and written as a scenario of its own ([`Finding`]).

use super::drawn::Drawn;
use super::error::Error;
use super::explore_options::ExploreOptions;
use super::failure::Failure;
use super::shrink;
use super::timeline::Timeline;
use crate::outcome::Outcome;
use crate::run;
use crate::scenario::{Document, Scenario, ServerSettings};

/// One way a set-up failed, shrunk.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finding {
    /// The set-up and how it failed.
    pub failure: Failure,
    /// The first timeline (by index) that showed it.
    pub first_run: usize,
    /// How many timelines showed it.
    pub runs: usize,
    /// That first timeline's faults.
    pub drawn: Timeline,
    /// The shrunk faults.
    pub faults: Timeline,
    /// The server settings put over the scenario's own: as drawn, less those shrinking gave
    /// back (the file has them in its `server:` block).
    pub server: ServerSettings,
    /// Whether each shrunk fault was shown to be needed.
    pub minimal: bool,
    /// The diagnosis of the shrunk run.
    pub diagnosis: String,
    /// The finding as a scenario: this set-up alone, the shrunk faults, expected to fail so.
    pub document: Document,
    /// Whether loading `document` back from its YAML and running it gave the same failure.
    pub reproduced: bool,
}

/// Shrinks one failure and writes it as a scenario of its own.
pub(super) fn finding(
    base: &Document,
    scenario: &Scenario,
    options: &ExploreOptions,
    failure: &Failure,
    (first_run, runs): (usize, usize),
    drawn: &Drawn,
    outcome: Outcome,
) -> Result<Finding, Error> {
    let alone = base.only(&failure.setup, Some(failure.mechanism));
    let (server, drawn) = (drawn.server, &drawn.timeline);
    if !options.shrink {
        let alone = alone.with_server(&server);
        return Ok(Finding {
            failure: failure.clone(),
            first_run,
            runs,
            drawn: drawn.clone(),
            faults: drawn.clone(),
            server,
            minimal: false,
            diagnosis: outcome.verdict.diagnosis.clone().unwrap_or_default(),
            document: alone.with_faults(drawn).named(
                &file_name(scenario, failure),
                &format!(
                    "Found by `harness explore` (seed {}, timeline {first_run}), not shrunk.",
                    options.seed
                ),
            ),
            reproduced: false,
        });
    }
    let run = |document: &Document| -> Option<Outcome> {
        let scenario = document.scenario().ok()?;
        run::run(&scenario, &options.run)
            .ok()?
            .outcomes
            .into_iter()
            .next()
    };
    // The scenario's own settings first: a finding the scenario's server shows is simpler.
    let mut left = options.shrink_attempts;
    let (server, outcome) = shrink::shrink_server(server, outcome, failure, &mut left, &mut |s| {
        run(&alone.with_server(s).with_faults(drawn))
    });
    let alone = alone.with_server(&server);
    let shrunk = shrink::shrink(
        drawn.clone(),
        outcome,
        failure,
        options.budget.span.0,
        left,
        &mut |faults| run(&alone.with_faults(faults)),
    );
    let diagnosis = shrunk.outcome.verdict.diagnosis.clone().unwrap_or_default();
    let name = file_name(scenario, failure);
    let description = format!(
        "Found by `harness explore` (seed {}, timeline {first_run}), {}. Set-up {} fails by {}: {diagnosis}",
        options.seed,
        match (drawn.len(), shrunk.faults.len(), shrunk.minimal) {
            (1, 1, needed) => format!("one fault{}", if needed { ", needed" } else { "" }),
            (drawn, 1, true) => format!("shrunk from {drawn} faults to one, needed"),
            (drawn, kept, true) => {
                format!("shrunk from {drawn} faults to {kept}, each of them needed")
            }
            (drawn, kept, false) => format!("shrunk from {drawn} faults to {kept}"),
        },
        failure.setup,
        failure.mechanism.name(),
    );
    let document = alone.with_faults(&shrunk.faults).named(&name, &description);
    let reproduced = Scenario::from_yaml(&document.to_yaml())
        .ok()
        .and_then(|s| run::run(&s, &options.run).ok())
        .is_some_and(|report| report.as_expected());
    Ok(Finding {
        failure: failure.clone(),
        first_run,
        runs,
        drawn: drawn.clone(),
        faults: shrunk.faults,
        server,
        minimal: shrunk.minimal,
        diagnosis,
        document,
        reproduced,
    })
}

/// `<scenario>-<set-up>-<mechanism>`, and the failing check for an unknown mechanism.
fn file_name(scenario: &Scenario, failure: &Failure) -> String {
    let check = failure
        .check
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(|c| format!("-{}", c.replace('_', "-"))))
        .unwrap_or_default();
    format!(
        "{}-{}-{}{check}",
        scenario.name,
        failure.setup,
        failure.mechanism.name().replace('_', "-")
    )
}
