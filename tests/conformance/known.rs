//! The checked-in list of known differences between the real apiserver and the simulation:
//! each names a case, the transcript entry where the two part, and why.

use serde::Deserialize;

/// One known difference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Known {
    /// The case.
    pub(crate) case: String,
    /// The 1-based transcript entry that differs.
    pub(crate) entry: usize,
    /// Why the simulation does not (or cannot) do what the real server does.
    pub(crate) why: String,
}

/// Reads `known-differences.yaml`.
pub(crate) fn load(path: &std::path::Path) -> anyhow::Result<Vec<Known>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("failed to read {}: {e}", path.display()))?;
    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
