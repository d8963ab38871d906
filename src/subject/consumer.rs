//! The consumer patterns under test. What the watcher emits is recorded upstream (see
//! [`super::subject_stream`]); a consumer only decides what an error does to it.

use std::future::Future;

use futures::{StreamExt, TryStreamExt};

use super::record;
use super::stream::{Subject, SubjectStream};
use crate::scenario::Consumer;
use crate::trace::{ConsumerStop, Recorder, TraceKind};

/// Consumes the subject's stream the way `consumer` says until `until` resolves, records how
/// it ended, then runs the subject's `at_end`.
///
/// A panic inside the consumer is not caught here: the caller spawns this and turns a
/// panicked task into a `StreamEnded` event.
pub async fn drive(
    consumer: Consumer,
    subject: Subject,
    recorder: Recorder,
    until: impl Future<Output = ()>,
) {
    let Subject {
        stream,
        at_end,
        ends,
    } = subject;
    let mut until = std::pin::pin!(until);
    tokio::select! {
        biased;
        () = &mut until => {}
        cause = consume(consumer, stream, ends) => {
            recorder.record(TraceKind::StreamEnded { cause });
            until.await;
        }
    }
    if let Some(at_end) = at_end {
        at_end();
    }
}

/// Reads to the end; returns why it stopped. `ends` says what its end means.
async fn consume(
    consumer: Consumer,
    mut stream: SubjectStream,
    ends: ConsumerStop,
) -> ConsumerStop {
    match consumer {
        // Errors skipped, as a controller's `for_each` does.
        Consumer::Reflector | Consumer::ContinueOnError => {
            while stream.next().await.is_some() {}
            ends
        }
        // `while let Some(item) = stream.try_next().await? { .. }`.
        Consumer::StopOnError => loop {
            match stream.try_next().await {
                Ok(Some(())) => {}
                Ok(None) => return ends,
                Err(error) => return ConsumerStop::ReturnedError(record::error(&error)),
            }
        },
    }
}
