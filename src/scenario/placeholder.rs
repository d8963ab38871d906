//! Placeholders in an update's strings, so that a repeated update changes its object each time.
//!
//! kube-apiserver skips an update that leaves the object as it was: etcd3's `GuaranteedUpdate`
//! compares the new bytes with the stored ones and, when equal, answers the existing object
//! without writing (no new resourceVersion, no watch event; staging/src/k8s.io/apiserver/pkg/
//! storage/etcd3/store.go, "if !origState.stale && bytes.Equal(data, origState.data)"). A
//! heartbeat that writes the same body every few seconds is therefore a write only once. Real
//! heartbeats change something each time (a Lease's `spec.renewTime`, a Pod's status), and a
//! scenario says what with these:
//!
//! - `{n}`: the repeat's number, from 1 (`every:`/`until:`), filled in by the loader;
//! - `{now}`: the time of the write as a `MicroTime` (RFC 3339 with microseconds, as a Lease
//!   holder writes `renewTime`), filled in by the server from its own clock.

use std::collections::BTreeMap;

use serde_json::Value;

use super::spec::{Action, Write};

/// The repeat's number.
pub(crate) const REPEAT: &str = "{n}";
/// The time of the write.
pub(crate) const NOW: &str = "{now}";

/// A valid `MicroTime` standing for `{now}` where the loader checks what an update makes of
/// its object against the kind's schema.
pub(crate) const SAMPLE_NOW: &str = "2006-01-02T15:04:05.000000Z";

/// Whether any string in `body` holds `placeholder`.
pub(crate) fn holds(body: &BTreeMap<String, Value>, placeholder: &str) -> bool {
    body.values().any(|v| value_holds(v, placeholder))
}

fn value_holds(value: &Value, placeholder: &str) -> bool {
    match value {
        Value::String(s) => s.contains(placeholder),
        Value::Array(items) => items.iter().any(|v| value_holds(v, placeholder)),
        Value::Object(fields) => fields.values().any(|v| value_holds(v, placeholder)),
        _ => false,
    }
}

/// `body` with `placeholder` replaced by `with` in every string.
pub(crate) fn fill(
    body: &BTreeMap<String, Value>,
    placeholder: &str,
    with: &str,
) -> BTreeMap<String, Value> {
    body.iter()
        .map(|(k, v)| (k.clone(), fill_value(v, placeholder, with)))
        .collect()
}

fn fill_value(value: &Value, placeholder: &str, with: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(placeholder, with)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| fill_value(v, placeholder, with))
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), fill_value(v, placeholder, with)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `n`th repeat of `action` (from 1): `{n}` in an update's strings and label values is `n`.
pub(super) fn numbered(action: &Action, n: u32) -> Action {
    let Action::Write(Write::Update {
        name,
        namespace,
        labels,
        body,
    }) = action
    else {
        return action.clone();
    };
    let n = n.to_string();
    Action::Write(Write::Update {
        name: name.clone(),
        namespace: namespace.clone(),
        labels: labels.as_ref().map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.replace(REPEAT, &n)))
                .collect()
        }),
        body: if holds(body, REPEAT) {
            fill(body, REPEAT, &n)
        } else {
            body.clone()
        },
    })
}

/// A `MicroTime` as the apiserver writes one (`metav1.RFC3339Micro`).
pub(crate) fn micro_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_placeholder_is_filled_in_every_string_however_deep() {
        let body = map(json!({
            "data": { "beat": "{n}", "note": "beat {n} of many" },
            "list": [{ "x": "{n}" }, 3],
            "count": 7
        }));
        assert!(holds(&body, REPEAT));
        assert!(!holds(&body, NOW));
        assert_eq!(
            serde_json::to_value(fill(&body, REPEAT, "12")).unwrap(),
            json!({
                "data": { "beat": "12", "note": "beat 12 of many" },
                "list": [{ "x": "12" }, 3],
                "count": 7
            })
        );
    }

    #[test]
    fn a_micro_time_has_six_fraction_digits_and_a_z() {
        let at: jiff::Timestamp = "2026-12-02T18:05:46.5Z".parse().unwrap();
        assert_eq!(micro_time(at), "2026-12-02T18:05:46.500000Z");
    }

    #[test]
    fn the_sample_now_is_a_micro_time() {
        let at: jiff::Timestamp = SAMPLE_NOW.parse().unwrap();
        assert_eq!(micro_time(at), SAMPLE_NOW);
    }
}
