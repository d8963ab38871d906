//! JSON on the wire: objects, lists, watch events and bookmarks, in Go's key order with
//! `encoding/json`'s trailing newline (reference §0, §1.2, §2.3).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use super::go_json::{encode, line, with_json};
use super::object_body::ObjectBody;
use super::status::Status;
use super::store::{Encodings, StoredObject};
use crate::scenario::ResourceSpec;
use crate::trace::EventType;

/// The wall clock objects are stamped by: time zero of the run on the wall, and how many
/// virtual seconds pass per wall second. A write at virtual time `t` happened on the wall at
/// `epoch + t / speed`, the time a client's own clock and the `Date` header show then; stamping
/// `epoch + t` would put objects minutes in the future at `--speed 60` (kubectl's AGE
/// `<invalid>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    pub(crate) epoch: jiff::Timestamp,
    pub(crate) speed: u32,
}

impl WallClock {
    /// The wall time of virtual time `at`.
    pub(crate) fn wall(self, at: Duration) -> jiff::Timestamp {
        let at = jiff::SignedDuration::try_from(at / self.speed.max(1))
            .unwrap_or(jiff::SignedDuration::MAX);
        self.epoch.checked_add(at).unwrap_or(self.epoch)
    }

    /// The wall time that a virtual span takes.
    pub(crate) fn span(self, virtual_span: Duration) -> Duration {
        virtual_span / self.speed.max(1)
    }

    /// `metav1.Time` of virtual time `at`: RFC 3339 seconds.
    fn stamp(self, at: Duration) -> String {
        timestamp(self.wall(at), Duration::ZERO)
    }
}

/// RFC 3339 seconds of `at` after `epoch`, as `metav1.Time` marshals.
fn timestamp(epoch: jiff::Timestamp, at: Duration) -> String {
    let at = jiff::SignedDuration::try_from(at).unwrap_or(jiff::SignedDuration::MAX);
    epoch
        .checked_add(at)
        .unwrap_or(epoch)
        .round(jiff::Unit::Second)
        .unwrap_or(epoch)
        .to_string()
}

/// Whether list items carry `kind`/`apiVersion`: built-in types do not (kubernetes#3030), custom
/// resources (unstructured) do.
fn items_carry_type(resource: &ResourceSpec) -> bool {
    let builtin = resource.group.is_empty()
        || !resource.group.contains('.')
        || resource.group.ends_with(".k8s.io");
    !builtin
}

#[derive(Serialize)]
struct ObjectMeta<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    uid: &'a str,
    #[serde(rename = "resourceVersion")]
    resource_version: String,
    #[serde(rename = "creationTimestamp")]
    creation_timestamp: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Object<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: ObjectMeta<'a>,
    #[serde(flatten)]
    body: &'a ObjectBody,
}

fn object<'a>(
    clock: WallClock,
    o: &'a StoredObject,
    body: &'a ObjectBody,
    (kind, api_version): (&'a str, &'a str),
    resource_version: u64,
) -> Object<'a> {
    Object {
        kind,
        api_version,
        metadata: ObjectMeta {
            name: &o.name,
            namespace: o.namespace.as_deref(),
            uid: &o.uid,
            resource_version: resource_version.to_string(),
            creation_timestamp: clock.stamp(o.created),
            labels: &o.labels,
        },
        body,
    }
}

/// Renders the resource's objects, lists and events.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    clock: WallClock,
    /// `PartialObjectMetadata`: objects are their metadata alone.
    metadata_only: bool,
    kind: String,
    list_kind: String,
    api_version: String,
    items_typed: bool,
    /// `"kind":"…","apiVersion":"…",`: what a typed form has after its `{` and an untyped one
    /// has not.
    type_fields: Vec<u8>,
}

/// The type fields alone, to measure them.
#[derive(Serialize)]
struct TypeFields<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
}

impl<'a> TypeFields<'a> {
    fn of(wire: &'a Wire) -> Self {
        Self {
            kind: &wire.kind,
            api_version: &wire.api_version,
        }
    }
}

/// `metav1.ListMeta`: a list's, and a `Table`'s.
#[derive(Serialize)]
pub(super) struct ListMeta {
    #[serde(rename = "resourceVersion")]
    pub(super) resource_version: String,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    pub(super) continue_: Option<String>,
    #[serde(rename = "remainingItemCount", skip_serializing_if = "Option::is_none")]
    pub(super) remaining_item_count: Option<u64>,
}

