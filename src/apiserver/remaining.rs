//! What paginated LISTs have left to send, so that `remainingItemCount` is counted once per
//! LIST rather than once per page.

use std::collections::HashMap;

/// How many objects remain after a page, by where the page ended: `(revision, namespace, last
/// key)`. The state at a past revision never changes, so the next page's count is this one
/// minus its length, and a paginated LIST costs the objects it returns rather than the square
/// of them. Only a restart, which reuses revisions, invalidates it.
#[derive(Debug, Default)]
pub(super) struct RemainingCounts(HashMap<(u64, Option<String>, String), u64>);

impl RemainingCounts {
    /// Counts kept at most: enough for every client paginating at once; past it, forget all.
    const CAPACITY: usize = 4096;

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }

    pub(super) fn get(&self, revision: u64, namespace: Option<&str>, after: &str) -> Option<u64> {
        self.0
            .get(&(revision, namespace.map(str::to_owned), after.to_owned()))
            .copied()
    }

    pub(super) fn keep(
        &mut self,
        revision: u64,
        namespace: Option<&str>,
        last: String,
        remaining: u64,
    ) {
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        self.0
            .insert((revision, namespace.map(str::to_owned), last), remaining);
    }
}
