//! The one-cluster kubeconfig the harness hands to clients: for `harness serve`/`exec` (plain
//! HTTP, no credentials) and for the anchor control plane (its generated CA and a token).

use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// A kubeconfig with one cluster, user and context, all named `name`, in namespace `default`.
/// `ca` is base64 PEM for `certificate-authority-data`; `token` a bearer token.
pub(crate) fn single(
    name: &str,
    server: String,
    ca: Option<String>,
    token: Option<String>,
) -> Kubeconfig {
    Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.into(),
            cluster: Some(Cluster {
                // NB: meaningless over plain HTTP, but @kubernetes/client-node 1.x refuses an
                // http:// server without it ("HTTP protocol is not allowed when skipTLSVerify
                // is not set or false", config.js).
                insecure_skip_tls_verify: (ca.is_none() && server.starts_with("http:"))
                    .then_some(true),
                server: Some(server),
                certificate_authority_data: ca,
                ..Cluster::default()
            }),
            ..NamedCluster::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.into(),
            auth_info: Some(AuthInfo {
                token: token.map(Into::into),
                ..AuthInfo::default()
            }),
            ..NamedAuthInfo::default()
        }],
        contexts: vec![NamedContext {
            name: name.into(),
            context: Some(Context {
                cluster: name.into(),
                user: Some(name.into()),
                namespace: Some("default".into()),
                ..Context::default()
            }),
            ..NamedContext::default()
        }],
        current_context: Some(name.into()),
        kind: Some("Config".into()),
        api_version: Some("v1".into()),
        ..Kubeconfig::default()
    }
}

/// `kubeconfig` with its contexts in `namespace`.
pub(crate) fn in_namespace(mut kubeconfig: Kubeconfig, namespace: &str) -> Kubeconfig {
    for named in &mut kubeconfig.contexts {
        if let Some(context) = &mut named.context {
            context.namespace = Some(namespace.into());
        }
    }
    kubeconfig
}
