//! The load itself: the well-formed workers until their budget is spent, the held watches and
//! the malformed senders beside them, and the server's memory sampled throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::Options;
use crate::counts::Counts;
use crate::target::Served;
use crate::{malformed, mix};

/// Memory is sampled this often.
const SAMPLE: Duration = Duration::from_millis(200);

/// What the load measured.
pub(crate) struct Measured {
    pub(crate) counts: Arc<Counts>,
    /// From the first request to the last answer of the budget.
    pub(crate) elapsed: Duration,
    /// The server's RSS after warm-up (the first tenth of the requests).
    pub(crate) warmed: u64,
    /// Its peak RSS after warm-up.
    pub(crate) peak: u64,
}

/// Runs the load against `served` until `options.requests` are spent.
pub(crate) async fn load(served: &mut Served, options: &Options) -> Result<Measured, String> {
    let addr = served.addr;
    let counts = Arc::new(Counts::new());
    let budget = Arc::new(AtomicI64::new(
        i64::try_from(options.requests).unwrap_or(i64::MAX),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let pace = options
        .rate
        .map(|rate| Duration::from_secs_f64(options.connections as f64 / rate.max(1) as f64));
    let workers: Vec<_> = (0..options.connections)
        .map(|i| {
            let (budget, counts) = (Arc::clone(&budget), Arc::clone(&counts));
            tokio::spawn(mix::worker(addr, i, pace, budget, counts))
        })
        .collect();
    let held: Vec<_> = (0..options.held)
        .map(|_| tokio::spawn(mix::held(addr, Arc::clone(&counts))))
        .collect();
    let malformed: Vec<_> = (0..options.malformed)
        .map(|i| {
            let (stop, counts) = (Arc::clone(&stop), Arc::clone(&counts));
            tokio::spawn(malformed::worker(addr, 1_000 + i, stop, counts))
        })
        .collect();

    // Warm-up is the first tenth of the requests: connections, buffers and the history the
    // scenario writes settle; the peak after it is held against the size at its end.
    let warm_up = options.requests / 10;
    let mut warmed: Option<u64> = None;
    let mut peak = 0;
    let mut last_said = Instant::now();
    while workers.iter().any(|w| !w.is_finished()) {
        tokio::time::sleep(SAMPLE).await;
        if !served.running() {
            return Err(format!(
                "the server exited after {} requests (its timeline ended? lower --requests or --speed); it said:\n{}",
                counts.processed(),
                served.said()
            ));
        }
        let rss = served.rss().unwrap_or(0);
        match warmed {
            None if counts.processed() >= warm_up => warmed = Some(rss),
            Some(_) => peak = peak.max(rss),
            None => {}
        }
        if last_said.elapsed() > Duration::from_secs(5) {
            last_said = Instant::now();
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
    let warmed = warmed.unwrap_or_else(|| served.rss().unwrap_or(0));
    Ok(Measured {
        counts,
        elapsed,
        warmed,
        peak: peak.max(warmed),
    })
}
