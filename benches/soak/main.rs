//! The soak: `harness serve` under a million well-formed requests of every verb it serves,
//! with malformed ones on connections of their own and watches held open the whole time,
//! while the scenario's faults play. It reports requests processed per second, the answers by
//! status, the server's peak resident memory against its size after warm-up, and its open file
//! descriptors, tokio tasks and open watches before the load and once it stops; it fails when
//! a request went unanswered, the server panicked, memory grew past 1.5× the warmed-up size, or
//! anything it held for the load was not given back.
//!
//! Run with `cargo bench --bench soak` (a million requests); `-- --requests N`,
//! `--connections N`, `--held N`, `--malformed N`, `--speed N`, `--scenario FILE` change it.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench's report"
)]

mod counts;
mod malformed;
mod mix;
mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use counts::Counts;
use target::{Metrics, Served};

/// What to run.
struct Options {
    requests: u64,
    connections: u64,
    held: u64,
    malformed: u64,
    speed: u32,
    scenario: PathBuf,
}

impl Options {
    fn from_args() -> Result<Self, String> {
        let mut options = Self {
            requests: 1_000_000,
            connections: 64,
            held: 8,
            malformed: 2,
            // forced-410's 10 minutes in 200 s: its expire_watches plays 100 s in, and a million
            // requests take about 105 s here.
            speed: 3,
            scenario: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scenarios/forced-410.yaml"
            )),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--requests" => options.requests = number(&value()?)?,
                "--connections" => options.connections = number(&value()?)?,
                "--held" => options.held = number(&value()?)?,
                "--malformed" => options.malformed = number(&value()?)?,
                "--speed" => {
                    options.speed = u32::try_from(number(&value()?)?).map_err(|e| e.to_string())?
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

struct Report {
    text: String,
    failures: Vec<String>,
}

/// Memory is sampled this often.
const SAMPLE: Duration = Duration::from_millis(200);

async fn soak(options: &Options) -> Result<Report, String> {
    let mut served = Served::start(&options.scenario, options.speed)?;
    let addr = served.addr;
    let before = served.metrics().await?;
    let fds_before = served.fds().ok_or("no /proc for the server")?;
    let rss_start = served.rss().ok_or("no /proc for the server")?;
    let counts = Arc::new(Counts::new());
    let budget = Arc::new(AtomicI64::new(
        i64::try_from(options.requests).unwrap_or(i64::MAX),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let workers: Vec<_> = (0..options.connections)
        .map(|i| {
            tokio::spawn(mix::worker(
                addr,
                i,
                Arc::clone(&budget),
                Arc::clone(&counts),
            ))
        })
        .collect();
    let held: Vec<_> = (0..options.held)
        .map(|_| tokio::spawn(mix::held(addr, Arc::clone(&counts))))
        .collect();
    let malformed: Vec<_> = (0..options.malformed)
        .map(|i| {
            tokio::spawn(malformed::worker(
                addr,
                1_000 + i,
                Arc::clone(&stop),
                Arc::clone(&counts),
            ))
        })
        .collect();

    // Warm-up is the first tenth of the requests: connections, buffers and the history the
    // scenario writes settle; the peak after it is held against the size at its end.
    let warm_up = options.requests / 10;
    let mut warmed: Option<u64> = None;
    let peak = AtomicU64::new(0);
    let mut last_report = Instant::now();
    while workers.iter().any(|w| !w.is_finished()) {
        tokio::time::sleep(SAMPLE).await;
        if !served.running() {
            return Err(format!(
                "harness serve exited after {} requests (its timeline ended? lower --requests or --speed)",
                counts.processed()
            ));
        }
        let rss = served.rss().unwrap_or(0);
        match warmed {
            None if counts.processed() >= warm_up => warmed = Some(rss),
            Some(_) => {
                peak.fetch_max(rss, Ordering::Relaxed);
            }
            None => {}
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "soak: {} requests answered, {:.0}/s, server RSS {:.1} MB",
                counts.processed(),
                counts.processed() as f64 / started.elapsed().as_secs_f64(),
                rss as f64 / 1e6
            );
        }
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in held {
        task.abort();
    }
    for task in malformed {
        let _ = task.await;
    }
    // Every connection of the load is closed now; the server has to notice each, end what
    // ran on it, and give back what it held.
    let settled = settle(&served, &before, fds_before).await;
    let during = served.metrics().await?;
    let stopped = served.stop();

    let processed = counts.processed();
    let warmed = warmed.unwrap_or(rss_start);
    let peak = peak.load(Ordering::Relaxed).max(warmed);
    let mut failures = Vec::new();
    if processed < options.requests {
        failures.push(format!(
            "{processed} of {} requests answered",
            options.requests
        ));
    }
    let unanswered = counts.unanswered.load(Ordering::Relaxed);
    if unanswered > 0 {
        failures.push(format!("{unanswered} requests never answered"));
    }
    if stopped.stderr.contains("panicked") {
        failures.push(format!("the server panicked:\n{}", stopped.stderr));
    }
    if !stopped.clean_exit {
        failures.push("the server did not exit cleanly on Ctrl-C".into());
    }
    let ratio = peak as f64 / warmed as f64;
    if ratio > 1.5 {
        failures.push(format!(
            "peak RSS {peak} is {ratio:.2}× the {warmed} after warm-up"
        ));
    }
    if let Err(e) = &settled {
        failures.push(e.clone());
    }
    let after = settled.unwrap_or_default();
    let text = render(&RenderArgs {
        options,
        counts: &counts,
        elapsed,
        rss: (rss_start, warmed, peak),
        before: (before, fds_before),
        after,
        server_requests: during.requests - before.requests,
        summary: &stopped.summary,
    });
    Ok(Report { text, failures })
}

/// Waits (up to 10 s) for the server's descriptors, tasks and watches to be back where they
/// were before the load; what it found last.
async fn settle(
    served: &Served,
    before: &Metrics,
    fds_before: usize,
) -> Result<(Metrics, usize), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = served.metrics().await?;
        // NB: the /metrics connection itself is one descriptor more while it is open.
        let fds = served.fds().unwrap_or(usize::MAX).saturating_sub(1);
        let back =
            now.watches <= before.watches && now.tasks <= before.tasks + 1 && fds <= fds_before;
        if back {
            return Ok((now, fds));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "10 s after the load: {} watches open (before: {}), {} tasks (before: {}), {fds} descriptors (before: {fds_before})",
                now.watches, before.watches, now.tasks, before.tasks
            ));
        }
        tokio::time::sleep(SAMPLE).await;
    }
}

