//! Command-line arguments, as clap parses them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A chaos and diagnostic test harness for Kubernetes watch clients.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against their watcher set-ups in virtual time and report the verdicts.
    Run {
        /// Scenario files, or directories of `*.yaml` scenarios.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Wall-clock seconds one set-up may take before it is reported as hung.
        #[arg(long, default_value_t = 60)]
        wall_timeout: u64,
        /// Also write every report there: `report.json`, `junit.xml`, and a timeline
        /// `<scenario>.svg` per scenario. The directory is created if missing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Run only the set-ups of this name (each scenario must have one).
        #[arg(long, value_name = "NAME")]
        setup: Option<String>,
    },
    /// Explain why a set-up did (not) recover: the mechanism, its causal chain, and the slice of
    /// the trace around the cause and the first divergence, in virtual time.
    Explain {
        /// The scenario file.
        path: PathBuf,
        /// The set-up; default: every one that did not do what the scenario expects, or every
        /// failed one.
        #[arg(long, value_name = "NAME")]
        setup: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        /// Show the whole trace, not only the slice around the cause.
        #[arg(long)]
        whole_trace: bool,
        /// Wall-clock seconds the set-up may take before it is reported as hung.
        #[arg(long, default_value_t = 60)]
        wall_timeout: u64,
    },
    /// Find failures nobody wrote a scenario for: run the scenario's workload and set-ups under
    /// random fault timelines, shrink each way a set-up failed to the smallest timeline that
    /// still shows it, and write each as a scenario file. Exits 1 when something failed.
    Explore {
        /// The scenario whose resource, objects, workload and set-ups are explored; its own
        /// faults are left out.
        path: PathBuf,
        /// Timelines to draw and run.
        #[arg(long, default_value_t = 200)]
        runs: usize,
        /// Seeds every draw: the same seed finds the same, byte for byte.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// What may be drawn (YAML: kinds, min_faults, max_faults, start, end, min_window,
        /// max_window, search). Default: every fault kind, 1 to 3 a timeline, acting from 30s until the
        /// scenario's duration less its deadline, windows of 5s to 3m.
        #[arg(long, value_name = "FILE")]
        budget: Option<PathBuf>,
        /// Write each finding there as `<scenario>-<set-up>-<mechanism>.yaml`, and
        /// `findings.json`. The directory is created if missing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Timelines run at once; default every core.
        #[arg(long)]
        jobs: Option<usize>,
        /// Report each finding as first drawn, without shrinking it.
        #[arg(long)]
        no_shrink: bool,
        /// How timelines are drawn: `guided` (swarm subsets, change-then-trigger pairs, server
        /// settings, coverage feedback) or `uniform` (the search before issue 25). Default: the
        /// budget file's `search:`, else guided.
        #[arg(long, value_enum)]
        search: Option<SearchArg>,
        /// Summary format.
        #[arg(long, value_enum, default_value_t = ExploreFormat::Table)]
        format: ExploreFormat,
        /// Wall-clock seconds one set-up may take before it is reported as hung.
        #[arg(long, default_value_t = 60)]
        wall_timeout: u64,
    },
    /// Run any client against a scenario and judge it: serve the scenario on loopback, run
    /// CMD with KUBECONFIG pointing at it, play the timeline, stop CMD at the end, and judge
    /// each client (user agent) from what the server saw, and from the cache it wrote to
    /// $KWH_VIEW_FILE if it wrote one (JSON lines: {"key":"ns/name","resourceVersion":"N"}).
    Exec {
        /// The scenario file.
        path: PathBuf,
        /// Play the timeline this many times faster than real time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        speed: u32,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Hold the client to this set-up's expectation in the scenario's `expect` block;
        /// default: it must recover.
        #[arg(long)]
        setup: Option<String>,
        /// Seconds the command has to exit after SIGTERM before it is killed.
        #[arg(long, default_value_t = 5)]
        grace: u64,
        /// Run the command through `harness proxy` in front of the real apiserver this
        /// kubeconfig names, instead of against the simulation.
        #[arg(long, value_name = "KUBECONFIG")]
        upstream: Option<PathBuf>,
        /// The upstream kubeconfig's context; default its current context.
        #[arg(long, requires = "upstream")]
        context: Option<String>,
        /// The upstream's etcd client URL, so that `compact` faults are done there for real.
        #[arg(long, value_name = "URL", requires = "upstream")]
        etcd: Option<String>,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Serve a scenario on a real TCP port for any client (kubectl, client-go, ...), playing its
    /// timeline on the wall clock, until the timeline ends or Ctrl-C.
    Serve {
        /// The scenario file.
        path: PathBuf,
        /// Address to listen on. Loopback unless you say otherwise: the server has no auth.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Where to write the kubeconfig for clients. Default: a file in the temporary
        /// directory named after the port, removed on exit.
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// Play the timeline this many times faster than real time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        speed: u32,
    },
    /// Play a scenario's faults on a real apiserver's traffic: a proxy on loopback that
    /// forwards every request to the apiserver KUBECONFIG names, as its user, writes the
    /// scenario's workload there in namespaces of its own (deleted at the end), and cuts,
    /// stalls, delays or answers requests and watch lines on the scenario's timeline. Prints a
    /// kubeconfig for clients; runs until the timeline ends or Ctrl-C.
    Proxy {
        /// The scenario file.
        path: PathBuf,
        /// The real apiserver's kubeconfig.
        #[arg(long, value_name = "KUBECONFIG")]
        upstream: PathBuf,
        /// Its context; default its current context.
        #[arg(long)]
        context: Option<String>,
        /// The upstream's etcd client URL, so that `compact` faults are done there for real.
        #[arg(long, value_name = "URL")]
        etcd: Option<String>,
        /// Address to listen on. Loopback unless you say otherwise: anyone who connects acts
        /// as the kubeconfig's user.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Where to write the kubeconfig for clients. Default: a file in the temporary
        /// directory named after the port, removed on exit.
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// Play the timeline this many times faster than real time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        speed: u32,
    },
    /// Show the scenario catalogue: what each scenario models, its faults and set-ups.
    List {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Print a JSON Schema: of scenario files (for editors; `scenario.schema.json`) or of the
    /// JSON report (`report.schema.json`).
    Schema {
        /// Which document.
        #[arg(value_enum, default_value_t = SchemaOf::Scenario)]
        of: SchemaOf,
    },
    /// Validate scenario files without running them.
    Check {
        /// Scenario files, or directories of `*.yaml` scenarios.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// The documents with a JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaOf {
    /// Scenario files.
    Scenario,
    /// The JSON report.
    Report,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for terminals.
    Table,
    /// JSON with a versioned schema (`docs/report.schema.json`).
    Json,
    /// JUnit XML for CI.
    Junit,
}

/// `harness explore` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExploreFormat {
    /// A table for terminals.
    Table,
    /// One JSON document, as `findings.json`.
    Json,
}

/// `harness explore --search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    /// Every fault drawn alike from the budget's kinds.
    Uniform,
    /// Swarm subsets, pairs, server settings, coverage feedback.
    Guided,
}

/// `harness explain` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// For a terminal.
    Text,
    /// One JSON document.
    Json,
}
