//! Reading a scenario: bytes → UTF-8 → YAML (`yaml.rs`) → [`ScenarioFile`] → validated
//! [`Scenario`] (`validate/`).

use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::file::ScenarioFile;
use super::spec::Scenario;
use super::validate::validate;
use super::yaml::deserialize;

/// The scenario files (`*.yaml`, `*.yml`) of directory `dir`, in name order.
///
/// # Errors
/// The directory cannot be read.
pub fn files_in(dir: impl AsRef<Path>) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    found.sort();
    Ok(found)
}

/// Reads and validates the scenario at `path`.
///
/// # Errors
/// [`Error::Read`] when the file cannot be read, [`Error::NotUtf8`], [`Error::Parse`] with
/// file, line, column and key path, or [`Error::Invalid`] for impossible contents.
pub fn load(path: impl AsRef<Path>) -> Result<Scenario> {
    let (text, file, stem) = read(path.as_ref())?;
    parse(&text, &file, stem)
}

/// The text of the file at `path`, its name for messages, and its stem.
fn read(path: &Path) -> Result<(String, String, Option<String>)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        file: file.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    Ok((text, file, stem))
}

/// The raw file at `path`, read but not validated, with its name for messages and its stem.
pub(super) fn read_raw(path: &Path) -> Result<(ScenarioFile, String, Option<String>)> {
    let (text, file, stem) = read(path)?;
    Ok((deserialize(&text, &file)?, file, stem))
}

impl Scenario {
    /// Reads and validates the scenario at `path`; see [`load`].
    ///
    /// # Errors
    /// As [`load`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        load(path)
    }

    /// Parses and validates a scenario given as YAML text. Errors name the file as `<string>`.
    ///
    /// # Errors
    /// [`Error::Parse`] or [`Error::Invalid`], as for [`load`].
    pub fn from_yaml(yaml: &str) -> Result<Self> {
        parse(yaml, "<string>", None)
    }
}

fn parse(text: &str, file: &str, stem: Option<String>) -> Result<Scenario> {
    let raw = deserialize(text, file)?;
    validate(raw, file, stem)
}
