//! The scenario files a command is given: files as they are, directories as their `*.yaml`.

use std::path::PathBuf;

use crate::scenario;

/// Files as given, and the `*.yaml` files of directories in name order.
pub(super) fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = scenario::files_in(path)
                .map_err(|e| anyhow::anyhow!("failed to read directory {}: {e}", path.display()))?;
            if found.is_empty() {
                anyhow::bail!("no *.yaml scenarios in directory {}", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
