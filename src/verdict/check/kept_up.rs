//! Kept up: the watch a client had open at the end was sent every write it selects, up to a
//! deadline before the end. Both judges read it off the server's side of the watch.

use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::{ResourceSpec, format_duration as fmt};
use crate::trace::{Trace, TraceKind, Verb};
use crate::verdict::call::Call;
use crate::verdict::scorecard::Check;
use crate::verdict::selection::selector_of;

/// The last watch the server answered and never ended, if any.
pub(in crate::verdict) fn open_watch<'c, 'a>(calls: &'c [Call<'a>]) -> Option<&'c Call<'a>> {
    calls
        .iter()
        .rev()
        .find(|c| c.record.verb == Verb::Watch && c.record.status == 200 && c.ended.is_none())
}

/// Whether an open watch fell behind: a write it selects, made by `by`, that it never sent.
fn behind(
    trace: &Trace,
    watch: &Call<'_>,
    by: Duration,
    resource: &ResourceSpec,
) -> Option<String> {
    let selector = selector_of(watch.record, resource);
    let sent = watch.last_sent.map_or(0, |(_, rv)| rv);
    let start = watch
        .opened
        .map_or(0, |(from, _, revision)| from.unwrap_or(revision));
    let missed: Vec<(Duration, u64)> = trace
        .iter()
        .filter(|e| e.at <= by && e.at >= watch.at)
        .filter_map(|e| match &e.kind {
            TraceKind::Write {
                key,
                labels,
                fields,
                resource_version,
                ..
            } if *resource_version > sent.max(start) => {
                let (namespace, name) = match key.split_once('/') {
                    Some((ns, name)) => (Some(ns), name),
                    None => (None, key.as_str()),
                };
                selector
                    .matches(name, namespace, labels, || {
                        std::collections::BTreeMap::clone(fields)
                    })
                    .then_some((e.at, *resource_version))
            }
            _ => None,
        })
        .collect();
    let (first_at, first_rv) = *missed.first()?;
    Some(format!(
        "watch #{} (open since {}) was never sent {} write{} it selects, the first at {} (resourceVersion {first_rv}); the last event it was sent carried resourceVersion {sent}",
        watch.record.id,
        fmt(watch.at),
        missed.len(),
        if missed.len() == 1 { "" } else { "s" },
        fmt(first_at),
    ))
}

/// Kept up: the client's open `watch`, if any, was sent every write it selects made by `by`
/// (a deadline before the end).
pub(in crate::verdict) fn kept_up(
    trace: &Trace,
    watch: Option<&Call<'_>>,
    by: Duration,
    resource: &ResourceSpec,
) -> Check {
    let behind = watch.and_then(|watch| behind(trace, watch, by, resource));
    Check {
        name: CheckName::KeptUp,
        passed: behind.is_none(),
        detail: match behind {
            None => "its open watch, if any, was sent every write it selects".to_owned(),
            Some(words) => words,
        },
    }
}
