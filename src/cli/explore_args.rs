//! `harness explore`'s arguments, and `harness explore merge`'s.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use crate::explore::{Search, Shard};

/// `harness explore [merge]`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ExploreArgs {
    /// Put shards' findings together.
    #[command(subcommand)]
    pub command: Option<ExploreCommand>,
    /// The scenario whose resource, objects, workload and set-ups are explored (its own faults
    /// are left out), or a directory: every `*.yaml` scenario in it, in name order, with one
    /// summary and findings deduplicated by set-up × mechanism across scenarios.
    #[arg(required = true)]
    pub path: Option<PathBuf>,
    /// Timelines to draw and run, per scenario (with `--shard`, of which this shard runs its
    /// share). Default 200, or no limit with `--for`.
    #[arg(long)]
    pub runs: Option<usize>,
    /// Run timelines for this long (`30s`, `10m`, `1h`), then shrink what was found. Timelines
    /// are numbered, so the summary's count with `--runs` finds the same again. Over a
    /// directory, each scenario gets an equal share.
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub time: Option<Duration>,
    /// Seeds every draw: the same seed finds the same, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run only every N-th timeline from K (`K/N`, N dividing 24), so that N machines share
    /// one exploration; `harness explore merge` puts their `--out` directories together.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// What may be drawn (YAML: kinds, min_faults, max_faults, start, end, min_window,
    /// max_window). Default: every fault kind, 1 to 3 a timeline, acting from 30s until the
    /// scenario's duration less its deadline, windows of 5s to 3m.
    #[arg(long, value_name = "FILE")]
    pub budget: Option<PathBuf>,
    /// Write each finding there as `<scenario>-<set-up>-<mechanism>.yaml`, and
    /// `findings.json`. The directory is created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write each finding as a Rust test for kube-rs, `<scenario>_<set-up>_<mechanism>.rs`:
    /// the set-up as kube code run against the shrunk scenario, `#[ignore]`d until fixed.
    /// The directory is created if missing.
    #[arg(long, value_name = "DIR")]
    pub emit_tests: Option<PathBuf>,
    /// Timelines run at once; default every core.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Report each finding as first drawn, without shrinking it.
    #[arg(long)]
    pub no_shrink: bool,
    /// How timelines are drawn: `guided` (swarm subsets, change-then-trigger pairs, server
    /// settings, coverage feedback) or `uniform` (the search before issue 25). Default: the
    /// budget file's `search:`, else guided.
    #[arg(long, value_enum)]
    pub search: Option<SearchArg>,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = ExploreFormat::Table)]
    pub format: ExploreFormat,
    /// Wall-clock seconds one set-up may take before it is reported as hung.
    #[arg(long, default_value_t = 60)]
    pub wall_timeout: u64,
}

/// `harness explore`'s own subcommands.
#[derive(Debug, Subcommand)]
pub enum ExploreCommand {
    /// Combine the `--out` directories of every shard of one exploration (`--shard 0/N` to
    /// `--shard N-1/N`) into the findings one run over every timeline would have written.
    Merge {
        /// The shards' `--out` directories, each holding a `findings.json`.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Write the merged `findings.json` and each finding's file there.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Summary format.
        #[arg(long, value_enum, default_value_t = ExploreFormat::Table)]
        format: ExploreFormat,
    },
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::span::parse(text).and_then(|d| {
        if d.is_zero() {
            Err("must be longer than 0s".into())
        } else {
            Ok(d)
        }
    })
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

impl From<SearchArg> for Search {
    fn from(search: SearchArg) -> Self {
        match search {
            SearchArg::Uniform => Self::Uniform,
            SearchArg::Guided => Self::Guided,
        }
    }
}
