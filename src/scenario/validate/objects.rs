//! The objects of a scenario: those listed and generated at time zero, and the object a
//! `create` writes; each name, namespace and body checked as kube-apiserver would.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_saphyr::{Location as Place, Spanned};

use super::validator::Validator;
use crate::openapi::{Kind, SERVER_SET, Violation};
use crate::scenario::error::{Error, Result};
use crate::scenario::file::{GenerateFile, ObjectFile};
use crate::scenario::spec::ObjectSpec;

/// Generated objects per `generate` entry at most: a large cluster's biggest collections.
const MAX_GENERATED: u32 = 1_000_000;

/// An object's fields besides `metadata`, shared.
type Body = Arc<BTreeMap<String, serde_json::Value>>;
/// What the loader knows of an object as the timeline goes: its body and labels, by namespace
/// and name.
pub(super) type KnownBodies = BTreeMap<(Option<String>, String), (Body, BTreeMap<String, String>)>;

/// The objects present at time zero, and what the timeline starts knowing of them.
pub(super) struct StartingObjects {
    pub(super) objects: Vec<ObjectSpec>,
    pub(super) known: KnownBodies,
}

impl Validator<'_> {
    /// The listed objects, then the generated ones; each names an object of its own.
    pub(super) fn objects(
        &self,
        listed: Vec<ObjectFile>,
        generate: Vec<GenerateFile>,
        namespaced: bool,
    ) -> Result<StartingObjects> {
        let mut objects = Vec::new();
        let mut known = BTreeMap::new();
        for (i, object) in listed.into_iter().enumerate() {
            let key = format!("resource.objects[{i}]");
            let object = self.object(&key, object, namespaced)?;
            let id = (object.namespace.clone(), object.name.clone());
            if known
                .insert(id, (object.body.clone(), object.labels.clone()))
                .is_some()
            {
                return Err(self.invalid(
                    key,
                    None,
                    format!(
                        "object {} is listed twice",
                        display_key(&object.namespace, &object.name)
                    ),
                ));
            }
            objects.push(object);
        }
        for (i, generate) in generate.into_iter().enumerate() {
            let key = format!("resource.generate[{i}]");
            let here = generate.name.referenced;
            for object in self.generated(&key, generate, namespaced)? {
                let id = (object.namespace.clone(), object.name.clone());
                if known
                    .insert(id, (object.body.clone(), object.labels.clone()))
                    .is_some()
                {
                    return Err(self.invalid(
                        format!("{key}.name"),
                        Some(&here),
                        format!(
                            "generates {}, which another entry already holds",
                            display_key(&object.namespace, &object.name)
                        ),
                    ));
                }
                objects.push(object);
            }
        }
        Ok(StartingObjects { objects, known })
    }

    /// One object at `key`, as kube-apiserver would store it.
    pub(super) fn object(
        &self,
        key: &str,
        raw: ObjectFile,
        namespaced: bool,
    ) -> Result<ObjectSpec> {
        let here = raw.name.referenced;
        let namespace = self.namespace(key, raw.namespace, namespaced, Some(&here))?;
        if server_set_field(&raw.body).is_some() {
            return Err(self.invalid(format!("{key}.body"), Some(&here), server_set_hint()));
        }
        if let Some(kind) = &self.kind
            && let Err(violation) = kind.check_body(&raw.body)
        {
            return Err(self.unstorable(key, kind, &violation, &here));
        }
        Ok(ObjectSpec {
            name: self.name(key, raw.name.value, Some(&here))?,
            namespace,
            labels: raw.labels,
            body: Arc::new(raw.body),
        })
    }

    /// An object kube-apiserver would refuse, at `key.body.<field>`.
    pub(super) fn unstorable(
        &self,
        key: &str,
        kind: &Kind,
        violation: &Violation,
        here: &Place,
    ) -> Error {
        self.invalid(
            format!("{key}.body.{}", violation.path),
            Some(here),
            format!(
                "kube-apiserver could not have stored this {}: {violation}",
                kind.name()
            ),
        )
    }

    /// The objects a `generate` entry stands for, each checked as a listed object is.
    fn generated(&self, key: &str, raw: GenerateFile, namespaced: bool) -> Result<Vec<ObjectSpec>> {
        let (count, counted) = (raw.count.value, raw.count.referenced);
        let (pattern, here) = (raw.name.value, raw.name.referenced);
        if count == 0 || count > MAX_GENERATED {
            return Err(self.invalid(
                format!("{key}.count"),
                Some(&counted),
                format!("must be between 1 and {MAX_GENERATED}, found {count}"),
            ));
        }
        if !pattern.contains("{i}") {
            return Err(self.invalid(
                format!("{key}.name"),
                Some(&here),
                format!(
                    "{pattern:?} has no `{{i}}`: every generated object needs a name of its own"
                ),
            ));
        }
        // The first object is checked whole; the others differ only in their names, and the
        // longest of those is the last.
        let object = |i: u32| ObjectFile {
            name: Spanned::new(pattern.replace("{i}", &i.to_string()), here, here),
            namespace: raw.namespace.clone(),
            labels: raw.labels.clone(),
            body: raw.body.clone(),
        };
        let first = self.object(key, object(0), namespaced)?;
        self.name(
            key,
            pattern.replace("{i}", &(count - 1).to_string()),
            Some(&here),
        )?;
        Ok((0..count)
            .map(|i| ObjectSpec {
                name: pattern.replace("{i}", &i.to_string()),
                ..first.clone()
            })
            .collect())
    }

    /// A name kube-apiserver takes for an object (a DNS subdomain).
    pub(super) fn name(&self, key: &str, name: String, here: Option<&Place>) -> Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if valid {
            Ok(name)
        } else {
            Err(self.invalid(
                format!("{key}.name"),
                here,
                format!(
                    "{name:?} is not a valid object name (lowercase letters, digits, `-` and `.`)"
                ),
            ))
        }
    }

    /// The object's namespace: `default` when a namespaced object names none.
    pub(super) fn namespace(
        &self,
        key: &str,
        namespace: Option<String>,
        namespaced: bool,
        here: Option<&Place>,
    ) -> Result<Option<String>> {
        match (namespaced, namespace) {
            (true, None) => Ok(Some("default".to_owned())),
            (true, Some(ns)) if !ns.is_empty() && !ns.contains('/') => Ok(Some(ns)),
            (true, Some(ns)) => Err(self.invalid(format!("{key}.namespace"), here, format!("{ns:?} is not a valid namespace"))),
            (false, None) => Ok(None),
            (false, Some(_)) => Err(self.invalid(format!("{key}.namespace"), here, "the resource is cluster-scoped (`namespaced: false`), so objects take no namespace")),
        }
    }
}

/// `namespace/name`, or `name` for a cluster-scoped object.
pub(super) fn display_key(namespace: &Option<String>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

/// The first field of `body` that the server sets itself ([`SERVER_SET`]).
pub(super) fn server_set_field(body: &BTreeMap<String, serde_json::Value>) -> Option<&'static str> {
    SERVER_SET.iter().copied().find(|f| body.contains_key(*f))
}

/// What to write instead of the fields the server sets: "`metadata`, `kind` and `apiVersion`
/// are set by the server; …".
pub(super) fn server_set_hint() -> String {
    let fields: Vec<String> = SERVER_SET.iter().map(|f| format!("`{f}`")).collect();
    let (last, rest) = fields.split_last().expect("the server sets some fields");
    format!(
        "{} and {last} are set by the server; use `name`, `namespace` and `labels`",
        rest.join(", ")
    )
}
