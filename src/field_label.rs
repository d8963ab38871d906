//! The fields each built-in kind can be selected by (`fieldSelector`), as kube-apiserver 1.37
//! accepts them, and their values in an object.
//!
//! Two tables of upstream's meet here. A kind's field label conversion function decides which
//! labels a selector may name and words the refusal (k8s.io/kubernetes `pkg/apis/core/v1/
//! conversion.go`, `pkg/apis/batch/v1/conversion.go`); a kind without one gets
//! `runtime.DefaultMetaV1FieldSelectorConversion`'s refusal, which names `metadata.name` and
//! `metadata.namespace`. The registry's `ToSelectableFields` decides each field's value
//! (`pkg/registry/core/pod/strategy.go`, `core/event/strategy.go`, ...): a string field as it is,
//! a bool as `true`/`false`, a number in decimal, and the zero value when the field is absent,
//! as Go's typed objects have it. Checked against a real kube-apiserver 1.37.2 by the
//! conformance suite (`list-field-selector-*`).

use std::collections::BTreeMap;

use serde_json::Value;

/// How a value is read from the object's body.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// A string at a dotted path; `""` when absent.
    Text(&'static str),
    /// A bool at a dotted path; `false` when absent.
    Flag(&'static str),
    /// An integer at a dotted path; `0` when absent.
    Number(&'static str),
    /// The first of `status.podIPs`' `ip`.
    FirstPodIp,
    /// `source.component`, else `reportingComponent` (core/v1's name for
    /// `ReportingController`).
    EventSource,
    /// Accepted by the conversion, but not among the selectable fields: always `""`.
    Unset,
}

/// One kind's field labels.
struct Kind {
    group: &'static str,
    kind: &'static str,
    /// Whether `metadata.namespace` is a label it accepts.
    namespace: bool,
    /// Its own fields, the name a selector uses and how its value is read.
    fields: &'static [(&'static str, Read)],
    /// Labels the conversion renames (`spec.host` is `spec.nodeName`).
    aliases: &'static [(&'static str, &'static str)],
    /// How a refused label is worded.
    refusal: Refusal,
}

#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// `field label not supported: LABEL`.
    NotSupported,
    /// `field label "LABEL" not supported for KIND`.
    NotSupportedFor,
}

const KINDS: &[Kind] = &[
    Kind {
        group: "",
        kind: "Pod",
        namespace: true,
        fields: &[
            ("spec.nodeName", Read::Text("spec.nodeName")),
            ("spec.restartPolicy", Read::Text("spec.restartPolicy")),
            ("spec.schedulerName", Read::Text("spec.schedulerName")),
            (
                "spec.serviceAccountName",
                Read::Text("spec.serviceAccountName"),
            ),
            ("spec.hostNetwork", Read::Flag("spec.hostNetwork")),
            ("status.phase", Read::Text("status.phase")),
            ("status.podIP", Read::FirstPodIp),
            ("status.podIPs", Read::Unset),
            (
                "status.nominatedNodeName",
                Read::Text("status.nominatedNodeName"),
            ),
        ],
        aliases: &[("spec.host", "spec.nodeName")],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "Node",
        namespace: false,
        fields: &[("spec.unschedulable", Read::Flag("spec.unschedulable"))],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "ReplicationController",
        namespace: true,
        fields: &[("status.replicas", Read::Number("status.replicas"))],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "Event",
        namespace: true,
        fields: &[
            ("involvedObject.kind", Read::Text("involvedObject.kind")),
            (
                "involvedObject.namespace",
                Read::Text("involvedObject.namespace"),
            ),
            ("involvedObject.name", Read::Text("involvedObject.name")),
            ("involvedObject.uid", Read::Text("involvedObject.uid")),
            (
                "involvedObject.apiVersion",
                Read::Text("involvedObject.apiVersion"),
            ),
            (
                "involvedObject.resourceVersion",
                Read::Text("involvedObject.resourceVersion"),
            ),
            (
                "involvedObject.fieldPath",
                Read::Text("involvedObject.fieldPath"),
            ),
            ("reason", Read::Text("reason")),
            ("reportingComponent", Read::Text("reportingComponent")),
            ("source", Read::EventSource),
            ("type", Read::Text("type")),
        ],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "Namespace",
        namespace: false,
        fields: &[("status.phase", Read::Text("status.phase"))],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "Secret",
        namespace: true,
        fields: &[("type", Read::Text("type"))],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "",
        kind: "Service",
        namespace: true,
        fields: &[
            ("spec.clusterIP", Read::Text("spec.clusterIP")),
            ("spec.type", Read::Text("spec.type")),
        ],
        aliases: &[],
        refusal: Refusal::NotSupported,
    },
    Kind {
        group: "batch",
        kind: "Job",
        namespace: true,
        fields: &[("status.successful", Read::Number("status.succeeded"))],
        aliases: &[],
        refusal: Refusal::NotSupportedFor,
    },
];

