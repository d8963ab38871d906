//! The run's clock: a [`Recorder`] stamps events with virtual time since the start of the run
//! and appends them to one trace. It must be created inside the run's (paused) tokio runtime.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::event::{Trace, TraceEvent, TraceKind};

/// Where a simulated run's virtual time zero falls on the wall: 2026-01-01T00:00:00Z.
pub const SIMULATED_EPOCH: jiff::Timestamp = jiff::Timestamp::constant(1_767_225_600, 0);

/// Appends events stamped with virtual time, and is the run's clock. Cheap to clone; clones
/// share one trace.
///
/// Virtual time is tokio time multiplied by `speed`: 1 in simulated mode (where tokio's clock is
/// paused and jumps), N in a live server sped up N× (where tokio's clock is the wall clock).
/// Everything on the server that waits converts through [`Recorder::instant`], so both modes
/// share one notion of "when".
#[derive(Debug, Clone)]
pub struct Recorder {
    start: tokio::time::Instant,
    epoch: jiff::Timestamp,
    speed: u32,
    events: Arc<Mutex<Log>>,
}

/// Where recorded events go: kept for the verdict, or folded into a summary as they come, so
/// that a server which runs for hours (`harness serve`, `harness proxy`) holds no more for a
/// million requests than for one; a folding log still keeps the kinds of event its server reads
/// back (the proxy's writes, for `compact` with `retain`).
enum Log {
    Kept(Trace),
    Folded {
        kept: Trace,
        keep: fn(&TraceKind) -> bool,
        fold: Box<dyn FnMut(&TraceEvent) + Send>,
    },
}

impl Default for Log {
    fn default() -> Self {
        Self::Kept(Trace::new())
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kept(trace) => write!(f, "Kept({} events)", trace.len()),
            Self::Folded { kept, .. } => write!(f, "Folded(kept {} events)", kept.len()),
        }
    }
}

impl Log {
    fn push(&mut self, event: TraceEvent) {
        match self {
            Self::Kept(trace) => trace.push(event),
            Self::Folded { kept, keep, fold } => {
                fold(&event);
                if keep(&event.kind) {
                    kept.push(event);
                }
            }
        }
    }
}

impl Recorder {
    /// A simulated run's recorder: time zero is now, at tokio's speed, and on the wall it is
    /// [`SIMULATED_EPOCH`], so timestamps are the same in every run. Must be called inside the
    /// run's tokio runtime.
    #[must_use]
    pub fn start() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            epoch: SIMULATED_EPOCH,
            speed: 1,
            events: Arc::default(),
        }
    }

    /// A live run's recorder: time zero is now on the wall clock, and virtual time runs
    /// `speed` times faster than it (0 counts as 1). Must be called inside the run's tokio
    /// runtime.
    #[must_use]
    pub fn start_live(speed: u32) -> Self {
        Self {
            start: tokio::time::Instant::now(),
            epoch: jiff::Timestamp::now(),
            speed: speed.max(1),
            events: Arc::default(),
        }
    }

    /// A live run's recorder, as [`Recorder::start_live`], that keeps only the events `keep`
    /// says to: each event is handed to `fold` as it is recorded, and [`Recorder::snapshot`]
    /// holds only those kept.
    #[must_use]
    pub fn start_live_folding(
        speed: u32,
        keep: fn(&TraceKind) -> bool,
        fold: impl FnMut(&TraceEvent) + Send + 'static,
    ) -> Self {
        Self {
            events: Arc::new(Mutex::new(Log::Folded {
                kept: Trace::new(),
                keep,
                fold: Box::new(fold),
            })),
            ..Self::start_live(speed)
        }
    }

    /// Virtual time zero on the wall (for `creationTimestamp`s).
    #[must_use]
    pub fn epoch(&self) -> jiff::Timestamp {
        self.epoch
    }

    /// How many virtual seconds pass per second of tokio time.
    #[must_use]
    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// Virtual time since the start.
    #[must_use]
    pub fn now(&self) -> Duration {
        tokio::time::Instant::now().duration_since(self.start) * self.speed
    }

    /// The tokio instant at which virtual time `at` is reached.
    #[must_use]
    pub fn instant(&self, at: Duration) -> tokio::time::Instant {
        self.start + at / self.speed
    }

    /// Sleeps until virtual time `at`.
    pub async fn sleep_until(&self, at: Duration) {
        tokio::time::sleep_until(self.instant(at)).await;
    }

    /// Sleeps until virtual time `at`; forever when there is none.
    pub async fn sleep_until_some(&self, at: Option<Duration>) {
        match at {
            Some(at) => self.sleep_until(at).await,
            None => futures::future::pending().await,
        }
    }

    /// The tokio duration a virtual span takes.
    #[must_use]
    pub fn real(&self, span: Duration) -> Duration {
        span / self.speed
    }

    /// Records `kind` at the current virtual time.
    pub fn record(&self, kind: TraceKind) {
        let event = TraceEvent {
            at: self.now(),
            kind,
        };
        self.events
            .lock()
            .expect("trace lock is never poisoned: pushes cannot panic")
            .push(event);
    }

    /// Records `kind` at virtual time `at`, for what is learnt later of an earlier moment (the
    /// truth a proxy settles at the end of a run).
    pub fn record_at(&self, at: Duration, kind: TraceKind) {
        self.events
            .lock()
            .expect("trace lock is never poisoned: pushes cannot panic")
            .push(TraceEvent { at, kind });
    }

    /// A copy of everything recorded so far; for a recorder that folds, of what it kept.
    #[must_use]
    pub fn snapshot(&self) -> Trace {
        match &*self.events.lock().expect("trace lock is never poisoned") {
            Log::Kept(trace) | Log::Folded { kept: trace, .. } => trace.clone(),
        }
    }

    /// The events recorded so far, taken out: what [`snapshot`](Self::snapshot) would return,
    /// without copying a long trace, for its last reader. The recorder keeps recording from
    /// an empty trace.
    #[must_use]
    pub fn take(&self) -> Trace {
        match &mut *self.events.lock().expect("trace lock is never poisoned") {
            Log::Kept(trace) | Log::Folded { kept: trace, .. } => std::mem::take(trace),
        }
    }
}