#[derive(Serialize)]
struct ListHead<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: ListMeta,
}

#[derive(Serialize)]
struct WatchEvent<T> {
    #[serde(rename = "type")]
    type_: &'static str,
    object: T,
}

#[derive(Serialize)]
struct BookmarkMeta {
    #[serde(rename = "resourceVersion")]
    resource_version: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct Bookmark<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: BookmarkMeta,
}

/// `{"type":"…","object":`: what comes before the object on an event line of `type_`.
fn envelope(type_: EventType) -> &'static [u8] {
    match type_ {
        EventType::Added => b"{\"type\":\"ADDED\",\"object\":",
        EventType::Modified => b"{\"type\":\"MODIFIED\",\"object\":",
        EventType::Deleted => b"{\"type\":\"DELETED\",\"object\":",
        EventType::Bookmark | EventType::InitialEventsEnd => b"{\"type\":\"BOOKMARK\",\"object\":",
        EventType::Error => b"{\"type\":\"ERROR\",\"object\":",
    }
}

/// One line of a watch stream: whole bytes, or an object event whose object is shared with
/// every other watch that sends it; the envelope is written around it when the line goes out.
#[derive(Debug, Clone)]
pub(crate) enum Line {
    Whole(Bytes),
    Event(EventType, Bytes),
}

impl Line {
    const EVENT_END: &[u8] = b"}\n";

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Whole(bytes) => bytes.len(),
            Self::Event(type_, object) => {
                envelope(*type_).len() + object.len() + Self::EVENT_END.len()
            }
        }
    }

    pub(crate) fn write_into(&self, out: &mut BytesMut) {
        match self {
            Self::Whole(bytes) => out.put_slice(bytes),
            Self::Event(type_, object) => {
                out.put_slice(envelope(*type_));
                out.put_slice(object);
                out.put_slice(Self::EVENT_END);
            }
        }
    }

    /// The line as one piece of bytes.
    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            Self::Whole(bytes) => bytes,
            Self::Event(..) => {
                let mut out = BytesMut::with_capacity(self.len());
                self.write_into(&mut out);
                out.freeze()
            }
        }
    }
}

impl From<Vec<u8>> for Line {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Whole(Bytes::from(bytes))
    }
}

impl Wire {
    /// The wire form of `resource` on a run whose objects are stamped by `clock`.
    pub(crate) fn new(resource: &ResourceSpec, clock: WallClock) -> Self {
        Self {
            clock,
            metadata_only: false,
            kind: resource.kind.clone(),
            list_kind: format!("{}List", resource.kind),
            api_version: resource.api_version(),
            items_typed: items_carry_type(resource),
            type_fields: Vec::new(),
        }
        .measured()
    }

    fn measured(mut self) -> Self {
        // `{"kind":"…","apiVersion":"…"}`: the fields, less the braces, plus the comma after them.
        let mut fields = with_json(&TypeFields::of(&self), <[u8]>::to_vec);
        fields.remove(0);
        fields.pop();
        fields.push(b',');
        self.type_fields = fields;
        self
    }

    /// The `PartialObjectMetadata` form metadata-only clients ask for with
    /// `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` (apiserver
    /// `endpoints/handlers/response.go`, `asPartialObjectMetadataList`): every item and event
    /// object is typed `meta.k8s.io/v1 PartialObjectMetadata` and holds only `metadata`.
    pub(crate) fn metadata(clock: WallClock) -> Self {
        Self {
            clock,
            metadata_only: true,
            kind: "PartialObjectMetadata".to_owned(),
            list_kind: "PartialObjectMetadataList".to_owned(),
            api_version: "meta.k8s.io/v1".to_owned(),
            items_typed: true,
            type_fields: Vec::new(),
        }
        .measured()
    }

