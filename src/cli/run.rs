//! Running the CLI: resolve paths, load, run, render, and map the result to an exit code.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::args::{Args, Command, SchemaOf};
use crate::report;
use crate::run::{RunOptions, run as run_scenario};
use crate::scenario;

/// Every expectation held.
pub const PASSED: u8 = 0;
/// At least one set-up's verdict differs from what its scenario expects.
pub const VERDICT_FAILED: u8 = 1;
/// The harness could not run: a bad file, a bad flag.
pub const HARNESS_ERROR: u8 = 2;
/// `harness exec` was stopped by Ctrl-C or SIGTERM before it could judge (128 + SIGINT, the
/// shell's code for an interrupted command).
pub const INTERRUPTED: u8 = 130;

/// Runs the parsed command, writing reports to `out` and errors to `err`.
pub fn run(args: Args, out: &mut impl Write, err: &mut impl Write) -> ExitCode {
    match execute(args, out, err) {
        Ok(true) => ExitCode::from(PASSED),
        Ok(false) => ExitCode::from(VERDICT_FAILED),
        // A reader that went away (`harness run ... | head`) is not a harness failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::from(PASSED)
        }
        Err(e)
            if e.downcast_ref::<crate::exec::Error>()
                .is_some_and(|e| matches!(e, crate::exec::Error::Interrupted)) =>
        {
            let _ = writeln!(err, "{e:#}");
            ExitCode::from(INTERRUPTED)
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            ExitCode::from(HARNESS_ERROR)
        }
    }
}

fn execute(args: Args, out: &mut impl Write, err: &mut impl Write) -> anyhow::Result<bool> {
    match args.command {
        Command::Serve {
            path,
            addr,
            kubeconfig,
            speed,
        } => {
            let request = super::serve::Request {
                path: &path,
                addr,
                kubeconfig,
                speed,
            };
            super::serve::serve(&request, out, err)?;
            Ok(true)
        }
        Command::Exec {
            path,
            speed,
            format,
            setup,
            grace,
            upstream,
            context,
            etcd,
            command,
        } => super::exec::exec(
            &super::exec::Request {
                path: &path,
                speed,
                format,
                setup,
                grace: Duration::from_secs(grace),
                upstream: upstream.map(|kubeconfig| {
                    crate::proxy::ProxyOptions::new(kubeconfig)
                        .context(context)
                        .etcd(etcd)
                }),
                command: &command,
            },
            out,
            err,
        ),
        Command::Proxy {
            path,
            upstream,
            context,
            etcd,
            addr,
            kubeconfig,
            speed,
        } => {
            let request = super::proxy::Request {
                path: &path,
                options: crate::proxy::ProxyOptions::new(upstream)
                    .context(context)
                    .etcd(etcd)
                    .addr(addr)
                    .speed(speed),
                kubeconfig,
            };
            super::proxy::proxy(&request, out, err)?;
            Ok(true)
        }
        Command::Schema { of } => {
            let schema = match of {
                SchemaOf::Scenario => scenario::json_schema(),
                SchemaOf::Report => report::json::json_schema(),
            };
            out.write_all(schema.as_bytes())?;
            Ok(true)
        }
        Command::List { paths } => {
            super::list::list(&expand(&paths)?, out)?;
            Ok(true)
        }
        Command::Check { paths } => {
            for path in expand(&paths)? {
                let scenario = scenario::load(&path)?;
                writeln!(
                    out,
                    "{}: ok ({}, {} set-ups)",
                    path.display(),
                    scenario.name,
                    scenario.watchers.len()
                )?;
            }
            Ok(true)
        }
        Command::Explain {
            path,
            setup,
            format,
            whole_trace,
            wall_timeout,
        } => {
            let request = super::explain::Request {
                path: &path,
                setup: setup.as_deref(),
                format,
                whole_trace,
                wall_timeout: Duration::from_secs(wall_timeout.max(1)),
            };
            super::explain::explain(&request, out)
        }
        Command::Explore {
            path,
            runs,
            seed,
            budget,
            out: out_dir,
            jobs,
            no_shrink,
            format,
            wall_timeout,
        } => super::explore::explore(
            &super::explore::Request {
                path: &path,
                runs,
                seed,
                budget: budget.as_deref(),
                out: out_dir.as_deref(),
                jobs,
                shrink: !no_shrink,
                format,
                wall_timeout: Duration::from_secs(wall_timeout.max(1)),
            },
            out,
        ),
        Command::Run {
            paths,
            format,
            wall_timeout,
            out: out_dir,
            setup,
        } => {
            let files = expand(&paths)?;
            // Load everything first: a bad file stops the run before anything runs.
            let mut scenarios = files
                .iter()
                .map(scenario::load)
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(name) = &setup {
                for scenario in &mut scenarios {
                    scenario.only(name).map_err(anyhow::Error::msg)?;
                }
            }
            let options =
                RunOptions::default().wall_timeout(Duration::from_secs(wall_timeout.max(1)));
            let progress = std::io::stderr().is_terminal() && scenarios.len() > 1;
            let mut reports = Vec::new();
            for (i, scenario) in scenarios.iter().enumerate() {
                if progress {
                    // NB: progress is for people; logs and pipes get only the report.
                    let _ = write!(
                        err,
                        "\r[{}/{}] {:<40}",
                        i + 1,
                        scenarios.len(),
                        scenario.name
                    );
                }
                reports.push(run_scenario(scenario, &options)?);
            }
            if progress {
                let _ = write!(err, "\r{:<50}\r", "");
            }
            if let Some(dir) = &out_dir {
                write_reports(dir, &scenarios, &reports)?;
            }
            super::render::render(&reports, format, out)?;
            Ok(reports.iter().all(crate::run::RunReport::as_expected))
        }
    }
}

/// Writes `report.json`, `junit.xml` and one `<scenario>.svg` per scenario into `dir`.
fn write_reports(
    dir: &Path,
    scenarios: &[scenario::Scenario],
    reports: &[crate::run::RunReport],
) -> anyhow::Result<()> {
    let context = |path: &Path| format!("failed to write {}", path.display());
    std::fs::create_dir_all(dir).with_context(|| context(dir))?;
    let create = |name: &str| -> anyhow::Result<(PathBuf, std::io::BufWriter<std::fs::File>)> {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).with_context(|| context(&path))?;
        Ok((path, std::io::BufWriter::new(file)))
    };
    let (path, mut file) = create("report.json")?;
    report::json::write(reports, &mut file).with_context(|| context(&path))?;
    file.flush().with_context(|| context(&path))?;
    let (path, mut file) = create("junit.xml")?;
    report::junit::write(reports, &mut file).with_context(|| context(&path))?;
    file.flush().with_context(|| context(&path))?;
    for (scenario, report) in scenarios.iter().zip(reports) {
        // Scenario names become file names: only the characters that are safe everywhere.
        let stem: String = scenario
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let (path, mut file) = create(&format!("{stem}.svg"))?;
        report::svg::write(scenario, report, &mut file).with_context(|| context(&path))?;
        file.flush().with_context(|| context(&path))?;
    }
    Ok(())
}

/// Files as given, and the `*.yaml` files of directories in name order.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = scenario::files_in(path)
                .map_err(|e| anyhow::anyhow!("failed to read directory {}: {e}", path.display()))?;
            if found.is_empty() {
                anyhow::bail!("no *.yaml scenarios in directory {}", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
