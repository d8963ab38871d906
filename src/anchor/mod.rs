//! The real thing beside the simulation: a kube-apiserver and an etcd, built from Go modules in
//! `anchor/` (`ci/anchor-build`), started on loopback like a test fixture.
//!
//! [`ControlPlane::start`] runs etcd (`--unsafe-no-fsync`, free loopback ports) and
//! kube-apiserver (a serving certificate it generates itself in `--cert-dir`, a service-account
//! key, a static token, AlwaysAllow, the watch-cache and compaction knobs a case needs), waits
//! for `/readyz`, and writes a kubeconfig. Everything lives in one temporary directory and one
//! process group, led by a small reaper that stops the group and removes the directory as soon
//! as this process goes away, however it goes (a failed assertion, an interrupt, a SIGKILL):
//! nothing is left behind. shared/docs/real-apiserver.md has the facts behind each flag.
//!
//! It knows nothing of scenarios or verdicts; the conformance suite (`tests/conformance/`) and
//! real-cluster tests drive it.

mod binaries;
mod control_plane;
mod error;
mod etcd;

pub use binaries::{BIN_DIR_ENV, Binaries};
pub use control_plane::{ControlPlane, ControlPlaneOptions, STOP_GRACE};
pub use error::Error;
pub use etcd::Gateway as EtcdGateway;
