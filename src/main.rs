//! The `harness` binary: parse arguments, run, exit with the mapped code.

use std::process::ExitCode;

use clap::Parser;
use kube_watch_harness::cli::{self, Args, HARNESS_ERROR};

// Why jemalloc: Cargo.toml, beside the dependency.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // NB: clap's own exit code for bad flags is 2 too; help and version exit 0.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(HARNESS_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    cli::run(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}
