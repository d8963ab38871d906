//! Why the harness itself could not run a set-up (as opposed to a set-up that ran and failed,
//! which is a verdict).

/// Why the harness itself could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::Error),
    /// The runtime for a run could not be built.
    #[error("failed to build the runtime for set-up {setup}")]
    Runtime {
        /// The set-up.
        setup: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The kube client could not be built.
    #[error("failed to build the kube client for set-up {setup}")]
    Client {
        /// The set-up.
        setup: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// [`CustomRun::as_setup`](super::CustomRun::as_setup) named a set-up the scenario does not
    /// have.
    #[error("scenario {scenario} has no set-up `{name}`; its set-ups: {}", known.join(", "))]
    UnknownSetUp {
        /// The scenario.
        scenario: String,
        /// The name asked for.
        name: String,
        /// The set-ups it has.
        known: Vec<String>,
    },
    /// The live server could not start.
    #[error("failed to start the live server for set-up {setup}")]
    Live {
        /// The set-up.
        setup: String,
        /// The cause.
        #[source]
        source: crate::live::Error,
    },
}
