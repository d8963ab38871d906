//! The file form of a workload write, `kind:` first and then the keys its kind takes, walked
//! once as a fault's are (`fault/form.rs`).
//!
//! [`Write::walk`] names each kind's keys once, in the order they are written, and
//! [`Write::kinds`] is the one table of write kinds. Reading a timeline entry
//! ([`Write::read`]), the keys a kind takes (for messages, [`Write::keys_of`]), the `kind:` a
//! write is named by ([`Write::kind`]) and the JSON Schema editors validate with
//! ([`Write::schemas`]) all follow that walk, so a key is spelled in one place.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::file::REPEAT;
use super::spec::{ObjectSpec, Write};
use crate::fault::{EntryReader, Form, KeyError, KeyNames, KindSchema};

impl Write {
    /// Every kind, by the name `kind:` gives it, with a blank value the walk fills in.
    fn blanks() -> [(&'static str, Self); 3] {
        let (name, namespace) = (String::new(), None);
        [
            (
                "create",
                Self::Create(ObjectSpec {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    labels: BTreeMap::new(),
                    body: Arc::default(),
                }),
            ),
            (
                "update",
                Self::Update {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    labels: None,
                    body: BTreeMap::new(),
                },
            ),
            ("delete", Self::Delete { name, namespace }),
        ]
    }

    /// Every `kind:` a write can be written with.
    #[must_use]
    pub(crate) fn kinds() -> Vec<&'static str> {
        Self::blanks().iter().map(|(name, _)| *name).collect()
    }