struct RenderArgs<'a> {
    options: &'a Options,
    counts: &'a Counts,
    elapsed: Duration,
    /// At start, after warm-up, peak after warm-up.
    rss: (u64, u64, u64),
    before: (Metrics, usize),
    after: (Metrics, usize),
    server_requests: u64,
    summary: &'a str,
}

fn render(args: &RenderArgs<'_>) -> String {
    use std::fmt::Write as _;
    let RenderArgs {
        options,
        counts,
        elapsed,
        rss,
        before,
        after,
        server_requests,
        summary,
    } = args;
    let processed = counts.processed();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "soak: harness serve {} --speed {}, {} connections, {} held watches, {} malformed senders",
        options
            .scenario
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
        options.speed,
        options.connections,
        options.held,
        options.malformed
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| figure | value |\n|---|---|");
    let _ = writeln!(
        out,
        "| well-formed requests answered | {processed} in {:.1} s ({:.0}/s) |",
        elapsed.as_secs_f64(),
        processed as f64 / elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| …counted by the server (`apiserver_request_total`) | {server_requests} |"
    );
    let _ = writeln!(
        out,
        "| answers by status | {} |",
        statuses(&counts.by_status())
    );
    let _ = writeln!(
        out,
        "| malformed requests | {} answered ({}), {} closed without an answer |",
        counts.malformed_processed(),
        statuses(&counts.malformed_by_status()),
        counts.malformed_closed.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "| connections opened | {} |\n| watch events read | {} |\n| watches ended by the server / cut by the load | {} / {} |",
        counts.connections.load(Ordering::Relaxed),
        counts.events.load(Ordering::Relaxed),
        counts.watches_ended.load(Ordering::Relaxed),
        counts.watches_cut.load(Ordering::Relaxed)
    );
    let (start, warmed, peak) = rss;
    let _ = writeln!(
        out,
        "| server RSS: start / after warm-up / peak after | {:.1} / {:.1} / {:.1} MB ({:.2}× warmed-up) |",
        *start as f64 / 1e6,
        *warmed as f64 / 1e6,
        *peak as f64 / 1e6,
        *peak as f64 / *warmed as f64
    );
    let _ = writeln!(
        out,
        "| open descriptors, before / after | {} / {} |\n| tokio tasks, before / after | {} / {} |\n| open watches, before / after | {} / {} |",
        before.1, after.1, before.0.tasks, after.0.tasks, before.0.watches, after.0.watches
    );
    let _ = writeln!(out, "\nthe server's own summary:\n{summary}");
    out
}

fn statuses(by: &std::collections::BTreeMap<u16, u64>) -> String {
    by.iter()
        .map(|(s, n)| format!("{n}× {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}
