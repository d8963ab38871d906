//! The catalogue of built-in kinds kube-apiserver serves ([`Kind`]), from k8s-openapi's latest
//! version, each with its OpenAPI schema (k8s-openapi's `schemars` feature), generated once per
//! process; and the checks of an object against its kind's schema, which `schema_walk.rs` walks.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope, Resource};
use serde_json::Value;

use super::schema_walk::{Checker, Path};
use super::violation::Violation;

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

/// The top-level fields the server sets itself: a scenario writes none of them.
pub const SERVER_SET: &[&str] = &["metadata", "kind", "apiVersion"];

#[cfg(test)]
mod tests {
    use super::*;

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
}

/// The schema walk, seen through the kinds it checks.
#[cfg(test)]
mod schema_walk_tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::openapi::violation::Problem;

    fn body(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn event() -> Kind {
        Kind::find("", "v1", "Event").expect("k8s-openapi knows core/v1 Event")
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