    /// The `kind:` this write is written with.
    #[must_use]
    pub(crate) fn kind(&self) -> &'static str {
        let mine = std::mem::discriminant(self);
        Self::blanks()
            .into_iter()
            .find(|(_, blank)| std::mem::discriminant(blank) == mine)
            .map_or("", |(name, _)| name)
    }

    /// The blank write of kind `name`, if there is such a kind.
    fn blank(name: &str) -> Option<Self> {
        Self::blanks()
            .into_iter()
            .find(|(kind, _)| *kind == name)
            .map(|(_, blank)| blank)
    }

    /// Whether an entry of this write's kind can repeat (`every`, `until`): an object is
    /// created and deleted once, and updated any number of times.
    fn repeats(&self) -> bool {
        matches!(self, Self::Update { .. })
    }

    /// Visits every key of this write's kind, in the order it is written.
    pub(crate) fn walk(&mut self, f: &mut impl Form) {
        match self {
            Self::Create(ObjectSpec {
                name,
                namespace,
                labels,
                body,
            }) => {
                f.required("name", name);
                f.optional("namespace", namespace);
                f.or("labels", labels, BTreeMap::new());
                f.or("body", body, Arc::default());
            }
            Self::Update {
                name,
                namespace,
                labels,
                body,
            } => {
                f.required("name", name);
                f.optional("namespace", namespace);
                f.optional("labels", labels);
                f.or("body", body, BTreeMap::new());
            }
            Self::Delete { name, namespace } => {
                f.required("name", name);
                f.optional("namespace", namespace);
            }
        }
    }

    /// The keys a kind takes besides `at` and `kind`, in the order they are written, the
    /// repeat's last; `None` for no such kind.
    #[must_use]
    pub(crate) fn keys_of(kind: &str) -> Option<Vec<&'static str>> {
        let mut blank = Self::blank(kind)?;
        let mut keys = KeyNames::default();
        blank.walk(&mut keys);
        if blank.repeats() {
            keys.0.extend(REPEAT);
        }
        Some(keys.0)
    }

    /// Reads a write of kind `kind` from an entry's other keys, each with the position `P` of
    /// its value; `repeat` are the repeat's keys the entry has, with theirs, and `at` is the
    /// entry's own position, for a key it lacks. Every key is checked against the kind first,
    /// then typed; the write comes back with where each key the kind takes was read.
    ///
    /// # Errors
    /// The first key at fault, why, and where.
    pub(crate) fn read<P: Copy>(
        kind: &str,
        entries: Vec<(String, Value, P)>,
        repeat: &[(&'static str, P)],
        at: P,
    ) -> Result<Placed<P>, KeyError<P>> {
        let (Some(mut write), Some(takes)) = (Self::blank(kind), Self::keys_of(kind)) else {
            return Err(KeyError::unknown_kind(kind, &Self::kinds(), at));
        };
        if let Some((extra, place)) = entries
            .iter()
            .map(|(k, _, place)| (k.as_str(), *place))
            .chain(repeat.iter().copied())
            .find(|(k, _)| !takes.contains(k))
        {
            return Err(KeyError::not_taken(extra, kind, &takes, place));
        }
        let mut reader = EntryReader::new(kind, entries, at);
        write.walk(&mut reader);
        // A bad value is said before a missing key, whichever the walk met first.
        match reader.bad_value.or(reader.missing) {
            Some(error) => Err(error),
            None => Ok(Placed {
                write,
                places: reader.read,
                at,
            }),
        }
    }

    /// Each kind's keys as JSON Schema properties and which of them it needs, with whether it
    /// repeats (takes `every` and `until`), for editors.
    pub(crate) fn schemas(generator: &mut schemars::SchemaGenerator) -> Vec<(KindSchema, bool)> {
        Self::blanks()
            .into_iter()
            .map(|(kind, mut blank)| {
                let schema = KindSchema::walked(generator, kind, |f| blank.walk(f));
                (schema, blank.repeats())
            })
            .collect()
    }
}

/// A write read from a timeline entry, with where each key its kind takes was read.
#[derive(Debug)]
pub(crate) struct Placed<P> {
    pub(crate) write: Write,
    places: Vec<(&'static str, P)>,
    /// The entry's own place.
    at: P,
}

impl<P: Copy> Placed<P> {
    /// Where `key`'s value was read; the entry's own place when it has no such key.
    pub(crate) fn place(&self, key: &str) -> P {
        self.places
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.at, |(_, place)| *place)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fault::EntryWriter;

    /// The keys a write is written with (`kind:` aside), each with its value: a key left at
    /// its default is left out. Only the round trip needs it: a scenario's writes are read,
    /// never written back from their typed form.
    fn entries(write: &Write) -> Vec<(String, Value, ())> {
        let mut writer = EntryWriter::default();
        write.clone().walk(&mut writer);
        writer
            .0
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value, ()))
            .collect()
    }

    fn every_kind_with_every_key() -> Vec<Write> {
        let labels: BTreeMap<String, String> = [("app".into(), "web".into())].into();
        let body: BTreeMap<String, Value> = [("data".into(), json!({ "a": "b" }))].into();
        vec![
            Write::Create(ObjectSpec {
                name: "a".into(),
                namespace: Some("default".into()),
                labels: labels.clone(),
                body: Arc::new(body.clone()),
            }),
            Write::Update {
                name: "a".into(),
                namespace: Some("default".into()),
                labels: Some(labels),
                body,
            },
            Write::Delete {
                name: "a".into(),
                namespace: Some("default".into()),
            },
        ]
    }

    #[test]
    fn every_kind_is_named_once_and_reads_back_what_it_writes() {
        let writes = every_kind_with_every_key();
        let kinds: Vec<&str> = writes.iter().map(Write::kind).collect();
        assert_eq!(kinds, Write::kinds());
        for write in writes {
            let read = Write::read(write.kind(), entries(&write), &[], ()).unwrap();
            assert_eq!(read.write, write);
        }
    }

    #[test]
    fn the_schema_of_a_kind_has_exactly_the_keys_the_reader_takes() {
        let mut generator = schemars::SchemaGenerator::default();
        for (schema, repeats) in Write::schemas(&mut generator) {
            let mut keys: Vec<&str> = schema.properties.iter().map(|(k, _)| *k).collect();
            if repeats {
                keys.extend(REPEAT);
            }
            assert_eq!(Some(keys), Write::keys_of(schema.kind), "{}", schema.kind);
            assert_eq!(schema.required, ["name"], "{}", schema.kind);
        }
    }

    #[test]
    fn a_key_of_another_kind_is_refused_before_a_missing_name_and_a_bad_value_after_it() {
        let error = Write::read("delete", vec![("body".into(), json!({}), 2)], &[], 1)
            .expect_err("delete takes no body");
        assert_eq!((error.key.as_str(), error.at), ("body", 2));
        assert!(
            error.message.contains("which takes name, namespace"),
            "{}",
            error.message
        );
        let error = Write::read("create", vec![], &[("every", 3)], 1).unwrap_err();
        assert_eq!((error.key.as_str(), error.at), ("every", 3));
        let error = Write::read(
            "update",
            vec![("labels".into(), json!({ "a": 1 }), 4)],
            &[],
            1,
        )
        .unwrap_err();
        assert_eq!((error.key.as_str(), error.at), ("labels.a", 4));
        let error = Write::read::<u32>("update", vec![], &[], 1).unwrap_err();
        assert_eq!(
            (error.key.as_str(), error.message.as_str(), error.at),
            ("name", "`kind: update` needs `name`", 1)
        );
    }
}
