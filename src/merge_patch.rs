//! JSON merge patch (RFC 7386, `kubectl patch --type merge`), the server's rule for an update:
//! an object merges into an object key by key, `null` removes the field, anything else replaces
//! it. The simulated apiserver's store applies it to every update; the scenario loader replays
//! it to check what each update makes of its object. It sits below both, so neither imports the
//! other for it.

use std::collections::BTreeMap;

/// Applies `patch` to an object's fields as a JSON merge patch (RFC 7386): an object merges
/// into an object key by key, `null` removes the field, anything else replaces it.
pub(crate) fn merge_patch(
    body: &mut BTreeMap<String, serde_json::Value>,
    patch: &BTreeMap<String, serde_json::Value>,
) {
    for (field, value) in patch {
        match (body.get_mut(field), value) {
            (_, serde_json::Value::Null) => {
                body.remove(field);
            }
            (Some(serde_json::Value::Object(target)), serde_json::Value::Object(patch)) => {
                merge_map(target, patch);
            }
            _ => {
                body.insert(field.clone(), strip_nulls(value));
            }
        }
    }
}

/// One field after `patch` is merged into its `current` value (`None`: the field is removed):
/// [`merge_patch`]'s rule for one field, for a caller that keeps its fields apart.
pub(crate) fn merged(
    current: Option<&serde_json::Value>,
    patch: &serde_json::Value,
) -> Option<serde_json::Value> {
    match (current, patch) {
        (_, serde_json::Value::Null) => None,
        (Some(serde_json::Value::Object(target)), serde_json::Value::Object(patch)) => {
            let mut target = target.clone();
            merge_map(&mut target, patch);
            Some(serde_json::Value::Object(target))
        }
        _ => Some(strip_nulls(patch)),
    }
}

fn merge_map(
    target: &mut serde_json::Map<String, serde_json::Value>,
    patch: &serde_json::Map<String, serde_json::Value>,
) {
    for (field, value) in patch {
        match (target.get_mut(field), value) {
            (_, serde_json::Value::Null) => {
                target.remove(field);
            }
            (Some(serde_json::Value::Object(inner)), serde_json::Value::Object(patch)) => {
                merge_map(inner, patch);
            }
            _ => {
                target.insert(field.clone(), strip_nulls(value));
            }
        }
    }
}

/// A patch value set where nothing was: its `null`s remove nothing and are left out (RFC 7386).
fn strip_nulls(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_merge_patch_merges_objects_removes_nulls_and_replaces_the_rest() {
        let mut body = map(json!({
            "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "web" } } },
            "status": { "phase": "Running" },
            "list": [1, 2]
        }));
        merge_patch(
            &mut body,
            &map(json!({
                "spec": { "replicas": 5, "paused": null },
                "status": null,
                "list": [3],
                "data": { "a": "b", "gone": null }
            })),
        );
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "spec": { "replicas": 5, "selector": { "matchLabels": { "app": "web" } } },
                "list": [3],
                "data": { "a": "b" }
            })
        );
    }
}
