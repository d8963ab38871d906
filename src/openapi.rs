//! The kinds kube-apiserver serves, from k8s-openapi, and whether an object is one a real
//! apiserver could have stored.
//!
//! A built-in object that lacks a required field (an Event without `involvedObject`, a Pod whose
//! `spec` has no `containers`) is refused by kube-apiserver, so no real client ever receives one.
//! kube-rs does not notice (k8s-openapi fills a missing required field with its default), but
//! strict clients do: the Python `kubernetes` client's models refuse to decode it. So the loader
//! checks every object a scenario would have the server serve against the OpenAPI schema that
//! k8s-openapi carries for its kind (its `schemars` feature): every required field present,
//! recursively; every field one the kind has (the apiserver drops unknown ones, so it never
//! serves them); every value of its field's JSON type, and times in RFC 3339.
//!
//! Entry point: [`Kind::find`]; then [`Kind::check_body`] for an object's fields, or
//! [`Kind::check_object`] for a whole object as served. Custom resources are not known here and
//! are not checked. Beyond its schema, kube-apiserver validates more (a Pod needs at least one
//! container, names have a format); that is not checked here.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope, Resource};
use serde_json::Value;

/// A built-in kind of k8s-openapi's latest version.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// The kind's name.
    pub kind: &'static str,
    /// The resource's plural, as it appears in paths.
    pub plural: &'static str,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    generate: fn() -> Value,
}

/// Whether a k8s-openapi scope is namespaced.
trait Scope {
    const NAMESPACED: bool;
}

impl Scope for NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl Scope for ClusterResourceScope {
    const NAMESPACED: bool = false;
}

fn kind<T>() -> Kind
where
    T: Resource + schemars::JsonSchema,
    T::Scope: Scope,
{
    Kind {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        plural: T::URL_PATH_SEGMENT,
        namespaced: <T::Scope as Scope>::NAMESPACED,
        generate: || {
            let schema = schemars::generate::SchemaSettings::draft2020_12()
                .into_generator()
                .into_root_schema_for::<T>();
            serde_json::to_value(schema).expect("a schema is JSON")
        },
    }
}

macro_rules! kinds {
    ($($($segment:ident)::+),* $(,)?) => {
        [$(kind::<k8s_openapi::$($segment)::+>),*]
    };
}

