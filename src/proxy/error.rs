//! Why a proxy could not start, play its scenario or clean up.

use std::path::PathBuf;

/// Why `harness proxy` could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The upstream kubeconfig could not be read or used.
    #[error("{}: {reason}", path.display())]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The kubeconfig's user has nothing to authenticate with.
    #[error(
        "{}: context `{context}` has no credentials (a token, a token file, a client certificate, an exec plugin or a username): the proxy authenticates to the upstream as that user",
        path.display()
    )]
    NoCredentials {
        /// The file.
        path: PathBuf,
        /// The context.
        context: String,
    },
    /// The upstream did not answer.
    #[error("the upstream apiserver {server} did not answer `GET /version`: {reason}")]
    Unreachable {
        /// Its URL.
        server: String,
        /// Why.
        reason: String,
    },
    /// The upstream does not serve the scenario's resource.
    #[error("the upstream apiserver {server} does not serve {resource}: {reason}")]
    NoResource {
        /// Its URL.
        server: String,
        /// `group/version plural`.
        resource: String,
        /// What it answered.
        reason: String,
    },
    /// The scenario asks for what a proxy cannot honestly do.
    #[error("{}: the proxy cannot play this scenario:\n{}", path.display(), refusals.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Unplayable {
        /// The scenario file.
        path: PathBuf,
        /// One line per step it cannot play: where and why.
        refusals: Vec<String>,
    },
    /// A write the scenario needs was refused by the upstream.
    #[error("the upstream apiserver refused {what}: {reason}")]
    Upstream {
        /// The request, in words.
        what: String,
        /// Its answer.
        reason: String,
    },
    /// Where to listen could not be had.
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The kubeconfig for clients could not be written.
    #[error("failed to write the kubeconfig {}: {source}", path.display())]
    WriteKubeconfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