    fn body<'a>(&self, o: &'a StoredObject) -> &'a ObjectBody {
        static NO_BODY: ObjectBody = ObjectBody::EMPTY;
        if self.metadata_only {
            &NO_BODY
        } else {
            &o.body
        }
    }

    fn typed(&self) -> (&str, &str) {
        (&self.kind, &self.api_version)
    }

    /// `o`'s typed form, serialized once per object and shared from then on.
    fn encoded<'a>(&self, o: &'a StoredObject) -> &'a Bytes {
        o.encodings.form(self.metadata_only).get_or_init(|| {
            encode(&object(
                self.clock,
                o,
                self.body(o),
                self.typed(),
                o.resource_version,
            ))
        })
    }

    /// Serializes `o` now, as it is written: the apiserver encodes an object on its way to etcd,
    /// and here every watch and LIST then only copies the bytes.
    pub(crate) fn prepare(&self, o: &StoredObject) {
        self.encoded(o);
    }

    /// A single object (GET): it carries its type.
    pub(crate) fn object(&self, o: &StoredObject) -> Vec<u8> {
        let typed = self.encoded(o);
        let mut out = Vec::with_capacity(typed.len() + 1);
        out.extend_from_slice(typed);
        out.push(b'\n');
        out
    }

    /// A LIST page. Written around the items' shared forms: `{"kind",…,"metadata":{…}`, then
    /// `,"items":[…]}` — the bytes serde would write for the whole list.
    pub(crate) fn list(
        &self,
        items: &[&StoredObject],
        revision: u64,
        continue_: Option<String>,
        remaining: Option<u64>,
    ) -> Vec<u8> {
        let items: Vec<&Bytes> = items.iter().map(|o| self.encoded(o)).collect();
        let mut out = line(&ListHead {
            kind: &self.list_kind,
            api_version: &self.api_version,
            metadata: ListMeta {
                resource_version: revision.to_string(),
                continue_,
                remaining_item_count: remaining,
            },
        });
        out.reserve(items.iter().map(|i| i.len() + 1).sum::<usize>() + 16);
        out.truncate(out.len() - 2); // the list's closing brace and newline
        out.extend_from_slice(b",\"items\":[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if self.items_typed {
                out.extend_from_slice(item);
            } else {
                // Built-in types' items carry no type (kubernetes#3030): the typed form less
                // its type fields.
                let rest = item[1..]
                    .strip_prefix(self.type_fields.as_slice())
                    .expect("a typed form starts with its type fields");
                out.push(b'{');
                out.extend_from_slice(rest);
            }
        }
        out.extend_from_slice(b"]}\n");
        out
    }

    /// An ADDED or MODIFIED event of `o`.
    pub(crate) fn event(&self, type_: EventType, o: &StoredObject) -> Line {
        Line::Event(type_, self.encoded(o).clone())
    }

    /// The DELETED event of `before`, which carries the deletion's `revision`
    /// (`updateResourceVersion` in apiserver `cache_watcher.go`); its form is kept in
    /// `encodings`, the change's own.
    pub(crate) fn deleted(
        &self,
        before: &StoredObject,
        revision: u64,
        encodings: &Encodings,
    ) -> Line {
        let object = encodings.form(self.metadata_only).get_or_init(|| {
            encode(&object(
                self.clock,
                before,
                self.body(before),
                self.typed(),
                revision,
            ))
        });
        Line::Event(EventType::Deleted, object.clone())
    }

    /// A BOOKMARK: the minimal `{kind, apiVersion, metadata:{resourceVersion}}` form the reference
    /// recommends, plus the `k8s.io/initial-events-end` annotation ending a streaming list.
    pub(crate) fn bookmark(&self, resource_version: u64, initial_events_end: bool) -> Vec<u8> {
        self.bookmark_at(resource_version.to_string(), initial_events_end)
    }

    /// A BOOKMARK whose `resourceVersion` is given as written, even empty (a fault).
    pub(crate) fn bookmark_at(
        &self,
        resource_version: String,
        initial_events_end: bool,
    ) -> Vec<u8> {
        let mut annotations = BTreeMap::new();
        if initial_events_end {
            annotations.insert("k8s.io/initial-events-end", "true");
        }
        line(&WatchEvent {
            type_: EventType::Bookmark.wire_name(),
            object: Bookmark {
                kind: &self.kind,
                api_version: &self.api_version,
                metadata: BookmarkMeta {
                    resource_version,
                    annotations,
                },
            },
        })
    }

    /// The `object` of an event line without its `{"type","object"}` envelope (a
    /// `malformed_event` fault of shape `wrong_shape`), bytes as they were.
    pub(crate) fn without_envelope(line: &[u8]) -> Vec<u8> {
        const KEY: &[u8] = b"\"object\":";
        let start = line
            .windows(KEY.len())
            .position(|w| w == KEY)
            .map_or(0, |i| i + KEY.len());
        // Every event line ends with the envelope's `}` and the newline.
        let end = line.len().saturating_sub(2).max(start);
        let mut out = line[start..end].to_vec();
        out.push(b'\n');
        out
    }

    /// An ERROR event carrying a Status.
    pub(crate) fn error(status: &Status) -> Vec<u8> {
        line(&WatchEvent {
            type_: EventType::Error.wire_name(),
            object: status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_line_spells_its_type_as_the_trace_names_it_on_the_wire() {
        use EventType::*;
        for type_ in [Added, Modified, Deleted, Bookmark, InitialEventsEnd, Error] {
            let expected = format!("{{\"type\":\"{}\",\"object\":", type_.wire_name());
            assert_eq!(envelope(type_), expected.as_bytes());
        }
    }

    #[test]
    fn objects_are_stamped_on_the_wall_clock_so_a_sped_up_run_does_not_date_them_ahead() {
        let clock = WallClock {
            epoch: crate::trace::SIMULATED_EPOCH,
            speed: 60,
        };
        // Ten virtual minutes at 60x are ten wall seconds after time zero.
        assert_eq!(
            clock.stamp(Duration::from_secs(600)),
            timestamp(crate::trace::SIMULATED_EPOCH, Duration::from_secs(10))
        );
        assert_eq!(
            clock.span(Duration::from_secs(600)),
            Duration::from_secs(10)
        );
    }

    fn event_resource() -> ResourceSpec {
        ResourceSpec::core_events()
    }

    fn stored() -> StoredObject {
        StoredObject {
            name: "a".into(),
            namespace: Some("default".into()),
            uid: "u".into(),
            resource_version: 7,
            created: Duration::from_secs(61),
            labels: std::sync::Arc::default(),
            body: ObjectBody::new(&[("reason".to_owned(), serde_json::json!("Started"))].into()),
            encodings: Encodings::default(),
            selectable: crate::apiserver::store::Selectable::default(),
        }
    }

    #[test]
    fn list_items_of_builtin_kinds_carry_no_type_but_watch_events_do() {
        let wire = Wire::new(
            &event_resource(),
            WallClock {
                epoch: crate::trace::SIMULATED_EPOCH,
                speed: 1,
            },
        );
        let list = String::from_utf8(wire.list(&[&stored()], 9, None, None)).unwrap();
        assert_eq!(
            list,
            "{\"kind\":\"EventList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"uid\":\"u\",\"resourceVersion\":\"7\",\"creationTimestamp\":\"2026-01-01T00:01:01Z\"},\"reason\":\"Started\"}]}\n"
        );
        let deleted = wire.deleted(&stored(), 12, &Encodings::default());
        let event = String::from_utf8(deleted.into_bytes().to_vec()).unwrap();
        assert!(event.starts_with("{\"type\":\"DELETED\",\"object\":{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\""));
        assert!(
            event.contains("\"resourceVersion\":\"12\""),
            "a DELETED event carries the deletion's revision"
        );
    }

    #[test]
    fn strings_are_escaped_the_way_go_encodes_them() {
        let encoded = line(&serde_json::json!({ "m": "a<b>&c\u{2028}d\u{2029}é" }));
        assert_eq!(
            String::from_utf8(encoded).unwrap(),
            "{\"m\":\"a\\u003cb\\u003e\\u0026c\\u2028d\\u2029é\"}\n"
        );
    }

    #[test]
    fn bookmarks_are_minimal_and_the_initial_events_end_one_is_annotated() {
        let wire = Wire::new(
            &event_resource(),
            WallClock {
                epoch: crate::trace::SIMULATED_EPOCH,
                speed: 1,
            },
        );
        assert_eq!(
            String::from_utf8(wire.bookmark(100, false)).unwrap(),
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"100\"}}}\n"
        );
        assert_eq!(
            String::from_utf8(wire.bookmark(100, true)).unwrap(),
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"100\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n"
        );
    }
}
