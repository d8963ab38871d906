//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}` (reference §6).
//!
//! Typed bodies, so keys come in the Go structs' field order as `encoding/json` writes them
//! (`apimachinery:pkg/apis/meta/v1/types.go`, `pkg/version/types.go`).

use serde::Serialize;

use crate::scenario::ResourceSpec;

use super::discovery_known::KNOWN;
use super::json::line;

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
        let known = KNOWN.iter().find(|k| {
            k.group == resource.group
                && k.version == resource.version
                && k.plural == resource.plural
        });
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
