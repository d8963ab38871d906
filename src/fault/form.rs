//! The file form of a fault, both ways: `kind:` first, then the keys its kind takes.
//!
//! [`Fault::walk`] names each kind's keys once, with their defaults, starting from the blank
//! fault of each [`FaultKind`]. Reading a timeline entry ([`Fault::read`], in `reader.rs`),
//! writing one ([`Fault::entries`], and `Serialize`/`Deserialize`), the keys a kind takes (for
//! messages) and the JSON Schema editors validate with ([`Fault::schemas`]) all follow that
//! walk, so a key is spelled in one place.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::faults::Fault;
use super::restart::{Restart, Revision};
use super::target::Target;
use super::wire_shape::{ErrorBody, GoneForm, LatencyOn, Malformed, StreamError};
use crate::span::Span;
use crate::trace::Cut;
use crate::trace::FaultKind;

/// A value a key can hold: written and read as YAML scalars and lists, described for editors.
pub trait Field: Serialize + DeserializeOwned + schemars::JsonSchema {}

impl<T: Serialize + DeserializeOwned + schemars::JsonSchema> Field for T {}

/// One pass over a fault's keys, in the order they are written.
pub trait Form {
    /// A key the kind needs.
    fn required<T: Field>(&mut self, key: &'static str, value: &mut T);
    /// A key that may be left out, meaning `default`.
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, value: &mut T, default: T);
    /// A key that may be left out, meaning none.
    fn optional<T: Field>(&mut self, key: &'static str, value: &mut Option<T>);
    /// What was read under `key` is not valid, and why; only a reader cares.
    fn invalid(&mut self, key: &'static str, why: String) {
        let _ = (key, why);
    }
}

fn span(f: &mut impl Form, key: &'static str, duration: &mut Duration) {
    let mut span = Span(*duration);
    f.required(key, &mut span);
    *duration = span.get();
}

fn optional_span(f: &mut impl Form, key: &'static str, duration: &mut Option<Duration>) {
    let mut span = duration.map(Span);
    f.optional(key, &mut span);
    *duration = span.map(Span::get);
}

/// The keys that aim a request or stream fault.
fn target(f: &mut impl Form, target: &mut Target) {
    optional_span(f, "for", &mut target.window);
    f.optional("count", &mut target.count);
    f.or("verbs", &mut target.verbs, Vec::new());
    f.optional("path", &mut target.path);
    f.optional("query", &mut target.query);
}

impl Fault {
    /// A blank fault of `kind`, each key at its default (or at nothing, for a key the kind
    /// needs): what the walk starts from to read one, name its keys or describe them.
    pub(super) fn blank(kind: FaultKind) -> Self {
        let t = Target::default;
        match kind {
            FaultKind::Idle => Self::Idle {
                duration: Duration::ZERO,
            },
            FaultKind::Compact => Self::Compact { retain: None },
            FaultKind::DropBookmarks => Self::DropBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::StaleBookmarks => Self::StaleBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::EmptyBookmarks => Self::EmptyBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::DropInitialEventsEnd => Self::DropInitialEventsEnd { target: t() },
            FaultKind::ExpireWatches => Self::ExpireWatches,
            FaultKind::Watch410 => Self::Watch410 {
                form: GoneForm::Event,
                message: None,
                code: true,
                target: t(),
            },
            FaultKind::EmptyWatch => Self::EmptyWatch { target: t() },
            FaultKind::CutStream => Self::CutStream {
                how: Cut::Reset,
                target: t(),
            },
            FaultKind::StallStream => Self::StallStream { target: t() },
            FaultKind::HangHeaders => Self::HangHeaders { target: t() },
            FaultKind::HttpError => Self::HttpError {
                status: 0,
                body: ErrorBody::Status,
                retry_after: None,
                target: t(),
            },
            FaultKind::Latency => Self::Latency {
                delay: Duration::ZERO,
                on: LatencyOn::Requests,
                target: t(),
            },
            FaultKind::MalformedEvent => Self::MalformedEvent {
                shape: Malformed::Truncated,
                target: t(),
            },
            FaultKind::ExpireContinue => Self::ExpireContinue { target: t() },
            FaultKind::EarlyBookmarks => Self::EarlyBookmarks {
                duration: Duration::ZERO,
                lag: Self::EARLY_BOOKMARKS_LAG,
            },
            FaultKind::WatchError => Self::WatchError {
                error: StreamError::WatchProgressUnsupported,
                target: t(),
            },
            FaultKind::Restart => Self::Restart {
                restart: Restart::Keep,
                down: Self::RESTART_DOWN,
                drain: Duration::ZERO,
            },
            FaultKind::Failover => Self::Failover { to: String::new() },
        }
    }

