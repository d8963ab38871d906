//! Turning what a watcher emits into trace events.

use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use crate::trace::{ObjectKey, TraceKind, WatcherErrorVariant, WatcherFault};

/// The trace key of an object: `namespace/name`, or `name` when cluster-scoped.
#[must_use]
pub fn key_of<K: Resource>(object: &K) -> ObjectKey {
    match object.namespace() {
        Some(ns) => format!("{ns}/{}", object.name_any()),
        None => object.name_any(),
    }
}

/// The object's resourceVersion as a number; 0 when absent or not a number.
#[must_use]
pub fn resource_version<K: Resource>(object: &K) -> u64 {
    object
        .resource_version()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}

/// The trace event for one watcher event.
#[must_use]
pub fn event<K: Resource>(event: &watcher::Event<K>) -> TraceKind {
    match event {
        watcher::Event::Init => TraceKind::Init,
        watcher::Event::InitApply(o) => TraceKind::InitApply {
            key: key_of(o),
            resource_version: resource_version(o),
        },
        watcher::Event::InitDone => TraceKind::InitDone,
        watcher::Event::Apply(o) => TraceKind::Apply {
            key: key_of(o),
            resource_version: resource_version(o),
        },
        watcher::Event::Delete(o) => TraceKind::Delete {
            key: key_of(o),
            resource_version: resource_version(o),
        },
    }
}

/// The trace form of a watcher error: its variant, code and reason, and the full message.
#[must_use]
pub fn error(error: &watcher::Error) -> WatcherFault {
    use WatcherErrorVariant as V;
    let (variant, status) = match error {
        watcher::Error::InitialListFailed(e) => (V::InitialListFailed, client_status(e)),
        watcher::Error::WatchStartFailed(e) => (V::WatchStartFailed, client_status(e)),
        watcher::Error::WatchFailed(e) => (V::WatchFailed, client_status(e)),
        watcher::Error::WatchError(status) => (
            V::WatchError,
            Some((status.code, status.reason.clone(), status.message.clone())),
        ),
        watcher::Error::NoResourceVersion => (V::NoResourceVersion, None),
    };
    WatcherFault {
        variant,
        timed_out: timed_out(error),
        code: status.as_ref().map(|s| s.0),
        reason: status
            .as_ref()
            .map(|s| s.1.clone())
            .filter(|r| !r.is_empty()),
        status_message: status.map(|s| s.2).filter(|m| !m.is_empty()),
        message: error_chain(error),
    }
}

fn client_status(error: &kube::Error) -> Option<(u16, String, String)> {
    match error {
        kube::Error::Api(status) => {
            Some((status.code, status.reason.clone(), status.message.clone()))
        }
        _ => None,
    }
}

/// Whether an I/O error of kind `TimedOut` is among `error`'s sources: how kube's read timeout
/// (hyper-timeout's stream) fails a request or a watch, whatever words it comes with.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

/// The error and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