fn kind_of(group: &str, kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.group == group && k.kind == kind)
}

/// The label a selector on `group`/`kind` may use for `label` (renamed where the conversion
/// renames it), or the apiserver's 400 message refusing it.
pub(crate) fn accept(group: &str, kind: &str, label: &str) -> Result<String, String> {
    let Some(k) = kind_of(group, kind) else {
        return match label {
            "metadata.name" | "metadata.namespace" => Ok(label.to_owned()),
            _ => Err(format!(
                r#""{label}" is not a known field selector: only "metadata.name", "metadata.namespace""#
            )),
        };
    };
    if let Some((_, to)) = k.aliases.iter().find(|(from, _)| *from == label) {
        return Ok((*to).to_owned());
    }
    let known = label == "metadata.name"
        || (label == "metadata.namespace" && k.namespace)
        || k.fields.iter().any(|(name, _)| *name == label);
    if known {
        return Ok(label.to_owned());
    }
    Err(match k.refusal {
        Refusal::NotSupported => format!("field label not supported: {label}"),
        Refusal::NotSupportedFor => format!("field label {label:?} not supported for {}", k.kind),
    })
}

/// An object's top-level fields (all but `metadata`), however they are held: a scenario's
/// plain map, or the store's, whose fields are shared between an object's versions.
pub(crate) trait Fields {
    /// The top-level field `name`.
    fn field(&self, name: &str) -> Option<&Value>;
}

impl Fields for BTreeMap<String, Value> {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The values of `group`/`kind`'s own selectable fields (not `metadata.*`) in an object's
/// body: empty for a kind with none.
pub(crate) fn values<B: Fields + ?Sized>(
    group: &str,
    kind: &str,
    body: &B,
) -> BTreeMap<String, String> {
    let Some(k) = kind_of(group, kind) else {
        return BTreeMap::new();
    };
    k.fields
        .iter()
        .map(|(name, read)| ((*name).to_owned(), read_value(*read, body)))
        .collect()
}

/// The value at a dotted path (`spec.nodeName`) in an object's body.
pub(crate) fn at<'b, B: Fields + ?Sized>(body: &'b B, path: &str) -> Option<&'b Value> {
    let mut parts = path.split('.');
    let mut value = body.field(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

fn read_value<B: Fields + ?Sized>(read: Read, body: &B) -> String {
    let text = |path| {
        at(body, path)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match read {
        Read::Text(path) => text(path),
        Read::Flag(path) => at(body, path)
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        Read::Number(path) => at(body, path)
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .to_string(),
        Read::FirstPodIp => at(body, "status.podIPs")
            .and_then(|ips| ips.get(0))
            .and_then(|ip| ip.get("ip"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Read::EventSource => {
            let component = text("source.component");
            if component.is_empty() {
                text("reportingComponent")
            } else {
                component
            }
        }
        Read::Unset => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_kind_without_a_conversion_names_the_two_metadata_fields_when_it_refuses() {
        assert_eq!(
            accept("", "ConfigMap", "metadata.name").unwrap(),
            "metadata.name"
        );
        assert_eq!(
            accept("", "ConfigMap", "data.k").unwrap_err(),
            r#""data.k" is not a known field selector: only "metadata.name", "metadata.namespace""#
        );
    }

    #[test]
    fn pods_events_and_jobs_accept_their_own_fields_and_word_refusals_their_own_way() {
        assert_eq!(accept("", "Pod", "spec.host").unwrap(), "spec.nodeName");
        assert_eq!(accept("", "Event", "reason").unwrap(), "reason");
        assert_eq!(
            accept("", "Pod", "foo").unwrap_err(),
            "field label not supported: foo"
        );
        assert_eq!(
            accept("batch", "Job", "foo").unwrap_err(),
            r#"field label "foo" not supported for Job"#
        );
        assert_eq!(
            accept("", "Namespace", "metadata.namespace").unwrap_err(),
            "field label not supported: metadata.namespace",
            "a cluster-scoped kind with a conversion of its own has no namespace label"
        );
    }

    #[test]
    fn values_are_read_as_go_typed_objects_have_them_zero_when_absent() {
        let pod = values(
            "",
            "Pod",
            &body(serde_json::json!({
                "spec": { "nodeName": "n1" },
                "status": { "podIPs": [{ "ip": "10.0.0.7" }] },
            })),
        );
        assert_eq!(pod["spec.nodeName"], "n1");
        assert_eq!(pod["spec.hostNetwork"], "false");
        assert_eq!(pod["status.podIP"], "10.0.0.7");
        assert_eq!(pod["status.phase"], "");
        let event = values(
            "",
            "Event",
            &body(serde_json::json!({ "reportingComponent": "kubelet" })),
        );
        assert_eq!(event["source"], "kubelet");
        assert!(values("", "ConfigMap", &BTreeMap::new()).is_empty());
    }
}
