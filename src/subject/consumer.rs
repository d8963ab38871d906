//! The consumer patterns under test, each recording everything it reads into the trace.

use std::future::Future;

use futures::{StreamExt, TryStreamExt};
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, store::Writer};

use super::record;
use super::stream::{WatchItem, WatchStream, api_resource};
use crate::scenario::{Consumer, ResourceSpec};
use crate::trace::{Recorder, TraceKind};

/// Consumes `stream` the way `consumer` says until `until` resolves, recording every event,
/// every error and the end of the stream; a reflector also records its store at the end.
///
/// A panic inside the consumer is not caught here: the caller spawns this and turns a
/// panicked task into a `StreamEnded` event.
pub async fn drive(
    consumer: Consumer,
    stream: WatchStream,
    resource: &ResourceSpec,
    recorder: Recorder,
    until: impl Future<Output = ()>,
) {
    let mut until = std::pin::pin!(until);
    match consumer {
        Consumer::Reflector => {
            let writer: Writer<DynamicObject> = Writer::new(api_resource(resource));
            let reader = writer.as_reader();
            let stream = reflector::reflector(writer, stream);
            tokio::select! {
                biased;
                () = &mut until => {}
                () = continue_on_error(stream.boxed(), &recorder) => {
                    recorder.record(TraceKind::StreamEnded { cause: "the watcher stream returned None".into() });
                    until.await;
                }
            }
            let mut objects: Vec<(String, u64)> = reader
                .state()
                .iter()
                .map(|o| (record::key_of(o), record::resource_version(o)))
                .collect();
            objects.sort();
            recorder.record(TraceKind::Store { objects });
        }
        Consumer::ContinueOnError => {
            tokio::select! {
                biased;
                () = &mut until => {}
                () = continue_on_error(stream, &recorder) => {
                    recorder.record(TraceKind::StreamEnded { cause: "the watcher stream returned None".into() });
                    until.await;
                }
            }
        }
        Consumer::StopOnError => {
            tokio::select! {
                biased;
                () = &mut until => {}
                cause = stop_on_error(stream, &recorder) => {
                    recorder.record(TraceKind::StreamEnded { cause });
                    until.await;
                }
            }
        }
    }
}

/// Every item read; errors recorded and skipped, as a controller's `for_each` does.
async fn continue_on_error(
    mut stream: futures::stream::BoxStream<'static, WatchItem>,
    recorder: &Recorder,
) {
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => recorder.record(record::event(&event)),
            Err(error) => recorder.record(TraceKind::WatcherError(record::error(&error))),
        }
    }
}

/// `while let Some(event) = stream.try_next().await? { .. }`: the first error ends the loop.
/// Returns why it stopped.
async fn stop_on_error(mut stream: WatchStream, recorder: &Recorder) -> String {
    loop {
        match stream.try_next().await {
            Ok(Some(event)) => recorder.record(record::event(&event)),
            Ok(None) => return "the watcher stream returned None".into(),
            Err(error) => {
                let fault = record::error(&error);
                let cause = format!(
                    "the consumer returned the watcher's error ({})",
                    fault.message
                );
                recorder.record(TraceKind::WatcherError(fault));
                return cause;
            }
        }
    }
}
