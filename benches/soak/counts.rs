//! What the load saw, counted from many tasks at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Answers by HTTP status, and the rest of what happened on the client side.
pub(crate) struct Counts {
    /// Answers to well-formed requests, by status (index = status code).
    statuses: Vec<AtomicU64>,
    /// Answers to malformed requests, by status.
    malformed_statuses: Vec<AtomicU64>,
    /// Malformed requests whose connection closed without an answer.
    pub(crate) malformed_closed: AtomicU64,
    /// Well-formed requests sent that got no answer head within the patience (a hang).
    pub(crate) unanswered: AtomicU64,
    /// Connections opened for well-formed requests.
    pub(crate) connections: AtomicU64,
    /// Watches the load cut mid-stream (dropped the connection).
    pub(crate) watches_cut: AtomicU64,
    /// Watches the server ended (timeout, ERROR event).
    pub(crate) watches_ended: AtomicU64,
    /// Watch events read (lines).
    pub(crate) events: AtomicU64,
}

impl Counts {
    pub(crate) fn new() -> Self {
        let table = || (0..600).map(|_| AtomicU64::new(0)).collect();
        Self {
            statuses: table(),
            malformed_statuses: table(),
            malformed_closed: AtomicU64::new(0),
            unanswered: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            watches_cut: AtomicU64::new(0),
            watches_ended: AtomicU64::new(0),
            events: AtomicU64::new(0),
        }
    }

    pub(crate) fn answered(&self, status: u16) {
        if let Some(n) = self.statuses.get(usize::from(status)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn malformed_answered(&self, status: u16) {
        if let Some(n) = self.malformed_statuses.get(usize::from(status)) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Well-formed requests answered so far.
    pub(crate) fn processed(&self) -> u64 {
        self.statuses
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .sum()
    }

    /// Malformed requests answered so far.
    pub(crate) fn malformed_processed(&self) -> u64 {
        self.malformed_statuses
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .sum()
    }

    pub(crate) fn by_status(&self) -> BTreeMap<u16, u64> {
        table(&self.statuses)
    }

    pub(crate) fn malformed_by_status(&self) -> BTreeMap<u16, u64> {
        table(&self.malformed_statuses)
    }
}

fn table(counts: &[AtomicU64]) -> BTreeMap<u16, u64> {
    counts
        .iter()
        .enumerate()
        .filter_map(|(status, n)| {
            let n = n.load(Ordering::Relaxed);
            (n > 0).then(|| (u16::try_from(status).unwrap_or(u16::MAX), n))
        })
        .collect()
}
