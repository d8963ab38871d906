//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}` (reference §6).

use serde_json::json;

use crate::scenario::ResourceSpec;

fn line(value: &serde_json::Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).expect("JSON values serialize");
    out.push(b'\n');
    out
}

/// `/version`: what kube-rs `apiserver_version()` and `kubectl version` read.
pub(super) fn version() -> Vec<u8> {
    line(&json!({
        "major": "1", "minor": "34", "gitVersion": "v1.34.0",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2025-08-27T00:00:00Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"
    }))
}

/// `/api`: the core group's versions.
pub(super) fn core_versions() -> Vec<u8> {
    line(&json!({
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
    }))
}

/// `/apis`: must answer 200 even when empty, or kubectl fails (reference §6).
pub(super) fn groups(resource: &ResourceSpec) -> Vec<u8> {
    let groups: Vec<serde_json::Value> = if resource.group.is_empty() {
        Vec::new()
    } else {
        let gv = json!({"groupVersion": resource.api_version(), "version": resource.version});
        vec![json!({"name": resource.group, "versions": [gv.clone()], "preferredVersion": gv})]
    };
    line(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

/// `/api/v1` or `/apis/{group}/{version}`: the resource list, when it is the resource's.
pub(super) fn resources(resource: &ResourceSpec, group: &str, version: &str) -> Option<Vec<u8>> {
    let core_v1 = group.is_empty() && version == "v1";
    let ours = group == resource.group && version == resource.version;
    if !core_v1 && !ours {
        return None;
    }
    let entries: Vec<serde_json::Value> = if ours {
        vec![json!({
            "name": resource.plural, "singularName": resource.kind.to_lowercase(), "namespaced": resource.namespaced,
            "kind": resource.kind, "verbs": ["get", "list", "watch"]
        })]
    } else {
        Vec::new()
    };
    let mut body = json!({"kind": "APIResourceList", "groupVersion": if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") }, "resources": entries});
    if !group.is_empty() {
        body["apiVersion"] = json!("v1");
    }
    Some(line(&body))
}
