//! The entry point of `harness exec`: the client run against the scenario (`play.rs`),
//! then each client it was judged from what the server saw
//! ([`crate::verdict::judge_client`]) and named for the report.

use std::path::PathBuf;

use super::error::Error;
use super::exec_options::ExecOptions;
use super::play::play;
use crate::outcome::{Outcome, RunReport};
use crate::scenario::{Expected, Scenario};
use crate::verdict::{self, ClientId};

/// A client judged, and what went wrong around it that is not the client's doing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Executed {
    /// The verdict on each client it was.
    pub report: RunReport,
    /// Through a proxy: workload writes the upstream refused, and what could not be cleaned
    /// up there. Empty on the simulation.
    pub problems: Vec<String>,
}

/// Serves `scenario` (or proxies a real apiserver with its faults), runs `command` against
/// it, and judges every client it was.
///
/// # Errors
/// When the server, the command or its view cannot be used; a client that misbehaves is a
/// verdict, not an error.
pub fn exec(
    scenario: &Scenario,
    command: &[String],
    options: &ExecOptions,
) -> Result<Executed, Error> {
    let (expected, expected_mechanism) = match &options.setup {
        None => (Expected::Recover, None),
        Some(name) => {
            let setup = scenario
                .watchers
                .iter()
                .find(|w| &w.name == name)
                .ok_or_else(|| {
                    let mut only = scenario.clone();
                    Error::UnknownSetUp(only.only(name).err().unwrap_or_default())
                })?;
            (setup.expected, setup.expected_mechanism)
        }
    };
    if command.is_empty() {
        return Err(Error::NoCommand);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Prepare {
            path: PathBuf::from("(runtime)"),
            source,
        })?;
    let (trace, end, exit, view, problems) = runtime.block_on(play(scenario, command, options))?;
    let mut clients = verdict::clients(&trace);
    if clients.is_empty() {
        // A client that never connected is judged too: it made no request.
        clients.push(ClientId::Agent(String::new()));
    }
    let outcomes = clients
        .iter()
        .map(|id| {
            let verdict = verdict::judge_client(
                scenario,
                &trace,
                verdict::Client {
                    id,
                    view: view.as_ref(),
                    exit: &exit,
                    end,
                    speed: options.speed,
                },
            );
            Outcome::held_to(
                client_name(&verdict::agents_of(&trace, id), id, command),
                expected,
                expected_mechanism,
                verdict,
                Vec::new(),
            )
        })
        .collect();
    Ok(Executed {
        report: RunReport {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
            duration: scenario.duration,
            outcomes,
        },
        problems,
    })
}

/// The name a client goes by in the report: its user agents, each up to its first space
/// (`kubectl/v1.33.0`), or the program's file name when it sent none (kube-rs sends none); and
/// its processes, when known (`kubectl/v1.33.0 (pid 4242)`).
fn client_name(agents: &[String], id: &ClientId, command: &[String]) -> String {
    let named: Vec<&str> = agents
        .iter()
        .filter_map(|agent| agent.split(' ').next())
        .filter(|name| !name.is_empty())
        .collect();
    let name = if named.is_empty() {
        format!(
            "{} (no user agent)",
            command
                .first()
                .map(std::path::Path::new)
                .and_then(std::path::Path::file_name)
                .map_or("client".into(), |name| name.to_string_lossy())
        )
    } else {
        named.join(" + ")
    };
    match id {
        ClientId::Processes(pids) => match pids.as_slice() {
            [pid] => format!("{name} (pid {pid})"),
            [first, .., last] => format!(
                "{name} ({} processes one after another, pids {first}..{last})",
                pids.len()
            ),
            [] => name,
        },
        ClientId::Agent(_) => name,
    }
}
