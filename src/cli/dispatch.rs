//! Running the CLI: each command to the file that runs it, and the result to an exit code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::args::{Args, Command, SchemaOf, SearchArg};
use super::paths::expand;
use crate::explore::Search;
use crate::report;
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

/// Runs one command; whether every expectation held (`true` for commands that judge nothing).
fn execute(args: Args, out: &mut impl Write, err: &mut impl Write) -> anyhow::Result<bool> {
    match args.command {
        command @ (Command::Serve { .. } | Command::Exec { .. } | Command::Proxy { .. }) => {
            in_front(command, out, err)
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
            super::catalogue::list(&expand(&paths)?, out)?;
            Ok(true)
        }
        Command::Check { paths } => {
            check(&expand(&paths)?, out)?;
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
            search,
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
                search: search.map(|s| match s {
                    SearchArg::Uniform => Search::Uniform,
                    SearchArg::Guided => Search::Guided,
                }),
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
        } => super::run::run(
            &super::run::Request {
                paths: &paths,
                format,
                wall_timeout: Duration::from_secs(wall_timeout.max(1)),
                out: out_dir.as_deref(),
                setup: setup.as_deref(),
            },
            out,
            err,
        ),
    }
}

/// The commands that put a server in front of clients: `serve`, `exec` and `proxy`.
fn in_front(command: Command, out: &mut impl Write, err: &mut impl Write) -> anyhow::Result<bool> {
    match command {
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
        _ => unreachable!("execute passes only serve, exec and proxy here"),
    }
}

/// `harness check`: loads each file and says what it holds.
fn check(files: &[PathBuf], out: &mut impl Write) -> anyhow::Result<()> {
    for path in files {
        let scenario = scenario::load(path)?;
        writeln!(
            out,
            "{}: ok ({}, {} set-ups)",
            path.display(),
            scenario.name,
            scenario.watchers.len()
        )?;
    }
    Ok(())
}
