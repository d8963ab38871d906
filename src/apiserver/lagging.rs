//! What makes a lagging replica hear a change on time when no request comes to make it: a task
//! that sleeps until the next change is due and takes the state's lock, which lets every
//! replica hear what it is due to (`Shared::lock`).

use std::sync::{Arc, Weak};

use tokio::sync::Notify;

use super::shared::Shared;

/// Runs while the server lives: each change a lagging replica is to hear later is heard at its
/// time. `wake` is notified when such a change is committed, and when the server goes.
pub(super) async fn hear_when_due(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let (due, recorder) = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let due = shared.lock().replicas.next_due();
            (due, shared.recorder.clone())
        };
        match due {
            Some(at) => {
                tokio::select! {
                    () = recorder.sleep_until(at) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}
