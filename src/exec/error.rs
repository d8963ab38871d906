//! Why `harness exec` could not run or judge a client; a client that misbehaves is a verdict,
//! never one of these.

use std::path::PathBuf;

/// Why a client could not be run or judged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No command was given.
    #[error(
        "no command to run: give one after `--`, as in `harness exec FILE -- kubectl get pods -w`"
    )]
    NoCommand,
    /// The command could not be started.
    #[error("failed to start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting on the command failed.
    #[error("failed to wait for `{program}`: {source}")]
    Wait {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server could not start.
    #[error(transparent)]
    Live(#[from] crate::live::Error),
    /// The proxy could not start.
    #[error(transparent)]
    Proxy(#[from] crate::proxy::Error),
    /// The working directory for the kubeconfig and the view could not be made.
    #[error("failed to prepare {path}: {source}")]
    Prepare {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The cache the client wrote cannot be read.
    #[error("{path}:{line}: {message}", path = path.display())]
    View {
        /// The file.
        path: PathBuf,
        /// The line, from 1; 0 when the file itself could not be read.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `--setup` names a set-up the scenario does not have.
    #[error("{0}")]
    UnknownSetUp(String),
    /// Ctrl-C or SIGTERM ended the run ([`ExecOptions::interruptible`](super::exec_options::ExecOptions::interruptible)); the client was
    /// stopped and nothing was judged.
    #[error("interrupted: the client was stopped and nothing was judged")]
    Interrupted,
    /// The signal handlers could not be installed.
    #[error("failed to listen for Ctrl-C and SIGTERM: {0}")]
    Signals(std::io::Error),
}
