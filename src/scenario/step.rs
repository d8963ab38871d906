//! One timeline entry, from its file form to a typed [`Action`]: a workload write (its keys are
//! here) or a fault (its keys are the fault's own, [`Fault::read`]). Every error names the key
//! and the place of its value.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_saphyr::{Location as Place, Spanned};

use super::error::Result;
use super::file::{ObjectFile, StepFile};
use super::load::{Validator, with_suggestion};
use super::model::{Action, Write};
use crate::fault::Fault;

/// The workload's kinds, and the keys each takes besides `at` and `kind`.
const WRITES: [(&str, &[&str]); 3] = [
    ("create", &["name", "namespace", "labels", "body"]),
    (
        "update",
        &["name", "namespace", "labels", "body", "every", "until"],
    ),
    ("delete", &["name", "namespace"]),
];

/// The keys that repeat an entry: every kind but `create` and `delete` takes them.
pub(super) const REPEAT: [&str; 2] = ["every", "until"];

/// Every `kind:` a timeline entry can have, writes first.
pub(super) fn kinds() -> Vec<&'static str> {
    WRITES
        .iter()
        .map(|(kind, _)| *kind)
        .chain(Fault::kinds())
        .collect()
}

impl Validator<'_> {
    /// The typed action of one entry.
    pub(super) fn action(&self, key: &str, raw: StepFile, namespaced: bool) -> Result<Action> {
        let kind = raw.kind.value.as_str();
        let here = raw.at.referenced;
        let Some((_, takes)) = WRITES.iter().find(|(k, _)| *k == kind) else {
            if Fault::keys_of(kind).is_none() {
                return Err(self.invalid(
                    format!("{key}.kind"),
                    Some(&raw.kind.referenced),
                    with_suggestion(format!(
                        "unknown variant `{kind}`, expected one of {}",
                        kinds().join(", ")
                    )),
                ));
            }
            return Fault::read(kind, raw.keys, here, &REPEAT)
                .map(Action::Fault)
                .map_err(|e| self.invalid(format!("{key}.{}", e.key), Some(&e.at), e.message));
        };
        let repeats = [("every", &raw.every), ("until", &raw.until)];
        if let Some((extra, at)) = raw
            .keys
            .iter()
            .map(|(k, _, at)| (k.as_str(), *at))
            .chain(
                repeats
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.referenced))),
            )
            .find(|(k, _)| !takes.contains(k))
        {
            let mut message = format!(
                "`{extra}` does not apply to `kind: {kind}`, which takes {}",
                takes.join(", ")
            );
            if let Some(meant) = crate::suggest::closest(extra, takes.iter().copied()) {
                message.push_str(&format!("; did you mean `{meant}`?"));
            }
            return Err(self.invalid(format!("{key}.{extra}"), Some(&at), message));
        }
        let mut keys = Keys {
            validator: self,
            key,
            keys: raw.keys,
        };
        let name: Option<Spanned<String>> = keys.take("name")?;
        let namespace: Option<String> = keys.take::<String>("namespace")?.map(|s| s.value);
        let labels: Option<BTreeMap<String, String>> = keys
            .take::<BTreeMap<String, String>>("labels")?
            .map(|s| s.value);
        let body: Option<Spanned<BTreeMap<String, Value>>> = keys.take("body")?;
        let Some(name) = name else {
            return Err(self.invalid(
                format!("{key}.name"),
                Some(&here),
                format!("`kind: {kind}` needs `name`"),
            ));
        };
        let write_name = |name: Spanned<String>| self.name(key, name.value, Some(&name.referenced));
        Ok(Action::Write(match kind {
            "create" => Write::Create(self.object(
                key,
                ObjectFile {
                    name,
                    namespace,
                    labels: labels.unwrap_or_default(),
                    body: body.map(|b| b.value).unwrap_or_default(),
                },
                namespaced,
            )?),
            "update" => {
                let name_at = name.referenced;
                let (body, body_at) =
                    body.map_or((BTreeMap::new(), here), |b| (b.value, b.referenced));
                // What the patch makes of the object is checked once the writes are replayed.
                if let Some(field) = ["metadata", "kind", "apiVersion"]
                    .into_iter()
                    .find(|f| body.contains_key(*f))
                {
                    return Err(self.invalid(
                        format!("{key}.body.{field}"),
                        Some(&body_at),
                        "`metadata`, `kind` and `apiVersion` are set by the server; use `name`, `namespace` and `labels`",
                    ));
                }
                Write::Update {
                    name: write_name(name)?,
                    namespace: self.namespace(key, namespace, namespaced, Some(&name_at))?,
                    labels,
                    body,
                }
            }
            _ => {
                let name_at = name.referenced;
                Write::Delete {
                    name: write_name(name)?,
                    namespace: self.namespace(key, namespace, namespaced, Some(&name_at))?,
                }
            }
        }))
    }
}

/// A write's keys, taken one by one and typed where they stand.
struct Keys<'v, 'a> {
    validator: &'v Validator<'a>,
    key: &'v str,
    keys: Vec<(String, Value, Place)>,
}

impl Keys<'_, '_> {
    fn take<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<Spanned<T>>> {
        let Some(i) = self.keys.iter().position(|(k, _, _)| k == name) else {
            return Ok(None);
        };
        let (_, value, at) = self.keys.remove(i);
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(value) => Ok(Some(Spanned::new(value, at, at))),
            Err(error) => {
                let path = error.path().to_string();
                let key = if path == "." {
                    format!("{}.{name}", self.key)
                } else {
                    format!("{}.{name}.{path}", self.key)
                };
                Err(self
                    .validator
                    .invalid(key, Some(&at), error.into_inner().to_string()))
            }
        }
    }
}