/// Every listable kind of k8s-openapi's latest version: the types with a `ListableResource`
/// impl (`grep -rn 'impl crate::ListableResource for' k8s-openapi-0.29.0/src/v1_37`).
const KINDS: [fn() -> Kind; 93] = kinds![
    api::admissionregistration::v1::MutatingAdmissionPolicy,
    api::admissionregistration::v1::MutatingAdmissionPolicyBinding,
    api::admissionregistration::v1::MutatingWebhookConfiguration,
    api::admissionregistration::v1::ValidatingAdmissionPolicy,
    api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    api::admissionregistration::v1::ValidatingWebhookConfiguration,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
    api::admissionregistration::v1beta1::MutatingAdmissionPolicy,
    api::admissionregistration::v1beta1::MutatingAdmissionPolicyBinding,
    api::apiserverinternal::v1alpha1::StorageVersion,
    api::apps::v1::ControllerRevision,
    api::apps::v1::DaemonSet,
    api::apps::v1::Deployment,
    api::apps::v1::ReplicaSet,
    api::apps::v1::StatefulSet,
    api::autoscaling::v1::HorizontalPodAutoscaler,
    api::autoscaling::v2::HorizontalPodAutoscaler,
    api::batch::v1::CronJob,
    api::batch::v1::Job,
    api::certificates::v1::CertificateSigningRequest,
    api::certificates::v1::ClusterTrustBundle,
    api::certificates::v1::PodCertificateRequest,
    api::certificates::v1beta1::ClusterTrustBundle,
    api::certificates::v1beta1::PodCertificateRequest,
    api::coordination::v1::Lease,
    api::coordination::v1alpha2::LeaseCandidate,
    api::coordination::v1beta1::LeaseCandidate,
    api::core::v1::ComponentStatus,
    api::core::v1::ConfigMap,
    api::core::v1::Endpoints,
    api::core::v1::Event,
    api::core::v1::LimitRange,
    api::core::v1::Namespace,
    api::core::v1::Node,
    api::core::v1::PersistentVolume,
    api::core::v1::PersistentVolumeClaim,
    api::core::v1::Pod,
    api::core::v1::PodTemplate,
    api::core::v1::ReplicationController,
    api::core::v1::ResourceQuota,
    api::core::v1::Secret,
    api::core::v1::Service,
    api::core::v1::ServiceAccount,
    api::discovery::v1::EndpointSlice,
    api::events::v1::Event,
    api::flowcontrol::v1::FlowSchema,
    api::flowcontrol::v1::PriorityLevelConfiguration,
    api::lifecycle::v1alpha1::Eviction,
    api::lifecycle::v1alpha1::EvictionRequest,
    api::networking::v1::IPAddress,
    api::networking::v1::Ingress,
    api::networking::v1::IngressClass,
    api::networking::v1::NetworkPolicy,
    api::networking::v1::ServiceCIDR,
    api::node::v1::RuntimeClass,
    api::policy::v1::PodDisruptionBudget,
    api::rbac::v1::ClusterRole,
    api::rbac::v1::ClusterRoleBinding,
    api::rbac::v1::Role,
    api::rbac::v1::RoleBinding,
    api::resource::v1::DeviceClass,
    api::resource::v1::DeviceTaintRule,
    api::resource::v1::ResourceClaim,
    api::resource::v1::ResourceClaimTemplate,
    api::resource::v1::ResourceSlice,
    api::resource::v1alpha3::DeviceTaintRule,
    api::resource::v1alpha3::ResourcePoolStatusRequest,
    api::resource::v1beta1::DeviceClass,
    api::resource::v1beta1::ResourceClaim,
    api::resource::v1beta1::ResourceClaimTemplate,
    api::resource::v1beta1::ResourceSlice,
    api::resource::v1beta2::DeviceClass,
    api::resource::v1beta2::DeviceTaintRule,
    api::resource::v1beta2::ResourceClaim,
    api::resource::v1beta2::ResourceClaimTemplate,
    api::resource::v1beta2::ResourceSlice,
    api::scheduling::v1::PriorityClass,
    api::scheduling::v1alpha3::CompositePodGroup,
    api::scheduling::v1alpha3::PodGroup,
    api::scheduling::v1alpha3::Workload,
    api::scheduling::v1beta1::PodGroup,
    api::scheduling::v1beta1::Workload,
    api::storage::v1::CSIDriver,
    api::storage::v1::CSINode,
    api::storage::v1::CSIStorageCapacity,
    api::storage::v1::StorageClass,
    api::storage::v1::VolumeAttachment,
    api::storage::v1::VolumeAttributesClass,
    api::storagemigration::v1::StorageVersionMigration,
    api::storagemigration::v1beta1::StorageVersionMigration,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
];

impl Kind {
    /// The built-in kind `group`/`version`/`kind`, if k8s-openapi knows it.
    #[must_use]
    pub fn find(group: &str, version: &str, kind: &str) -> Option<Self> {
        KINDS
            .iter()
            .map(|k| k())
            .find(|k| k.group == group && k.version == version && k.kind == kind)
    }

