//! A scenario as its file says it, to edit and write back: what `harness explore` builds its
//! timelines and its findings from. Every edit keeps a file the loader reads; [`Document::
//! scenario`] validates it exactly as [`super::load`] would, and [`Document::to_yaml`] writes
//! what loads back to the same scenario.

use std::path::Path;
use std::time::Duration;

use serde_saphyr::{Location as Place, Spanned};

use super::error::Result;
use super::file::{ScenarioFile, StepFile};
use super::load::read_raw;
use super::server_settings::ServerSettings;
use super::spec::{Scenario, Write};
use super::validate::validate;
use crate::fault::Fault;
use crate::mechanism::Mechanism;
use crate::span::Span;

/// A scenario file, read but not yet validated into a [`Scenario`].
#[derive(Debug, Clone)]
pub struct Document {
    raw: ScenarioFile,
    /// The file's name, for messages.
    file: String,
    stem: Option<String>,
}

impl Document {
    /// Reads the scenario file at `path`; it is validated, so a document always loads.
    ///
    /// # Errors
    /// As [`super::load`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let (raw, file, stem) = read_raw(path.as_ref())?;
        let document = Self { raw, file, stem };
        document.scenario()?;
        Ok(document)
    }

    /// The scenario this document says, validated as the loader validates a file.
    ///
    /// # Errors
    /// As [`super::load`]: an edit can make an impossible scenario (a fault that contradicts
    /// the workload, such as a write inside an `idle` window).
    pub fn scenario(&self) -> Result<Scenario> {
        validate(self.raw.clone(), &self.file, self.stem.clone())
    }

    /// Its name: `name:`, or the file stem.
    #[must_use]
    pub fn name(&self) -> String {
        self.raw
            .name
            .clone()
            .or_else(|| self.stem.clone())
            .unwrap_or_else(|| "scenario".to_owned())
    }

    /// The same document with only its workload on the timeline: every fault taken out.
    #[must_use]
    pub fn without_faults(&self) -> Self {
        let mut document = self.clone();
        let writes = Write::kinds();
        document
            .raw
            .timeline
            .retain(|step| writes.contains(&step.kind.value.as_str()));
        document
    }

    /// The same document with `faults` added to its timeline, each at its time; entries at the
    /// same time keep the document's first.
    #[must_use]
    pub fn with_faults(&self, faults: &[(Duration, Fault)]) -> Self {
        let mut document = self.clone();
        let unknown = Place::UNKNOWN;
        document
            .raw
            .timeline
            .extend(faults.iter().map(|(at, fault)| {
                StepFile {
                    at: Spanned::new(Span(*at), unknown, unknown),
                    kind: Spanned::new(fault.kind().to_owned(), unknown, unknown),
                    every: None,
                    until: None,
                    keys: fault
                        .entries()
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value, unknown))
                        .collect(),
                }
            }));
        document.raw.timeline.sort_by_key(|step| step.at.value);
        document
    }

    /// The same document with the server's settings that `settings` gives put over its own.
    #[must_use]
    pub fn with_server(&self, settings: &ServerSettings) -> Self {
        let mut document = self.clone();
        let server = &mut document.raw.server;
        let unknown = Place::UNKNOWN;
        if let Some(on) = settings.watch_cache {
            server.watch_cache = Some(on);
        }
        if let Some(window) = settings.watch_cache_window {
            server.watch_cache_window = Some(Spanned::new(Span(window), unknown, unknown));
        }
        if let Some(on) = settings.watch_list {
            server.watch_list = Some(on);
        }
        if let Some(every) = settings.bookmark_interval {
            server.bookmark_interval = Some(Span(every));
        }
        if let Some(every) = settings.compaction_interval {
            server.compaction_interval = Some(Span(every));
        }
        document
    }

    /// The same document with only the set-up `name` in its matrix, expected to fail by
    /// `mechanism` (or to recover, for `None`).
    #[must_use]
    pub fn only(&self, name: &str, mechanism: Option<Mechanism>) -> Self {
        let mut document = self.clone();
        document.raw.watchers.value.retain(|w| w.name.value == name);
        let unknown = Place::UNKNOWN;
        let name = Spanned::new(name.to_owned(), unknown, unknown);
        let expect = &mut document.raw.expect;
        expect.recover.clear();
        expect.fail.clear();
        expect.tolerate.retain(|setup, _| *setup == name.value);
        match mechanism {
            None => expect.recover.push(name),
            Some(mechanism) => {
                expect
                    .fail
                    .insert(name.value, Spanned::new(mechanism, unknown, unknown));
            }
        }
        document
    }

    /// The same document expecting every set-up to recover, and without the bounds written for
    /// its own faults (`max_relists`, `checkpoints`): with other faults they mean nothing. The
    /// deadline and the request-rate bound stay, as they hold whatever the faults.
    #[must_use]
    pub fn for_any_faults(&self) -> Self {
        let mut document = self.clone();
        let expect = &mut document.raw.expect;
        expect.max_relists = None;
        expect.checkpoints.clear();
        expect.fail.clear();
        expect.recover = document
            .raw
            .watchers
            .value
            .iter()
            .map(|w| w.name.clone())
            .collect();
        document
    }

    /// The same document under another name and description.
    #[must_use]
    pub fn named(&self, name: &str, description: &str) -> Self {
        let mut document = self.clone();
        document.raw.name = Some(name.to_owned());
        document.raw.description = Some(description.to_owned());
        document
    }

    /// The document as a scenario file: what [`super::load`] reads back as this scenario.
    #[must_use]
    pub fn to_yaml(&self) -> String {
        // NB: every field is plain data, which the YAML serializer cannot fail on.
        serde_saphyr::to_string(&self.raw).unwrap_or_default()
    }
}
