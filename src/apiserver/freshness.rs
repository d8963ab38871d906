//! How a watch cache waits to be fresh enough for a request: a LIST at a resourceVersion, a
//! consistent read, a streaming list (`waitUntilFreshAndBlock` in apiserver
//! `cacher/watch_cache.go`). It waits for up to 3 s; what it does then is the caller's.

use std::time::Duration;

use super::replicas::ReplicaId;
use super::shared::Shared;

/// How long the watch cache waits for a revision it has not reached before giving up
/// (`blockTimeout` in apiserver `cacher/watch_cache.go`).
const CACHE_BLOCK_TIMEOUT: Duration = Duration::from_secs(3);

/// Replica `id`'s revision, after waiting for it to reach `wanted` the way the watch cache
/// does (`waitUntilFreshAndBlock`), for up to [`CACHE_BLOCK_TIMEOUT`]: on time, it has heard
/// a revision once etcd has taken it; lagging, its lag later.
pub(super) async fn wait_for_revision(inner: &Shared, wanted: u64, id: ReplicaId) -> u64 {
    let recorder = &inner.recorder;
    let deadline = recorder.now() + CACHE_BLOCK_TIMEOUT;
    let mut rx = inner.revision.subscribe();
    loop {
        let (current, heard_at) = {
            let state = inner.lock();
            let replica = state.replicas.get(id);
            // None until etcd has taken `wanted`.
            let taken = state.store.taken_when(wanted);
            (state.revision_of(id), taken.map(|at| replica.hears_at(at)))
        };
        if current >= wanted || recorder.now() >= deadline {
            return current;
        }
        match heard_at {
            Some(at) => recorder.sleep_until(at.min(deadline)).await,
            None => {
                let left = deadline.saturating_sub(recorder.now());
                let waited =
                    tokio::time::timeout(recorder.real(left), rx.wait_for(|rv| *rv >= wanted))
                        .await;
                if waited.is_err() {
                    return inner.lock().revision_of(id);
                }
            }
        }
    }
}
