//! A fault written out by the walk of `form.rs`: the keys it is written with
//! ([`Fault::entries`]), its serde form (`Serialize`, and `Deserialize` through
//! [`Fault::read`]), and each kind's keys as JSON Schema for editors ([`Fault::schemas`]).

use std::collections::BTreeSet;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::faults::Fault;
use super::faults::FaultKind;
use super::form::{Field, Form};

impl Fault {
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
    use std::time::Duration;

    use super::*;
    use crate::fault::restart::Restart;
    use crate::fault::target::{Target, TargetVerb};
    use crate::fault::wire_shape::Cut;
    use crate::fault::wire_shape::{ErrorBody, GoneForm, GoneMessage, LatencyOn};

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
