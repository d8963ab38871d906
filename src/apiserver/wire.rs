//! JSON on the wire: objects, lists, watch events and bookmarks, in Go's key order with
//! `encoding/json`'s trailing newline (reference §0, §1.2, §2.3).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::status::Status;
use super::store::StoredObject;
use crate::scenario::ResourceSpec;

/// RFC 3339 seconds of virtual time `at` on a run whose time zero is `epoch`, as `metav1.Time`
/// marshals.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    api_version: Option<&'a str>,
    metadata: ObjectMeta<'a>,
    #[serde(flatten)]
    body: &'a BTreeMap<String, serde_json::Value>,
}

fn object<'a>(
    epoch: jiff::Timestamp,
    o: &'a StoredObject,
    body: &'a BTreeMap<String, serde_json::Value>,
    typed: Option<(&'a str, &'a str)>,
    resource_version: u64,
) -> Object<'a> {
    Object {
        kind: typed.map(|t| t.0),
        api_version: typed.map(|t| t.1),
        metadata: ObjectMeta {
            name: &o.name,
            namespace: o.namespace.as_deref(),
            uid: &o.uid,
            resource_version: resource_version.to_string(),
            creation_timestamp: timestamp(epoch, o.created),
            labels: &o.labels,
        },
        body,
    }
}

/// Renders the resource's objects, lists and events.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    epoch: jiff::Timestamp,
    /// `PartialObjectMetadata`: objects are their metadata alone.
    metadata_only: bool,
    kind: String,
    list_kind: String,
    api_version: String,
    items_typed: bool,
}

#[derive(Serialize)]
struct ListMeta {
    #[serde(rename = "resourceVersion")]
    resource_version: String,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_: Option<String>,
    #[serde(rename = "remainingItemCount", skip_serializing_if = "Option::is_none")]
    remaining_item_count: Option<u64>,
}

#[derive(Serialize)]
struct List<'a> {
    kind: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: ListMeta,
    items: Vec<Object<'a>>,
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

/// The event types of `metav1.WatchEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// `value` as Go's `json.NewEncoder(w).Encode` writes it (reference §0): compact, `<`, `>`
/// and `&` escaped as `\u003c`, `\u003e`, `\u0026` (and U+2028/U+2029 as `\u2028`/`\u2029`),
/// and one trailing newline. Those characters can only occur inside JSON strings, so replacing
/// them in the output is exact.
pub(crate) fn line(value: &impl Serialize) -> Vec<u8> {
    let mut plain = serde_json::to_vec(value).expect("wire types always serialize");
    // Most lines have nothing to escape: one scan, no copy.
    if !plain.iter().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2)) {
        plain.push(b'\n');
        return plain;
    }
    let mut out = Vec::with_capacity(plain.len() + 16);
    let mut rest = plain.as_slice();
    while let Some((first, tail)) = rest.split_first() {
        match (first, tail) {
            (b'<', _) => out.extend_from_slice(b"\\u003c"),
            (b'>', _) => out.extend_from_slice(b"\\u003e"),
            (b'&', _) => out.extend_from_slice(b"\\u0026"),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            (0xE2, [0x80, last @ (0xA8 | 0xA9), ..]) => {
                out.extend_from_slice(if *last == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                rest = &tail[2..];
                continue;
            }
            _ => out.push(*first),
        }
        rest = tail;
    }
    out.push(b'\n');
    out
}

impl Wire {
    /// The wire form of `resource` on a run whose virtual time zero is `epoch` on the wall.
    pub(crate) fn new(resource: &ResourceSpec, epoch: jiff::Timestamp) -> Self {
        Self {
            epoch,
            metadata_only: false,
            kind: resource.kind.clone(),
            list_kind: format!("{}List", resource.kind),
            api_version: resource.api_version(),
            items_typed: items_carry_type(resource),
        }
    }

    /// The `PartialObjectMetadata` form metadata-only clients ask for with
    /// `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` (apiserver
    /// `endpoints/handlers/response.go`, `asPartialObjectMetadataList`): every item and event
    /// object is typed `meta.k8s.io/v1 PartialObjectMetadata` and holds only `metadata`.
    pub(crate) fn metadata(epoch: jiff::Timestamp) -> Self {
        Self {
            epoch,
            metadata_only: true,
            kind: "PartialObjectMetadata".to_owned(),
            list_kind: "PartialObjectMetadataList".to_owned(),
            api_version: "meta.k8s.io/v1".to_owned(),
            items_typed: true,
        }
    }

    fn body<'a>(&self, o: &'a StoredObject) -> &'a BTreeMap<String, serde_json::Value> {
        static NO_BODY: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        if self.metadata_only {
            &NO_BODY
        } else {
            &o.body
        }
    }

    fn typed(&self) -> Option<(&str, &str)> {
        Some((&self.kind, &self.api_version))
    }

    /// A single object (GET): it carries its type.
    pub(crate) fn object(&self, o: &StoredObject) -> Vec<u8> {
        line(&object(
            self.epoch,
            o,
            self.body(o),
            self.typed(),
            o.resource_version,
        ))
    }

    /// A LIST page.
    pub(crate) fn list(
        &self,
        items: &[&StoredObject],
        revision: u64,
        continue_: Option<String>,
        remaining: Option<u64>,
    ) -> Vec<u8> {
        let typed = if self.items_typed { self.typed() } else { None };
        line(&List {
            kind: &self.list_kind,
            api_version: &self.api_version,
            metadata: ListMeta {
                resource_version: revision.to_string(),
                continue_,
                remaining_item_count: remaining,
            },
            items: items
                .iter()
                .map(|o| object(self.epoch, o, self.body(o), typed, o.resource_version))
                .collect(),
        })
    }

    /// An ADDED/MODIFIED/DELETED event; a DELETED one carries the deletion's revision
    /// (`updateResourceVersion` in apiserver `cache_watcher.go`).
    pub(crate) fn event(
        &self,
        type_: EventType,
        o: &StoredObject,
        resource_version: u64,
    ) -> Vec<u8> {
        line(&WatchEvent {
            type_: type_.as_str(),
            object: object(self.epoch, o, self.body(o), self.typed(), resource_version),
        })
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
            type_: "BOOKMARK",
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
            type_: "ERROR",
            object: status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            labels: BTreeMap::new(),
            body: [("reason".to_owned(), serde_json::json!("Started"))].into(),
        }
    }

    #[test]
    fn list_items_of_builtin_kinds_carry_no_type_but_watch_events_do() {
        let wire = Wire::new(&event_resource(), crate::trace::SIMULATED_EPOCH);
        let list = String::from_utf8(wire.list(&[&stored()], 9, None, None)).unwrap();
        assert_eq!(
            list,
            "{\"kind\":\"EventList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"uid\":\"u\",\"resourceVersion\":\"7\",\"creationTimestamp\":\"2026-01-01T00:01:01Z\"},\"reason\":\"Started\"}]}\n"
        );
        let event = String::from_utf8(wire.event(EventType::Deleted, &stored(), 12)).unwrap();
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
        let wire = Wire::new(&event_resource(), crate::trace::SIMULATED_EPOCH);
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
