//! How one watch writes its events: the objects its selector sees, as whole objects, as
//! `PartialObjectMetadata`, or as `Table` rows (`kubectl get -w`), and a change as the event
//! this watch sees of it (`convertToWatchEvent` in apiserver `cacher/cache_watcher.go`); with
//! the trace's record of each line.

use std::cell::Cell;
use std::sync::Arc;

use crate::apiserver::fanout::Filter;
use crate::apiserver::shared::Shared;
use crate::apiserver::store::{Change, Encodings, StoredObject};
use crate::apiserver::table_printer::{Include, Printer};
use crate::apiserver::wire::{Line, Wire};
use crate::trace::{EventType, SentEvent};

/// One watch's encoding of events.
pub(super) struct EventLines {
    inner: Arc<Shared>,
    /// Metadata-only answers (`PartialObjectMetadata`).
    metadata_only: bool,
    /// The watch asked for `Table` objects, and whether its first table, the one with the
    /// column definitions, has gone out.
    table: Option<Include>,
    columns_sent: Cell<bool>,
    /// What the watch selects.
    pub(super) filter: Arc<Filter>,
}

impl EventLines {
    pub(super) fn new(
        inner: Arc<Shared>,
        metadata_only: bool,
        table: Option<Include>,
        filter: Filter,
    ) -> Self {
        Self {
            inner,
            metadata_only,
            table,
            columns_sent: Cell::new(false),
            filter: Arc::new(filter),
        }
    }

    pub(super) fn wire(&self) -> &Wire {
        self.inner.wire_for(self.metadata_only)
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

    /// The event for one change as this watch sees it: selector transitions become
    /// ADDED/DELETED.
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
}

/// The trace form of an object event.
pub(super) fn object_event(type_: EventType, key: String, resource_version: u64) -> SentEvent {
    SentEvent {
        type_,
        key: Some(key),
        resource_version: Some(resource_version),
        damaged: None,
    }
}

/// The trace form of an event about no object: a bookmark carrying `resource_version`
/// (`None`: an empty one), or an ERROR.
pub(super) fn keyless_event(type_: EventType, resource_version: Option<u64>) -> SentEvent {
    SentEvent {
        type_,
        key: None,
        resource_version,
        damaged: None,
    }
}
