//! The soak's verdict and its table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::Options;
use crate::run::Measured;
use crate::target::{Settled, Snapshot, Stopped, Through};

/// The table, and what failed.
pub(crate) struct Report {
    pub(crate) text: String,
    pub(crate) failures: Vec<String>,
}

/// How much the server may grow past its size after warm-up.
const GROWTH: f64 = 1.5;

pub(crate) fn judge(
    options: &Options,
    measured: &Measured,
    before: &Snapshot,
    settled: Result<Settled, String>,
    stopped: &Stopped,
) -> Report {
    let counts = &measured.counts;
    let processed = counts.processed();
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
    let ratio = measured.peak as f64 / measured.warmed as f64;
    if ratio > GROWTH {
        failures.push(format!(
            "peak RSS {} is {ratio:.2}× the {} after warm-up",
            measured.peak, measured.warmed
        ));
    }
    let settled = settled.unwrap_or_else(|e| {
        failures.push(e);
        Settled::default()
    });
    if !settled.back {
        failures.push(format!(
            "{:.0} s after the load it holds more than before: {} descriptors, TCP {:?} (before: {}, TCP {:?}); tasks and watches {:?} (before: {:?})",
            settled.after.as_secs_f64(),
            settled.now.fds,
            settled.now.connections,
            before.fds,
            before.connections,
            settled.now.metrics,
            before.metrics
        ));
    }
    let text = render(options, measured, before, &settled, &stopped.summary);
    Report { text, failures }
}

fn render(
    options: &Options,
    measured: &Measured,
    before: &Snapshot,
    settled: &Settled,
    summary: &str,
) -> String {
    let after = &settled.now;
    let counts = &measured.counts;
    let processed = counts.processed();
    let mut out = String::new();
    let what = match options.through {
        Through::Serve => "harness serve",
        Through::Proxy => "harness proxy (in front of the real control plane) with",
    };
    let _ = writeln!(
        out,
        "soak: {what} {} --speed {}, {} connections, {} held watches, {} malformed senders\n",
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
    let _ = writeln!(out, "| figure | value |\n|---|---|");
    let _ = writeln!(
        out,
        "| well-formed requests answered | {processed} in {:.1} s ({:.0}/s) |",
        measured.elapsed.as_secs_f64(),
        processed as f64 / measured.elapsed.as_secs_f64()
    );
    if let (Some(b), Some(a)) = (before.metrics, after.metrics) {
        let _ = writeln!(
            out,
            "| …counted by the server (`apiserver_request_total`) | {} |",
            a.requests - b.requests
        );
    }
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
    let _ = writeln!(
        out,
        "| server RSS: start / after warm-up / peak after | {:.1} / {:.1} / {:.1} MB ({:.2}× warmed-up) |",
        before.rss as f64 / 1e6,
        measured.warmed as f64 / 1e6,
        measured.peak as f64 / 1e6,
        measured.peak as f64 / measured.warmed as f64
    );
    let _ = writeln!(
        out,
        "| open descriptors, before / after | {} / {} ({:.1} s after the load) |",
        before.fds,
        after.fds,
        settled.after.as_secs_f64()
    );
    match (before.metrics, after.metrics) {
        (Some(b), Some(a)) => {
            let _ = writeln!(
                out,
                "| tokio tasks, before / after | {} / {} |\n| open watches, before / after | {} / {} |",
                b.tasks, a.tasks, b.watches, a.watches
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "| tokio tasks, open watches | not seen: a proxy forwards `/metrics` upstream |"
            );
        }
    }
    let _ = writeln!(out, "\nthe server's own summary:\n{summary}");
    out
}

fn statuses(by: &BTreeMap<u16, u64>) -> String {
    by.iter()
        .map(|(s, n)| format!("{n}× {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}