    /// Visits every key of this fault's kind, in the order it is written.
    pub fn walk(&mut self, f: &mut impl Form) {
        match self {
            Self::Idle { duration }
            | Self::DropBookmarks { duration }
            | Self::StaleBookmarks { duration }
            | Self::EmptyBookmarks { duration } => span(f, "for", duration),
            Self::EarlyBookmarks { duration, lag } => {
                span(f, "for", duration);
                let mut span = Span(*lag);
                f.or("lag", &mut span, Span(Self::EARLY_BOOKMARKS_LAG));
                *lag = span.get();
            }
            Self::Compact { retain } => optional_span(f, "retain", retain),
            Self::ExpireWatches => {}
            Self::Failover { to } => f.required("to", to),
            Self::Watch410 {
                form,
                message,
                code,
                target: t,
            } => {
                f.or("form", form, GoneForm::Event);
                f.optional("message", message);
                f.or("code", code, true);
                target(f, t);
            }
            Self::CutStream { how, target: t } => {
                f.or("how", how, Cut::Reset);
                target(f, t);
            }
            Self::HttpError {
                status,
                body,
                retry_after,
                target: t,
            } => {
                f.required("status", status);
                f.or("format", body, ErrorBody::Status);
                let mut after = retry_after.map(|s| Span(Duration::from_secs(s.into())));
                f.optional("retry_after", &mut after);
                *retry_after = match after.map(Span::get) {
                    None => None,
                    Some(d) if d.subsec_nanos() == 0 && !d.is_zero() => {
                        u32::try_from(d.as_secs()).ok().or_else(|| {
                            f.invalid("retry_after", "too large".into());
                            None
                        })
                    }
                    Some(_) => {
                        f.invalid(
                            "retry_after",
                            "Retry-After is whole seconds, at least 1s".into(),
                        );
                        None
                    }
                };
                target(f, t);
            }
            Self::Latency {
                delay,
                on,
                target: t,
            } => {
                span(f, "delay", delay);
                f.or("slows", on, LatencyOn::Requests);
                target(f, t);
            }
            Self::WatchError { error, target: t } => {
                f.or("error", error, StreamError::WatchProgressUnsupported);
                target(f, t);
            }
            Self::MalformedEvent { shape, target: t } => {
                f.required("shape", shape);
                target(f, t);
            }
            Self::DropInitialEventsEnd { target: t }
            | Self::EmptyWatch { target: t }
            | Self::StallStream { target: t }
            | Self::HangHeaders { target: t }
            | Self::ExpireContinue { target: t } => target(f, t),
            Self::Restart {
                restart,
                down,
                drain,
            } => {
                let (mut revision, mut by) = restart.parts();
                f.or("revision", &mut revision, Revision::Keep);
                f.optional("by", &mut by);
                match Restart::from_parts(revision, by) {
                    Ok(read) => *restart = read,
                    Err((key, why)) => f.invalid(key, why.to_owned()),
                }
                let mut span = Span(*down);
                f.or("down", &mut span, Span(Self::RESTART_DOWN));
                *down = span.get();
                let mut span = Span(*drain);
                f.or("drain", &mut span, Span(Duration::ZERO));
                *drain = span.get();
            }
        }
    }

