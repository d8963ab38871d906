//! An object's fields other than `metadata`, as the store keeps them ([`ObjectBody`]): each
//! top-level field shared between the object's versions until an update changes it.
//!
//! History keeps every version of every object (etcd keeps every revision until compaction), so
//! an update that copied the whole body would copy a Pod's `spec` thousands of times to change
//! its `status.message`. A merge patch (RFC 7386) only replaces what it names, so a version
//! shares every top-level field the patch leaves alone with the version before it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::field_label::Fields;
use crate::merge_patch::merged;

/// An object's top-level fields, each shared (`Arc`) with the versions that have it unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ObjectBody(BTreeMap<Arc<str>, Arc<Value>>);

impl ObjectBody {
    /// No fields: what a `PartialObjectMetadata` carries besides its metadata.
    pub(crate) const EMPTY: Self = Self(BTreeMap::new());

    /// The fields of a scenario's object.
    pub(crate) fn new(fields: &BTreeMap<String, Value>) -> Self {
        Self(
            fields
                .iter()
                .map(|(name, value)| (Arc::from(name.as_str()), Arc::new(value.clone())))
                .collect(),
        )
    }

    /// This body with `patch` applied as a JSON merge patch: the fields it names are made
    /// anew, the others shared with `self`.
    pub(crate) fn patched(&self, patch: &BTreeMap<String, Value>) -> Self {
        let mut fields = self.0.clone();
        for (name, change) in patch {
            match merged(self.get(name), change) {
                Some(value) => {
                    let key = fields
                        .get_key_value(name.as_str())
                        .map_or_else(|| Arc::from(name.as_str()), |(key, _)| Arc::clone(key));
                    fields.insert(key, Arc::new(value));
                }
                None => {
                    fields.remove(name.as_str());
                }
            }
        }
        Self(fields)
    }

    /// The top-level field `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).map(|value| &**value)
    }
}

impl Fields for ObjectBody {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl Serialize for ObjectBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(&**name, &**value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::merge_patch::merge_patch;

    fn map(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_patch_gives_what_merge_patch_gives_and_shares_the_fields_it_leaves_alone() {
        let before = map(json!({
            "spec": { "nodeName": "n1", "containers": [{ "name": "app" }] },
            "status": { "phase": "Running", "message": "step 1" },
            "data": { "a": "1" }
        }));
        let patch = map(json!({
            "status": { "message": "step 2", "reason": null },
            "data": null,
            "extra": { "kept": 1, "dropped": null }
        }));
        let body = ObjectBody::new(&before);
        let after = body.patched(&patch);
        let mut expected = before.clone();
        merge_patch(&mut expected, &patch);
        assert_eq!(
            serde_json::to_value(&after).unwrap(),
            serde_json::to_value(&expected).unwrap()
        );
        assert!(Arc::ptr_eq(&body.0["spec"], &after.0["spec"]));
        assert!(!Arc::ptr_eq(&body.0["status"], &after.0["status"]));
        assert_eq!(
            body.get("data"),
            Some(&json!({ "a": "1" })),
            "the old version is untouched"
        );
    }

    #[test]
    fn a_patch_that_changes_nothing_leaves_an_equal_body() {
        let body = ObjectBody::new(&map(json!({ "status": { "phase": "Running" } })));
        assert_eq!(
            body.patched(&map(json!({ "status": { "phase": "Running" } }))),
            body
        );
        assert_ne!(
            body.patched(&map(json!({ "status": { "phase": "Failed" } }))),
            body
        );
    }
}
