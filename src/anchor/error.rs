//! What can go wrong starting, driving or stopping the control plane.

use std::path::PathBuf;
use std::time::Duration;

/// Why the control plane could not be built, started or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A binary is not where it was looked for.
    #[error("{name} is not built at {} (run ci/anchor-build)", path.display())]
    NotBuilt {
        /// `etcd` or `kube-apiserver`.
        name: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The working directory could not be prepared.
    #[error("failed to prepare {}", path.display())]
    Prepare {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A process could not be started.
    #[error("failed to start {name}")]
    Spawn {
        /// The program.
        name: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A process did not become ready in time; its log's tail says why.
    #[error("{name} was not ready after {waited:?}; the end of its log:\n{log_tail}")]
    NotReady {
        /// The program.
        name: &'static str,
        /// How long it was given.
        waited: Duration,
        /// The last lines it wrote.
        log_tail: String,
    },
    /// An etcd maintenance call failed.
    #[error("etcd {call} failed: {reason}")]
    Etcd {
        /// The gateway path called.
        call: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// kube refused the generated kubeconfig.
    #[error("kube could not use the generated kubeconfig")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// kube could not build a client from it.
    #[error("kube could not build a client")]
    Client(#[from] kube::Error),
}