    /// The kind's JSON Schema, generated once per process: a Pod's takes milliseconds, and a
    /// scenario checks every version of every object it writes.
    fn schema(&self) -> Arc<Value> {
        /// By group, version and kind.
        type Schemas = HashMap<(&'static str, &'static str, &'static str), Arc<Value>>;
        static SCHEMAS: LazyLock<Mutex<Schemas>> = LazyLock::new(Mutex::default);
        let key = (self.group, self.version, self.kind);
        if let Some(schema) = SCHEMAS.lock().ok().and_then(|s| s.get(&key).cloned()) {
            return schema;
        }
        let schema = Arc::new((self.generate)());
        if let Ok(mut schemas) = SCHEMAS.lock() {
            schemas.insert(key, Arc::clone(&schema));
        }
        schema
    }

    /// `group/version` (or `version` for the core group) and kind, for messages.
    #[must_use]
    pub fn name(&self) -> String {
        if self.group.is_empty() {
            format!("core/{} {}", self.version, self.kind)
        } else {
            format!("{}/{} {}", self.group, self.version, self.kind)
        }
    }

    /// Checks an object's fields besides `metadata`, `kind` and `apiVersion` (which the server
    /// sets): every required one present, none unknown, each valid.
    ///
    /// # Errors
    /// The first [`Violation`], with the path of the field at fault.
    pub fn check_body(&self, body: &BTreeMap<String, Value>) -> Result<(), Violation> {
        let schema = self.schema();
        let checker = Checker {
            defs: &schema["$defs"],
        };
        let object: serde_json::Map<String, Value> =
            body.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        checker.object(
            checker.resolve(&schema),
            &object,
            &mut Path::default(),
            SERVER_SET,
        )
    }

    /// Checks a whole object as the server would send it, `metadata` and all.
    ///
    /// # Errors
    /// The first [`Violation`], with the path of the field at fault.
    pub fn check_object(&self, object: &Value) -> Result<(), Violation> {
        let schema = self.schema();
        let checker = Checker {
            defs: &schema["$defs"],
        };
        checker.value(&schema, object, &mut Path::default())
    }
}

/// The top-level fields the server sets itself.
const SERVER_SET: &[&str] = &["metadata", "kind", "apiVersion"];

/// Why an object is not one kube-apiserver could have stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: `involvedObject`, `spec.containers[0].name`.
    pub path: String,
    /// What.
    pub problem: Problem,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is absent (or null).
    Missing {
        /// The schema that requires it.
        of: String,
    },
    /// A field the kind does not have: the apiserver would drop it.
    Unknown {
        /// The schema it is not a field of.
        of: String,
        /// The closest field that exists, when one is close.
        suggestion: Option<String>,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// What the schema says.
        expected: String,
        /// What was found.
        found: &'static str,
    },
    /// A string not in its field's format (`date-time`, `byte`).
    BadFormat {
        /// The format.
        format: String,
    },
    /// A number out of its field's range (`int32`).
    OutOfRange {
        /// The format.
        format: String,
    },
    /// A field the server sets itself.
    ServerSet,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.path;
        match &self.problem {
            Problem::Missing { of } => write!(f, "`{field}` is required by {of}"),
            Problem::Unknown { of, suggestion } => {
                write!(f, "`{field}` is not a field of {of}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            Problem::WrongType { expected, found } => {
                write!(f, "`{field}` must be {expected}, found {found}")
            }
            Problem::BadFormat { format } => write!(f, "`{field}` is not a valid {format}"),
            Problem::OutOfRange { format } => write!(f, "`{field}` does not fit in {format}"),
            Problem::ServerSet => write!(f, "`{field}` is set by the server"),
        }
    }
}

/// A JSON path as a scenario author reads it: `spec.containers[0].name`.
#[derive(Debug, Default, Clone)]
struct Path(String);

impl Path {
    fn push_key(&mut self, key: &str) -> usize {
        let len = self.0.len();
        if !self.0.is_empty() {
            self.0.push('.');
        }
        self.0.push_str(key);
        len
    }

