//! Reading a fault from a timeline entry's keys ([`Fault::read`]): the walk of `form.rs` with a
//! reader that takes each key as the walk names it, typed, and says which key is at fault, why
//! and where ([`KeyError`]).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::faults::Fault;
use super::form::{Field, Form};
use crate::trace::FaultKind;

impl Fault {
    /// Reads a fault of kind `kind` from the entry's other keys, each with the position `P` of
    /// its value; `at` is the entry's own position, for a key it lacks, and `also` the keys the
    /// entry itself takes besides (`every`, `until`), for messages. Every key is checked
    /// against the kind, typed, and the fault as a whole is checked ([`Fault::check`]).
    ///
    /// # Errors
    /// The first key at fault, why, and where.
    pub fn read<P: Copy>(
        kind: &str,
        entries: Vec<(String, Value, P)>,
        at: P,
        also: &[&str],
    ) -> Result<Self, KeyError<P>> {
        let Some(mut fault) = FaultKind::named(kind).map(Self::blank) else {
            return Err(KeyError::unknown_kind(kind, &Self::kinds(), at));
        };
        let mut reader = EntryReader::new(kind, entries, at);
        fault.walk(&mut reader);
        if let Some(error) = reader.first {
            return Err(error);
        }
        if let Some((key, _, at)) = reader.entries.into_iter().next() {
            let takes: Vec<&str> = reader
                .read
                .iter()
                .map(|(k, _)| *k)
                .chain(also.iter().copied())
                .collect();
            return Err(KeyError::not_taken(&key, kind, &takes, at));
        }
        fault.check().map_err(|(key, message)| KeyError {
            key: key.to_owned(),
            message,
            at: reader
                .read
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(at, |(_, p)| *p),
        })?;
        Ok(fault)
    }
}

/// A key of a timeline entry that is not what its kind takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError<P> {
    /// The key path within the entry: `status`, `verbs[1]`.
    pub key: String,
    /// What is wrong, in words.
    pub message: String,
    /// Where.
    pub at: P,
}

impl<P> KeyError<P> {
    /// `kind:` names no kind of this entry: one of `kinds` was meant.
    pub(crate) fn unknown_kind(kind: &str, kinds: &[&str], at: P) -> Self {
        Self {
            key: "kind".into(),
            message: format!(
                "unknown variant `{kind}`, expected one of {}",
                kinds.join(", ")
            ),
            at,
        }
    }

    /// `key` is not one of the keys `kind` takes (`takes`), with the closest if one is near.
    pub(crate) fn not_taken(key: &str, kind: &str, takes: &[&str], at: P) -> Self {
        let mut message = if takes.is_empty() {
            format!("`{key}` does not apply to `kind: {kind}`, which takes no other keys")
        } else {
            format!(
                "`{key}` does not apply to `kind: {kind}`, which takes {}",
                takes.join(", ")
            )
        };
        if let Some(meant) = crate::suggest::closest(key, takes.iter().copied()) {
            message.push_str(&format!("; did you mean `{meant}`?"));
        }
        Self {
            key: key.to_owned(),
            message,
            at,
        }
    }
}

/// Fills a blank value (a fault, a workload write) from a timeline entry's keys, taking each
/// as the walk names it, typed; what was wrong is kept in the order the walk met it.
pub(crate) struct EntryReader<'a, P> {
    kind: &'a str,
    /// The keys not taken yet.
    pub(crate) entries: Vec<(String, Value, P)>,
    at: P,
    /// Every key the kind takes, with where it was read (or the entry's place when absent).
    pub(crate) read: Vec<(&'static str, P)>,
    /// The first thing wrong, whatever it was.
    pub(crate) first: Option<KeyError<P>>,
    /// The first value that is not what its key takes.
    pub(crate) bad_value: Option<KeyError<P>>,
    /// The first key the kind needs that the entry lacks.
    pub(crate) missing: Option<KeyError<P>>,
}

impl<'a, P: Copy> EntryReader<'a, P> {
    /// A reader of an entry of kind `kind` at `at` whose other keys are `entries`.
    pub(crate) fn new(kind: &'a str, entries: Vec<(String, Value, P)>, at: P) -> Self {
        Self {
            kind,
            entries,
            at,
            read: Vec::new(),
            first: None,
            bad_value: None,
            missing: None,
        }
    }

    /// Takes `key`'s value, typed, if the entry has it.
    fn take<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        let Some(i) = self.entries.iter().position(|(k, _, _)| k == key) else {
            self.read.push((key, self.at));
            return None;
        };
        let (_, value, at) = self.entries.remove(i);
        self.read.push((key, at));
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(value) => Some(value),
            Err(error) => {
                let path = error.path().to_string();
                let error = KeyError {
                    key: if path == "." {
                        key.to_owned()
                    } else if path.starts_with('[') {
                        format!("{key}{path}")
                    } else {
                        format!("{key}.{path}")
                    },
                    message: error.into_inner().to_string(),
                    at,
                };
                self.bad_value.get_or_insert(error.clone());
                self.first.get_or_insert(error);
                None
            }
        }
    }
}

impl<P: Copy> Form for EntryReader<'_, P> {
    fn required<T: Field>(&mut self, key: &'static str, value: &mut T) {
        let present = self.entries.iter().any(|(k, _, _)| k == key);
        match self.take(key) {
            Some(read) => *value = read,
            None if !present => {
                let error = KeyError {
                    key: key.to_owned(),
                    message: format!("`kind: {}` needs `{key}`", self.kind),
                    at: self.at,
                };
                self.missing.get_or_insert(error.clone());
                self.first.get_or_insert(error);
            }
            None => {}
        }
    }

    fn or<T: Field + PartialEq>(&mut self, key: &'static str, value: &mut T, default: T) {
        *value = self.take(key).unwrap_or(default);
    }

    fn optional<T: Field>(&mut self, key: &'static str, value: &mut Option<T>) {
        *value = self.take(key);
    }

    fn invalid(&mut self, key: &'static str, why: String) {
        let at = self
            .read
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.at, |(_, p)| *p);
        self.first.get_or_insert(KeyError {
            key: key.to_owned(),
            message: why,
            at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::target::Target;
    use crate::trace::Cut;

    #[test]
    fn a_key_at_its_default_is_left_out_and_a_key_of_another_kind_is_refused() {
        let cut = Fault::CutStream {
            how: Cut::Reset,
            target: Target::default(),
        };
        assert!(cut.entries().is_empty());
        let error = Fault::read("compact", vec![("how".into(), "reset".into(), 9)], 1, &[])
            .expect_err("compact takes no `how`");
        assert_eq!((error.key.as_str(), error.at), ("how", 9));
        assert!(
            error.message.contains("which takes retain"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_missing_key_is_placed_at_the_entry_and_a_bad_value_at_itself() {
        let missing = Fault::read::<u32>("http_error", vec![], 1, &[]).unwrap_err();
        assert_eq!(
            (missing.key.as_str(), missing.message.as_str(), missing.at),
            ("status", "`kind: http_error` needs `status`", 1)
        );
        let bad = Fault::read(
            "http_error",
            vec![
                ("status".into(), 503.into(), 2),
                ("verbs".into(), serde_json::json!(["list", "lst"]), 3),
            ],
            1,
            &[],
        )
        .unwrap_err();
        assert_eq!((bad.key.as_str(), bad.at), ("verbs[1]", 3));
    }
}