    /// The keys a kind takes, in the order they are written; `None` for no such kind.
    #[must_use]
    pub fn keys_of(kind: &str) -> Option<Vec<&'static str>> {
        let mut keys = KeyNames::default();
        Self::blank(FaultKind::named(kind)?).walk(&mut keys);
        Some(keys.0)
    }

    /// The keys this fault is written with (`kind:` aside), each with its value: a key left at
    /// its default is left out.
    #[must_use]
    pub fn entries(&self) -> Vec<(&'static str, Value)> {
        let mut writer = EntryWriter::default();
        self.clone().walk(&mut writer);
        writer.0
    }

    /// Each kind's keys as JSON Schema properties, and which of them it needs, for editors.
    pub fn schemas(generator: &mut schemars::SchemaGenerator) -> Vec<KindSchema> {
        FaultKind::ALL
            .iter()
            .map(|&kind| KindSchema::walked(generator, kind.name(), |f| Self::blank(kind).walk(f)))
            .collect()
    }
}

/// Collects the keys a walk names, in the order it names them.
#[derive(Default)]
pub struct KeyNames(pub Vec<&'static str>);

impl Form for KeyNames {
    fn required<T: Field>(&mut self, key: &'static str, _: &mut T) {
        self.0.push(key);
    }
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, _: &mut T, _: T) {
        self.0.push(key);
    }
    fn optional<T: Field>(&mut self, key: &'static str, _: &mut Option<T>) {
        self.0.push(key);
    }
}

/// Collects the keys a walk names with their values, leaving out a key at its default.
#[derive(Default)]
pub struct EntryWriter(pub Vec<(&'static str, Value)>);

impl EntryWriter {
    fn put<T: Serialize>(&mut self, key: &'static str, value: &T) {
        // NB: every field is plain data; serde_json cannot fail on it.
        if let Ok(value) = serde_json::to_value(value) {
            self.0.push((key, value));
        }
    }
}

impl Form for EntryWriter {
    fn required<T: Field>(&mut self, key: &'static str, value: &mut T) {
        self.put(key, value);
    }
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, value: &mut T, default: T) {
        if *value != default {
            self.put(key, value);
        }
    }
    fn optional<T: Field>(&mut self, key: &'static str, value: &mut Option<T>) {
        if let Some(value) = value {
            self.put(key, value);
        }
    }
}

/// Collects the keys a walk names as JSON Schema properties.
pub struct SchemaForm<'g> {
    generator: &'g mut schemars::SchemaGenerator,
    properties: Vec<(&'static str, schemars::Schema)>,
    required: Vec<&'static str>,
}

impl Form for SchemaForm<'_> {
    fn required<T: Field>(&mut self, key: &'static str, _: &mut T) {
        self.properties
            .push((key, self.generator.subschema_for::<T>()));
        self.required.push(key);
    }
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, _: &mut T, _: T) {
        self.properties
            .push((key, self.generator.subschema_for::<T>()));
    }
    fn optional<T: Field>(&mut self, key: &'static str, _: &mut Option<T>) {
        self.properties
            .push((key, self.generator.subschema_for::<T>()));
    }
}