    fn push_index(&mut self, index: usize) -> usize {
        let len = self.0.len();
        self.0.push_str(&format!("[{index}]"));
        len
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

/// Walks a value against a schema of k8s-openapi's: `$ref`s into `$defs`, `oneOf`,
/// `properties` with `required`, `additionalProperties`, `items`, `type` and `format`, and
/// `x-kubernetes-int-or-string`.
struct Checker<'a> {
    defs: &'a Value,
}

impl Checker<'_> {
    /// The schema a `$ref` points at, and its name (the root's `title`, a definition's key).
    fn resolve<'s>(&'s self, schema: &'s Value) -> (&'s Value, &'s str) {
        let mut schema = schema;
        let mut name = schema["title"].as_str().unwrap_or("its schema");
        // NB: a `$ref` chain of k8s-openapi's schemas is at most a few links long; the bound
        // only guards against a cycle.
        for _ in 0..16 {
            match schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                Some(target) => {
                    schema = &self.defs[target];
                    name = target;
                }
                None => break,
            }
        }
        (schema, name)
    }

    fn value(&self, schema: &Value, value: &Value, path: &mut Path) -> Result<(), Violation> {
        let (schema, schema_name) = self.resolve(schema);
        if let Some(alternatives) = schema["oneOf"].as_array() {
            let mut first = None;
            for alternative in alternatives {
                match self.value(alternative, value, path) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            return first.map_or(Ok(()), Err);
        }
        let wrong = |expected: &str| Violation {
            path: path.0.clone(),
            problem: Problem::WrongType {
                expected: expected.to_owned(),
                found: json_type(value),
            },
        };
        if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
            return match value {
                Value::String(_) | Value::Number(_) => Ok(()),
                _ => Err(wrong("an integer or a string")),
            };
        }
        match schema["type"].as_str() {
            Some("object") => match value {
                Value::Object(fields) => self.object((schema, schema_name), fields, path, &[]),
                _ => Err(wrong("an object")),
            },
            Some("array") => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.push_index(i);
                        self.value(&schema["items"], item, path)?;
                        path.truncate(len);
                    }
                    Ok(())
                }
                _ => Err(wrong("an array")),
            },
            Some("string") => match value {
                Value::String(text) => self.format(schema, text, path),
                _ => Err(wrong("a string")),
            },
            Some("integer") => match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => self.range(schema, n, path),
                _ => Err(wrong("an integer")),
            },
            Some("number") => match value {
                Value::Number(_) => Ok(()),
                _ => Err(wrong("a number")),
            },
            Some("boolean") => match value {
                Value::Bool(_) => Ok(()),
                _ => Err(wrong("a boolean")),
            },
            // No type: anything (`RawExtension`, `JSON`).
            _ => Ok(()),
        }
    }

    /// An object: a struct when the schema lists `properties` (unknown fields are dropped by
    /// the apiserver, so an object with one was never stored), a map when it has
    /// `additionalProperties`, free-form otherwise. `skip` are fields left to the server.
    fn object(
        &self,
        (schema, schema_name): (&Value, &str),
        fields: &serde_json::Map<String, Value>,
        path: &mut Path,
        skip: &[&str],
    ) -> Result<(), Violation> {
        if let Some(properties) = schema["properties"].as_object() {
            for required in schema["required"].as_array().into_iter().flatten() {
                let Some(name) = required.as_str() else {
                    continue;
                };
                if skip.contains(&name) {
                    continue;
                }
                if fields.get(name).is_none_or(Value::is_null) {
                    let len = path.push_key(name);
                    let violation = Violation {
                        path: path.0.clone(),
                        problem: Problem::Missing {
                            of: schema_name.to_owned(),
                        },
                    };
                    path.truncate(len);
                    return Err(violation);
                }
            }
            for (field, value) in fields {
                let len = path.push_key(field);
                if skip.contains(&field.as_str()) {
                    return Err(Violation {
                        path: path.0.clone(),
                        problem: Problem::ServerSet,
                    });
                }
                match properties.get(field) {
                    None => {
                        return Err(Violation {
                            path: path.0.clone(),
                            problem: Problem::Unknown {
                                of: schema_name.to_owned(),
                                suggestion: crate::suggest::closest(
                                    field,
                                    properties.keys().map(String::as_str),
                                )
                                .map(str::to_owned),
                            },
                        });
                    }
                    // A null optional field is as good as absent: the apiserver omits it.
                    Some(_) if value.is_null() => {}
                    Some(property) => self.value(property, value, path)?,
                }
                path.truncate(len);
            }
            return Ok(());
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            for (name, value) in fields {
                let len = path.push_key(name);
                self.value(values, value, path)?;
                path.truncate(len);
            }
        }
        Ok(())
    }

    fn format(&self, schema: &Value, text: &str, path: &Path) -> Result<(), Violation> {
        use base64::Engine;
        let format = schema["format"].as_str().unwrap_or_default();
        let valid = match format {
            "date-time" => text.parse::<jiff::Timestamp>().is_ok(),
            "byte" => base64::engine::general_purpose::STANDARD
                .decode(text)
                .is_ok(),
            _ => true,
        };
        if valid {
            Ok(())
        } else {
            Err(Violation {
                path: path.0.clone(),
                problem: Problem::BadFormat {
                    format: format.to_owned(),
                },
            })
        }
    }

    fn range(&self, schema: &Value, n: &serde_json::Number, path: &Path) -> Result<(), Violation> {
        let fits = match schema["format"].as_str() {
            Some("int32") => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Some("int64") => n.as_i64().is_some(),
            _ => true,
        };
        if fits {
            Ok(())
        } else {
            Err(Violation {
                path: path.0.clone(),
                problem: Problem::OutOfRange {
                    format: schema["format"].as_str().unwrap_or_default().to_owned(),
                },
            })
        }
    }
}

