//! The subject: a real kube-runtime watcher built from a set-up, consumed the way the set-up
//! says, recording into the trace every event it emitted, every error and how it ended.
//!
//! Entry points: [`subject_stream`] builds the stream; [`drive`] consumes it. The subject knows
//! nothing of the server: it only holds a kube `Client`.

mod consumer;
mod kube_backoff;
mod record;
mod sampler;
mod stream;

pub use consumer::drive;
pub use kube_backoff::{BackoffParameters, KUBE_DEFAULT_BACKOFF};
pub use record::{error as record_error, event as record_event, key_of, resource_version};
pub use sampler::{STORE_TICK, StoreSampler};
pub use stream::{
    Subject, SubjectStream, WatchItem, WatchStream, api_resource, seeded_default_backoff,
    subject_stream, watcher_config,
};
