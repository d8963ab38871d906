//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}` (reference §6).
//!
//! Typed bodies, so keys come in the Go structs' field order as `encoding/json` writes them
//! (`apimachinery:pkg/apis/meta/v1/types.go`, `pkg/version/types.go`).

use serde::Serialize;

use crate::scenario::ResourceSpec;

use super::discovery_known::Known;
use super::discovery_known_core::CORE;
use super::discovery_known_groups::NAMED_GROUPS;
use super::go_json::line;

/// `version.Info`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    major: &'static str,
    minor: &'static str,
    git_version: &'static str,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: &'static str,
}

/// `/version`: what kube-rs `apiserver_version()` and `kubectl version` read.
pub(super) fn version() -> Vec<u8> {
    line(&VersionInfo {
        major: "1",
        minor: "34",
        git_version: "v1.34.0",
        git_commit: "0000000000000000000000000000000000000000",
        git_tree_state: "clean",
        build_date: "2025-08-27T00:00:00Z",
        go_version: "go1.24.6",
        compiler: "gc",
        platform: "linux/amd64",
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerAddress {
    #[serde(rename = "clientCIDR")]
    client_cidr: &'static str,
    server_address: &'static str,
}

/// `metav1.APIVersions`; real servers leave `apiVersion` out here (reference §6).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiVersions {
    kind: &'static str,
    versions: [&'static str; 1],
    #[serde(rename = "serverAddressByClientCIDRs")]
    server_address_by_client_cidrs: [ServerAddress; 1],
}

/// `/api`: the core group's versions.
pub(super) fn core_versions() -> Vec<u8> {
    line(&ApiVersions {
        kind: "APIVersions",
        versions: ["v1"],
        server_address_by_client_cidrs: [ServerAddress {
            client_cidr: "0.0.0.0/0",
            server_address: "127.0.0.1:6443",
        }],
    })
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct GroupVersion {
    group_version: String,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroup {
    name: String,
    versions: Vec<GroupVersion>,
    preferred_version: GroupVersion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroupList {
    kind: &'static str,
    api_version: &'static str,
    groups: Vec<ApiGroup>,
}

/// `/apis`: must answer 200 even when empty, or kubectl fails (reference §6).
pub(super) fn groups(resource: &ResourceSpec) -> Vec<u8> {
    let groups = if resource.group.is_empty() {
        Vec::new()
    } else {
        let gv = GroupVersion {
            group_version: resource.api_version(),
            version: resource.version.clone(),
        };
        vec![ApiGroup {
            name: resource.group.clone(),
            versions: vec![gv.clone()],
            preferred_version: gv,
        }]
    };
    line(&ApiGroupList {
        kind: "APIGroupList",
        api_version: "v1",
        groups,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiResource<'a> {
    name: &'a str,
    singular_name: String,
    namespaced: bool,
    kind: &'a str,
    /// Only what the simulation answers: it is read-only over HTTP (writes come from the
    /// scenario's timeline), where kube-apiserver lists create, update, patch and delete too.
    verbs: [&'static str; 3],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    short_names: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    categories: &'static [&'static str],
    #[serde(skip_serializing_if = "str::is_empty")]
    storage_version_hash: &'static str,
}

/// `metav1.APIResourceList`; `apiVersion` only on named groups (reference §6).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiResourceList<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<&'static str>,
    group_version: String,
    resources: Vec<ApiResource<'a>>,
}

/// The real server's discovery facts of a built-in resource.
fn known(resource: &ResourceSpec) -> Option<&'static Known> {
    let group = if resource.group.is_empty() {
        CORE
    } else {
        NAMED_GROUPS
    };
    group.iter().find(|k| {
        k.group == resource.group && k.version == resource.version && k.plural == resource.plural
    })
}

/// `/api/v1` or `/apis/{group}/{version}`: the resource list, when it is the resource's.
pub(super) fn resources(resource: &ResourceSpec, group: &str, version: &str) -> Option<Vec<u8>> {
    let core_v1 = group.is_empty() && version == "v1";
    let ours = group == resource.group && version == resource.version;
    if !core_v1 && !ours {
        return None;
    }
    let mut resources = Vec::new();
    if ours {
        // A built-in resource has the real server's short names (`kubectl get cm`), categories
        // (`kubectl get all`) and hash; a custom one has what its scenario says.
        let known = known(resource);
        resources.push(ApiResource {
            name: &resource.plural,
            singular_name: known
                .map_or_else(|| resource.kind.to_lowercase(), |k| k.singular.into()),
            namespaced: resource.namespaced,
            kind: &resource.kind,
            verbs: ["get", "list", "watch"],
            short_names: known.map_or(&[], |k| k.short_names),
            categories: known.map_or(&[], |k| k.categories),
            storage_version_hash: known.map_or("", |k| k.storage_version_hash),
        });
    }
    Some(line(&ApiResourceList {
        kind: "APIResourceList",
        api_version: (!group.is_empty()).then_some("v1"),
        group_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        resources,
    }))
}

/// The `Accept` media type of aggregated discovery, which kubectl and client-go ask for first
/// (KEP-3352), and the `Content-Type` of the answer.
pub(super) const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an `Accept` header asks for aggregated discovery (`apidiscovery.k8s.io/v2`).
pub(super) fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        ["g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"]
            .iter()
            .all(|p| params.contains(p))
    })
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct GroupName<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiscoveryList<'a> {
    kind: &'static str,
    api_version: &'static str,
    metadata: Empty,
    items: Vec<DiscoveryGroup<'a>>,
}

#[derive(Serialize)]
struct DiscoveryGroup<'a> {
    metadata: GroupName<'a>,
    versions: Vec<DiscoveryVersion<'a>>,
}

#[derive(Serialize)]
struct DiscoveryVersion<'a> {
    version: &'a str,
    resources: Vec<DiscoveryResource<'a>>,
    freshness: &'static str,
}

#[derive(Serialize)]
struct ResponseKind<'a> {
    group: &'static str,
    version: &'static str,
    kind: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiscoveryResource<'a> {
    resource: &'a str,
    response_kind: ResponseKind<'a>,
    scope: &'static str,
    singular_resource: String,
    verbs: [&'static str; 3],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    short_names: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    categories: &'static [&'static str],
}

/// Aggregated discovery of `/api` (`core`) or `/apis`: the resource's group and version with
/// the resource, in `apidiscovery.k8s.io/v2`'s shape as kube-apiserver 1.37 sends it (an
/// empty `responseKind` group and version mean the resource's own).
pub(super) fn aggregated(resource: &ResourceSpec, core: bool) -> Vec<u8> {
    let known = known(resource);
    let ours = DiscoveryResource {
        resource: &resource.plural,
        response_kind: ResponseKind {
            group: "",
            version: "",
            kind: &resource.kind,
        },
        scope: if resource.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        },
        singular_resource: known
            .map_or_else(|| resource.kind.to_lowercase(), |k| k.singular.into()),
        verbs: ["get", "list", "watch"],
        short_names: known.map_or(&[], |k| k.short_names),
        categories: known.map_or(&[], |k| k.categories),
    };
    let core_resource = resource.group.is_empty();
    let items = if core {
        // The core group is always there, if empty of the resource.
        vec![DiscoveryGroup {
            metadata: GroupName { name: "" },
            versions: vec![DiscoveryVersion {
                version: "v1",
                resources: if core_resource {
                    vec![ours]
                } else {
                    Vec::new()
                },
                freshness: "Current",
            }],
        }]
    } else if core_resource {
        Vec::new()
    } else {
        vec![DiscoveryGroup {
            metadata: GroupName {
                name: &resource.group,
            },
            versions: vec![DiscoveryVersion {
                version: &resource.version,
                resources: vec![ours],
                freshness: "Current",
            }],
        }]
    };
    line(&DiscoveryList {
        kind: "APIGroupDiscoveryList",
        api_version: "apidiscovery.k8s.io/v2",
        metadata: Empty {},
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_s_accept_header_gets_aggregated_discovery_and_a_plain_one_does_not() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        ));
    }

    #[test]
    fn the_core_document_holds_a_core_resource_with_its_short_names_and_no_group_name() {
        let configmaps = ResourceSpec {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            namespaced: true,
        };
        let text = String::from_utf8(aggregated(&configmaps, true)).unwrap();
        assert!(text.starts_with(
            r#"{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[{"metadata":{},"versions":[{"version":"v1","resources":[{"resource":"configmaps","responseKind":{"group":"","version":"","kind":"ConfigMap"},"scope":"Namespaced","singularResource":"configmap","verbs":["get","list","watch"],"shortNames":["cm"]}],"freshness":"Current"}]}]}"#
        ), "{text}");
        let groups = String::from_utf8(aggregated(&configmaps, false)).unwrap();
        assert!(groups.contains(r#""items":[]"#), "{groups}");
    }
}
