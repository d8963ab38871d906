//! The soak: `harness serve` (or `harness proxy` in front of the real control plane) under a
//! million well-formed requests of every verb it serves, with malformed ones on connections of
//! their own and watches held open the whole time, while the scenario's faults play. It reports
//! requests processed per second, the answers by status, the server's peak resident memory
//! against its size after warm-up, and its open file descriptors, tokio tasks and open watches
//! before the load and once it stops; it fails when a request went unanswered, the server
//! panicked, memory grew past 1.5× the warmed-up size, or anything it held for the load was
//! not given back.
//!
//! Run with `cargo bench --bench soak` (a million requests to `harness serve`);
//! `-- --through proxy` soaks `harness proxy` in front of the real control plane
//! (`ci/anchor-build`), 150,000 requests at 900 a second by default. `--requests N`,
//! `--rate N` (requests a second), `--connections N`, `--held N`, `--malformed N`,
//! `--speed N`, `--scenario FILE` change it.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench's report"
)]

mod counts;
mod malformed;
mod mix;
mod report;
mod run;
mod target;

use std::path::PathBuf;

use kube_watch_harness::anchor::{Binaries, ControlPlane, ControlPlaneOptions};
use target::{Served, Through};

/// What to run.
pub(crate) struct Options {
    pub(crate) through: Through,
    pub(crate) requests: u64,
    /// Requests a second at most, all connections together; `None`: as fast as answered.
    pub(crate) rate: Option<u64>,
    pub(crate) connections: u64,
    pub(crate) held: u64,
    pub(crate) malformed: u64,
    pub(crate) speed: u32,
    pub(crate) scenario: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Options {
    fn from_args() -> Result<Self, String> {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let through = match args.iter().position(|a| a == "--through") {
            Some(at) if args.get(at + 1).is_some_and(|t| t == "proxy") => {
                args.drain(at..=at + 1);
                Through::Proxy
            }
            Some(at) if args.get(at + 1).is_some_and(|t| t == "serve") => {
                args.drain(at..=at + 1);
                Through::Serve
            }
            Some(_) => return Err("--through takes serve or proxy".into()),
            None => Through::Serve,
        };
        let mut options = match through {
            // forced-410's 10 minutes in 200 s: its expire_watches plays 100 s in, and a
            // million requests take about 105 s here.
            Through::Serve => Self {
                through,
                requests: 1_000_000,
                rate: None,
                connections: 64,
                held: 8,
                malformed: 2,
                speed: 3,
                scenario: root().join("scenarios/forced-410.yaml"),
            },
            // A proxy stops a run that is a request storm (a thousand lists and watches within a
            // second): 900 requests a second, some 600 of them lists and watches (more while
            // a fault answers at once), stay under it; at 1,200 a second the 503s' minute was
            // one. Its scenario plays the faults a proxy can in its first 5 minutes at 1×, then 3 quiet.
            Through::Proxy => Self {
                through,
                requests: 150_000,
                rate: Some(900),
                connections: 64,
                held: 8,
                malformed: 2,
                speed: 1,
                scenario: root().join("benches/soak/proxy.yaml"),
            },
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--requests" => options.requests = number(&value()?)?,
                "--rate" => options.rate = Some(number(&value()?)?),
                "--connections" => options.connections = number(&value()?)?,
                "--held" => options.held = number(&value()?)?,
                "--malformed" => options.malformed = number(&value()?)?,
                "--speed" => {
                    options.speed = u32::try_from(number(&value()?)?).map_err(|e| e.to_string())?;
                }
                "--scenario" => options.scenario = PathBuf::from(value()?),
                // What `cargo bench` passes to every bench.
                "--bench" => {}
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(options)
    }
}

fn number(text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("not a number: {text}"))
}

fn main() {
    let options = match Options::from_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    // One thread for the load, one core left for the server: the machine has two.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(soak(&options)) {
        Ok(report) => {
            println!("{}", report.text);
            if !report.failures.is_empty() {
                for failure in &report.failures {
                    eprintln!("soak: FAILED: {failure}");
                }
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(1);
        }
    }
}

async fn soak(options: &Options) -> Result<report::Report, String> {
    // NB: the control plane outlives the proxy in front of it: declared first, dropped last.
    let plane = match options.through {
        Through::Serve => None,
        Through::Proxy => {
            let binaries = Binaries::locate(&root());
            binaries.check().map_err(|e| {
                format!("the real control plane is not built (ci/anchor-build): {e}")
            })?;
            Some(
                ControlPlane::start(&binaries, ControlPlaneOptions::default())
                    .await
                    .map_err(|e| format!("the control plane did not start: {e}"))?,
            )
        }
    };
    let mut served = Served::start(
        &options.scenario,
        options.speed,
        plane.as_ref().map(ControlPlane::kubeconfig_path),
    )?;
    let before = served.now().await?;
    let measured = run::load(&mut served, options).await?;
    // Every connection of the load is closed now; the server has to notice each, end what ran
    // on it, and give back what it held.
    let after = served.settle(&before).await;
    let stopped = served.stop();
    Ok(report::judge(options, &measured, &before, after, &stopped))
}
