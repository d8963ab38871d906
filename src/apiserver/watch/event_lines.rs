//! How one watch turns changes into event lines: what it selects, and the form it asked for
//! (the resource's own, metadata only, or `Table` rows for `kubectl get -w`).

use std::cell::Cell;
use std::sync::Arc;

use super::outbox::object_event;
use crate::apiserver::fanout::Filter;
use crate::apiserver::shared::Shared;
use crate::apiserver::store::{Change, Encodings, StoredObject};
use crate::apiserver::table::{Include, Printer};
use crate::apiserver::wire::{Line, Wire};
use crate::trace::{EventType, SentEvent};

/// One watch's selection and form.
#[derive(Debug)]
pub(super) struct EventLines {
    pub(super) inner: Arc<Shared>,
    pub(super) filter: Arc<Filter>,
    /// Metadata-only answers (`PartialObjectMetadata`).
    pub(super) metadata_only: bool,
    /// The watch asked for `Table` objects (`kubectl get -w`), and whether its first table,
    /// the one with the column definitions, has gone out.
    pub(super) table: Option<Include>,
    pub(super) columns_sent: Cell<bool>,
}

impl EventLines {
    pub(super) fn wire(&self) -> &Wire {
        self.inner.wire_for(self.metadata_only)
    }

    /// The event for one change as this watch sees it: selector transitions become
    /// ADDED/DELETED (`convertToWatchEvent` in apiserver `cache_watcher.go`).
    pub(super) fn line_for(&self, change: &Change) -> Option<(Line, SentEvent)> {
        let before = change.before.as_ref().filter(|o| self.filter.sees(o));
        let after = change.after.as_ref().filter(|o| self.filter.sees(o));
        let sent = |type_, key| object_event(type_, key, change.revision);
        match (before, after) {
            (None, Some(after)) => Some((
                self.event(EventType::Added, after),
                sent(EventType::Added, after.key()),
            )),
            (Some(_), Some(after)) => Some((
                self.event(EventType::Modified, after),
                sent(EventType::Modified, after.key()),
            )),
            (Some(before), None) => Some((
                self.deleted(before, change.revision, &change.deleted),
                sent(EventType::Deleted, before.key()),
            )),
            (None, None) => None,
        }
    }

    /// An ADDED or MODIFIED event of `o`, as a `Table` when the watch asked for one.
    pub(super) fn event(&self, type_: EventType, o: &StoredObject) -> Line {
        match self.printer() {
            Some(printer) => Line::Event(
                type_,
                printer.event(
                    o,
                    o.resource_version,
                    !self.columns_sent.replace(true),
                    None,
                ),
            ),
            None => self.wire().event(type_, o),
        }
    }

    /// The DELETED event of `before` at `revision`, as a `Table` when the watch asked for one.
    fn deleted(&self, before: &StoredObject, revision: u64, encodings: &Encodings) -> Line {
        match self.printer() {
            Some(printer) => Line::Event(
                EventType::Deleted,
                printer.event(
                    before,
                    revision,
                    !self.columns_sent.replace(true),
                    Some(encodings),
                ),
            ),
            None => self.wire().deleted(before, revision, encodings),
        }
    }

    fn printer(&self) -> Option<Printer<'_>> {
        self.inner.printer_for(self.table?)
    }
}
