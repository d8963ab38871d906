//! The consumer patterns under test. What the watcher emits is recorded upstream (see
//! [`super::subject_stream`]); a consumer only decides what an error does to it.

use std::future::Future;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};

use super::record;
use super::stream::{Subject, SubjectStream};
use crate::scenario::Consumer;
use crate::trace::{ConsumerStop, Recorder, TraceKind};

/// Consumes the subject's stream the way `consumer` says, working `work` on each item, until
/// `until` resolves; records how it ended, then runs the subject's `at_end`.
///
/// A panic inside the consumer is not caught here: the caller spawns this and turns a
/// panicked task into a `StreamEnded` event.
pub async fn drive(
    consumer: Consumer,
    work: Option<Duration>,
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
        cause = consume(consumer, stream, ends, Work { per_item: work, recorder: &recorder }) => {
            recorder.record(TraceKind::StreamEnded { cause });
            until.await;
        }
    }
    if let Some(at_end) = at_end {
        at_end();
    }
}

/// The time a consumer spends on each item, on the run's clock.
struct Work<'r> {
    per_item: Option<Duration>,
    recorder: &'r Recorder,
}

impl Work<'_> {
    /// Works on one item: the stream is not read meanwhile, so what the server sends backs up.
    async fn on_item(&self) {
        if let Some(work) = self.per_item {
            self.recorder.sleep_until(self.recorder.now() + work).await;
        }
    }
}

/// Reads to the end; returns why it stopped. `ends` says what its end means.
async fn consume(
    consumer: Consumer,
    mut stream: SubjectStream,
    ends: ConsumerStop,
    work: Work<'_>,
) -> ConsumerStop {
    match consumer {
        // Errors skipped, as a controller's `for_each` does.
        Consumer::Reflector | Consumer::ContinueOnError => {
            while stream.next().await.is_some() {
                work.on_item().await;
            }
            ends
        }
        // `while let Some(item) = stream.try_next().await? { .. }`.
        Consumer::StopOnError => loop {
            match stream.try_next().await {
                Ok(Some(())) => work.on_item().await,
                Ok(None) => return ends,
                Err(error) => return ConsumerStop::ReturnedError(record::error(&error)),
            }
        },
    }
}