/// The closest name to `wrong`, when one is close enough to be a typo.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn event() -> Kind {
        Kind::find("", "v1", "Event").expect("k8s-openapi knows core/v1 Event")
    }

    #[test]
    fn every_listed_kind_is_found_by_its_group_version_and_kind_and_has_a_schema() {
        for make in KINDS {
            let k = make();
            let found = Kind::find(k.group, k.version, k.kind).expect("each kind is found");
            assert_eq!(found.plural, k.plural);
            assert!(
                k.schema()["properties"].is_object(),
                "{} has a schema",
                k.name()
            );
        }
        let pod = Kind::find("", "v1", "Pod").unwrap();
        assert_eq!((pod.plural, pod.namespaced), ("pods", true));
        let namespace = Kind::find("", "v1", "Namespace").unwrap();
        assert!(!namespace.namespaced);
        assert!(Kind::find("example.com", "v1", "Widget").is_none());
    }

    #[test]
    fn an_event_without_involved_object_is_refused_naming_the_field() {
        let error = event()
            .check_body(&body(json!({ "reason": "Started" })))
            .unwrap_err();
        assert_eq!(error.path, "involvedObject");
        assert_eq!(
            error.to_string(),
            "`involvedObject` is required by io.k8s.api.core.v1.Event"
        );
        assert!(
            event()
                .check_body(&body(
                    json!({ "involvedObject": { "kind": "Pod", "name": "a" } })
                ))
                .is_ok()
        );
    }

    #[test]
    fn required_fields_are_checked_all_the_way_down() {
        let pod = Kind::find("", "v1", "Pod").unwrap();
        assert_eq!(
            pod.check_body(&body(json!({ "spec": { "nodeName": "n" } })))
                .unwrap_err()
                .path,
            "spec.containers"
        );
        assert_eq!(
            pod.check_body(&body(
                json!({ "spec": { "containers": [{ "image": "x" }] } })
            ))
            .unwrap_err()
            .path,
            "spec.containers[0].name"
        );
        assert!(
            pod.check_body(&body(
                json!({ "spec": { "containers": [{ "name": "app" }] } })
            ))
            .is_ok()
        );
    }

    #[test]
    fn unknown_fields_wrong_types_and_bad_times_are_refused() {
        let cm = Kind::find("", "v1", "ConfigMap").unwrap();
        let typo = cm
            .check_body(&body(json!({ "dta": { "a": "b" } })))
            .unwrap_err();
        assert_eq!(typo.path, "dta");
        assert!(typo.to_string().ends_with("did you mean `data`?"), "{typo}");
        let number = cm
            .check_body(&body(json!({ "data": { "a": 1 } })))
            .unwrap_err();
        assert_eq!(number.path, "data.a");
        assert_eq!(
            number.to_string(),
            "`data.a` must be a string, found a number"
        );
        let involved = json!({ "kind": "Pod", "name": "a" });
        let time = event()
            .check_body(&body(
                json!({ "involvedObject": involved, "lastTimestamp": "yesterday" }),
            ))
            .unwrap_err();
        assert_eq!(time.to_string(), "`lastTimestamp` is not a valid date-time");
        let at = "2026-01-01T00:00:00Z";
        assert!(
            event()
                .check_body(&body(
                    json!({ "involvedObject": involved, "lastTimestamp": at })
                ))
                .is_ok()
        );
        assert_eq!(
            event()
                .check_body(&body(json!({ "involvedObject": involved, "metadata": {} })))
                .unwrap_err()
                .problem,
            Problem::ServerSet
        );
    }

    #[test]
    fn int_or_string_quantities_and_free_form_fields_take_what_the_apiserver_takes() {
        let pod = Kind::find("", "v1", "Pod").unwrap();
        let resources = json!({ "spec": { "containers": [{
            "name": "app",
            "resources": { "limits": { "cpu": 2, "memory": "1Gi" } },
            "ports": [{ "containerPort": 80 }],
            "livenessProbe": { "httpGet": { "port": "http" } }
        }] } });
        assert!(pod.check_body(&body(resources)).is_ok());
        let crd = Kind::find("apiextensions.k8s.io", "v1", "CustomResourceDefinition").unwrap();
        let schema = json!({ "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } });
        let spec = json!({ "spec": {
            "group": "example.com",
            "names": { "plural": "widgets", "kind": "Widget" },
            "scope": "Namespaced",
            "versions": [{ "name": "v1", "served": true, "storage": true, "schema": schema }]
        } });
        assert!(crd.check_body(&body(spec)).is_ok());
    }
}
