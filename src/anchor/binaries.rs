//! Where the built binaries are.

use std::path::{Path, PathBuf};

use super::error::Error;

/// The environment variable that names the directory holding `etcd` and `kube-apiserver`.
pub const BIN_DIR_ENV: &str = "KWH_ANCHOR_BIN";

/// The two binaries of the control plane.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The etcd server.
    pub etcd: PathBuf,
    /// kube-apiserver.
    pub kube_apiserver: PathBuf,
}

impl Binaries {
    /// The binaries in `dir`.
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            etcd: dir.join("etcd"),
            kube_apiserver: dir.join("kube-apiserver"),
        }
    }

    /// The binaries in `$KWH_ANCHOR_BIN`, or else where `ci/anchor-build` puts them:
    /// `target/anchor/` under `workspace`.
    #[must_use]
    pub fn locate(workspace: &Path) -> Self {
        match std::env::var_os(BIN_DIR_ENV) {
            Some(dir) => Self::in_dir(Path::new(&dir)),
            None => Self::in_dir(&workspace.join("target").join("anchor")),
        }
    }

    /// Both binaries exist.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] naming the first one missing.
    pub fn check(&self) -> Result<(), Error> {
        for (name, path) in [
            ("etcd", &self.etcd),
            ("kube-apiserver", &self.kube_apiserver),
        ] {
            if !path.is_file() {
                return Err(Error::NotBuilt {
                    name,
                    path: path.clone(),
                });
            }
        }
        Ok(())
    }
}