impl KindSchema {
    /// The schema of kind `kind`, from the keys `walk` names: a fault's or a write's walk.
    pub fn walked(
        generator: &mut schemars::SchemaGenerator,
        kind: &'static str,
        walk: impl FnOnce(&mut SchemaForm<'_>),
    ) -> Self {
        let mut form = SchemaForm {
            generator,
            properties: Vec::new(),
            required: Vec::new(),
        };
        walk(&mut form);
        Self {
            kind,
            properties: form.properties,
            required: form.required,
        }
    }
}

/// One kind's keys for a JSON Schema.
#[derive(Debug, Clone)]
pub struct KindSchema {
    /// The `kind:`.
    pub kind: &'static str,
    /// Each key it takes, with the schema of its value, in walk order.
    pub properties: Vec<(&'static str, schemars::Schema)>,
    /// The keys it needs.
    pub required: Vec<&'static str>,
}

/// `{ kind: http_error, status: 503, for: 3m }`: `kind` first, then the keys in walk order.
impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entries = self.entries();
        let mut map = serializer.serialize_map(Some(entries.len() + 1))?;
        map.serialize_entry("kind", self.kind())?;
        for (key, value) in &entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The same form read back: every key typed and checked as a scenario's timeline entry is.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Fault;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a fault: a mapping with `kind` and the keys its kind takes")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Fault, M::Error> {
                let mut kind = None;
                let mut entries = Vec::new();
                let mut seen = BTreeSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    if key == "kind" {
                        kind = Some(map.next_value::<String>()?);
                    } else {
                        entries.push((key, map.next_value::<Value>()?, ()));
                    }
                }
                let kind = kind.ok_or_else(|| de::Error::missing_field("kind"))?;
                Fault::read(&kind, entries, (), &[])
                    .map_err(|e| de::Error::custom(format!("at `{}`: {}", e.key, e.message)))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::target::TargetVerb;
    use crate::fault::wire_shape::GoneMessage;

    fn every_kind_with_every_key() -> Vec<Fault> {
        let target = Target {
            verbs: vec![TargetVerb::Watch],
            window: Some(Duration::from_secs(90)),
            count: Some(2),
            path: Some("/api/v1".into()),
            query: Some("watch=".into()),
        };
        let mut faults: Vec<Fault> = FaultKind::ALL.iter().map(|&k| Fault::blank(k)).collect();
        for fault in &mut faults {
            match fault {
                Fault::Idle { duration }
                | Fault::DropBookmarks { duration }
                | Fault::StaleBookmarks { duration }
                | Fault::EmptyBookmarks { duration } => *duration = Duration::from_secs(60),
                Fault::EarlyBookmarks { duration, lag } => {
                    (*duration, *lag) = (Duration::from_secs(60), Duration::from_secs(9));
                }
                Fault::Compact { retain } => *retain = Some(Duration::from_secs(5)),
                Fault::Watch410 {
                    form,
                    message,
                    code,
                    target: t,
                } => {
                    (*form, *message, *code) = (GoneForm::Http, Some(GoneMessage::Etcd), false);
                    *t = target.clone();
                }
                Fault::HttpError {
                    status,
                    body,
                    retry_after,
                    target: t,
                } => {
                    (*status, *body, *retry_after) = (429, ErrorBody::Text, Some(7));
                    *t = target.clone();
                }
                Fault::Latency { delay, on, .. } => {
                    (*delay, *on) = (Duration::from_millis(1500), LatencyOn::Events);
                }
                Fault::Restart {
                    restart,
                    down,
                    drain,
                } => {
                    (*restart, *down, *drain) = (
                        Restart::Regress { by: 3 },
                        Duration::from_secs(7),
                        Duration::from_secs(30),
                    );
                }
                Fault::CutStream { how, target: t } => {
                    *how = Cut::MidChunk;
                    *t = target.clone();
                }
                _ => {}
            }
        }
        faults
    }

    #[test]
    fn every_kind_is_named_once_and_reads_back_what_it_writes() {
        let kinds = Fault::kinds();
        assert_eq!(kinds.len(), kinds.iter().collect::<BTreeSet<_>>().len());
        for fault in every_kind_with_every_key() {
            let entries = fault
                .entries()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v, ()))
                .collect();
            assert_eq!(
                Fault::read(fault.kind(), entries, (), &[]),
                Ok(fault.clone())
            );
            let json = serde_json::to_value(&fault).unwrap();
            assert_eq!(json["kind"], fault.kind());
            assert_eq!(serde_json::from_value::<Fault>(json).unwrap(), fault);
        }
    }
}
