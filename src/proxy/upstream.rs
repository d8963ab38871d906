//! The real apiserver behind the proxy: a kube client built from the user's kubeconfig (TLS
//! with its CA or insecure-skip-verify as it says, a token, a client certificate or an exec
//! plugin: kube's own loading, rustls), and the few calls the proxy makes of its own.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::Error;
use crate::scenario::ResourceSpec;

/// How long the proxy waits for the upstream to accept a connection, and for its own calls.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// The upstream apiserver.
#[derive(Clone)]
pub(crate) struct Upstream {
    /// Sends requests as the kubeconfig's user; kube's retry and read timeout off, so every
    /// answer and every stream reaches the client as the apiserver gave it.
    pub(crate) client: kube::Client,
    /// Its URL, for messages.
    pub(crate) server: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// What discovery says of the scenario's resource upstream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Served {
    /// It has a `/status` subresource: `status` is written there, not with the object.
    pub(crate) status_subresource: bool,
}

impl Upstream {
    /// Reads `path`, picks `context` (default: its current context), and checks that the
    /// apiserver answers.
    ///
    /// # Errors
    /// An unreadable kubeconfig, a context without credentials, an apiserver that does not
    /// answer.
    pub(crate) async fn connect(path: &Path, context: Option<&str>) -> Result<Self, Error> {
        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig {
            path: path.to_owned(),
            reason: error_chain(&e),
        })?;
        let options = chosen(&kubeconfig, context, path)?;
        let bad = |reason: String| Error::Kubeconfig {
            path: path.to_owned(),
            reason,
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| bad(error_chain(&e)))?;
        config.default_retry = false;
        config.read_timeout = None;
        config.connect_timeout = Some(CALL_TIMEOUT);
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|e| bad(error_chain(&e)))?;
        let upstream = Self { client, server };
        match upstream.call(Request::get("/version"), Bytes::new()).await {
            Ok((status, _)) if status.is_success() => Ok(upstream),
            Ok((status, body)) => Err(Error::Unreachable {
                server: upstream.server,
                reason: format!("{status}: {}", String::from_utf8_lossy(&body).trim()),
            }),
            Err(reason) => Err(Error::Unreachable {
                server: upstream.server,
                reason,
            }),
        }
    }

    /// One whole request and answer, within [`CALL_TIMEOUT`]; `Err` only when no answer came.
    pub(crate) async fn call(
        &self,
        request: http::request::Builder,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), String> {
        let request = request
            .body(kube::client::Body::from(body.to_vec()))
            .map_err(|e| e.to_string())?;
        let answer = async {
            let response = self
                .client
                .send(request)
                .await
                .map_err(|e| error_chain(&e))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| error_chain(&e))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(CALL_TIMEOUT, answer)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {}s", CALL_TIMEOUT.as_secs())))
    }

    /// Checks that the upstream serves `resource`, and how.
    ///
    /// # Errors
    /// [`Error::NoResource`] when discovery does not list it, or is not answered.
    pub(crate) async fn discover(&self, resource: &ResourceSpec) -> Result<Served, Error> {
        let path = if resource.group.is_empty() {
            format!("/api/{}", resource.version)
        } else {
            format!("/apis/{}/{}", resource.group, resource.version)
        };
        let missing = |reason: String| Error::NoResource {
            server: self.server.clone(),
            resource: format!("{} {}", resource.api_version(), resource.plural),
            reason,
        };
        let (status, body) = self
            .call(Request::get(&path), Bytes::new())
            .await
            .map_err(&missing)?;
        if !status.is_success() {
            return Err(missing(format!("`GET {path}` answered {status}")));
        }
        let list: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| missing(e.to_string()))?;
        let names: Vec<&str> = list["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        if !names.contains(&resource.plural.as_str()) {
            return Err(missing(format!("`GET {path}` does not list it")));
        }
        Ok(Served {
            status_subresource: names.contains(&format!("{}/status", resource.plural).as_str()),
        })
    }
}

/// An error with its sources, on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !words.contains(&text) {
            words.push_str(": ");
            words.push_str(&text);
        }
        source = cause.source();
    }
    words
}

/// The context of `kubeconfig` (read from `path`, named in errors) the proxy connects with:
/// `context`, or its current context; it must exist and name a user with credentials.
///
/// # Errors
/// [`Error::Kubeconfig`] for a missing context, [`Error::NoCredentials`] for a user without any.
pub(crate) fn chosen(
    kubeconfig: &Kubeconfig,
    context: Option<&str>,
    path: &Path,
) -> Result<KubeConfigOptions, Error> {
    let bad = |reason: String| Error::Kubeconfig {
        path: path.to_owned(),
        reason,
    };
    let context = context
        .map(str::to_owned)
        .or_else(|| kubeconfig.current_context.clone())
        .ok_or_else(|| bad("no current-context, and no --context given".into()))?;
    let named = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .ok_or_else(|| {
            bad(format!(
                "no context `{context}`; it has {}",
                kubeconfig
                    .contexts
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let user = named.context.as_ref().and_then(|c| c.user.clone());
    let auth = user.as_ref().and_then(|user| {
        kubeconfig
            .auth_infos
            .iter()
            .find(|a| &a.name == user)
            .and_then(|a| a.auth_info.as_ref())
    });
    let has_credentials = auth.is_some_and(|a| {
        a.token.is_some()
            || a.token_file.is_some()
            || a.client_certificate.is_some()
            || a.client_certificate_data.is_some()
            || a.exec.is_some()
            || a.auth_provider.is_some()
            || a.username.is_some()
    });
    if !has_credentials {
        return Err(Error::NoCredentials {
            path: path.to_owned(),
            context,
        });
    }
    Ok(KubeConfigOptions {
        context: Some(context),
        ..KubeConfigOptions::default()
    })
}
