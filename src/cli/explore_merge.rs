//! `harness explore merge DIR...`: the `--out` directories of every shard of one exploration,
//! put together as one run over every timeline would have written them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::explore_args::ExploreFormat;
use crate::explore::Summary;
use crate::report;

/// Merges the shards in `dirs`, writes the result to `dir` when given, and prints the summary;
/// `Ok(true)` when nothing failed.
pub(super) fn merge(
    dirs: &[PathBuf],
    dir: Option<&Path>,
    format: ExploreFormat,
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let mut shards = Vec::new();
    for shard in dirs {
        let path = shard.join("findings.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let summary: Summary = serde_json::from_str(&text).with_context(|| {
            format!("{} is not a harness explore findings.json", path.display())
        })?;
        shards.push((path.display().to_string(), summary));
    }
    let (merged, from) = Summary::merge(shards)?;
    if let Some(dir) = dir {
        let context = |p: &Path| format!("failed to write {}", p.display());
        std::fs::create_dir_all(dir).with_context(|| context(dir))?;
        for (record, shard) in merged.findings.iter().zip(&from) {
            if let Some(file) = &record.file {
                let (source, target) = (dirs[*shard].join(file), dir.join(file));
                std::fs::copy(&source, &target).with_context(|| {
                    format!(
                        "failed to copy {} to {}",
                        source.display(),
                        target.display()
                    )
                })?;
            }
        }
        let path = dir.join("findings.json");
        let mut json = Vec::new();
        report::explore::write_json(&merged, &mut json)?;
        std::fs::write(&path, json).with_context(|| context(&path))?;
    }
    match format {
        ExploreFormat::Table => report::explore::write_table(&merged, dir, out)?,
        ExploreFormat::Json => report::explore::write_json(&merged, out)?,
    }
    Ok(merged.findings.is_empty())
}
