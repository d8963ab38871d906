//! The consumer patterns under test. What the watcher emits is recorded upstream (see
//! [`super::subject_stream`]); a consumer only decides what an error does to it.

use std::future::Future;

use futures::{StreamExt, TryStreamExt};
use kube::api::DynamicObject;
use kube::runtime::reflector::Store;

use super::record;
use super::stream::SubjectStream;
use crate::scenario::Consumer;
use crate::trace::{Recorder, TraceKind};

/// Consumes `stream` the way `consumer` says until `until` resolves, and records how it
/// ended; a reflector's `store` is recorded at the end.
///
/// A panic inside the consumer is not caught here: the caller spawns this and turns a
/// panicked task into a `StreamEnded` event.
pub async fn drive(
    consumer: Consumer,
    stream: SubjectStream,
    store: Option<Store<DynamicObject>>,
    recorder: Recorder,
    until: impl Future<Output = ()>,
) {
    let mut until = std::pin::pin!(until);
    tokio::select! {
        biased;
        () = &mut until => {}
        cause = consume(consumer, stream) => {
            recorder.record(TraceKind::StreamEnded { cause });
            until.await;
        }
    }
    if let Some(store) = store {
        let mut objects: Vec<(String, u64)> = store
            .state()
            .iter()
            .map(|o| {
                (
                    record::key_of(o.as_ref()),
                    record::resource_version(o.as_ref()),
                )
            })
            .collect();
        objects.sort();
        recorder.record(TraceKind::Store { objects });
    }
}

/// Reads to the end; returns why it stopped.
async fn consume(consumer: Consumer, mut stream: SubjectStream) -> String {
    match consumer {
        // Errors skipped, as a controller's `for_each` does.
        Consumer::Reflector | Consumer::ContinueOnError => {
            while stream.next().await.is_some() {}
            "the watcher stream returned None".into()
        }
        // `while let Some(item) = stream.try_next().await? { .. }`.
        Consumer::StopOnError => loop {
            match stream.try_next().await {
                Ok(Some(())) => {}
                Ok(None) => return "the watcher stream returned None".into(),
                Err(error) => {
                    return format!(
                        "the consumer returned the watcher's error ({})",
                        record::error(&error).message
                    );
                }
            }
        },
    }
}
