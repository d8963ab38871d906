//! The validator and the scenario as a whole: its name, duration, resource, server and
//! `expect`. The objects, the timeline and the set-ups each have a file of their own in this
//! folder, and every check names the key and, where known, the place of its value.

use std::time::Duration;

use serde_saphyr::Location as Place;

use crate::openapi::Kind;
use crate::scenario::error::{Error, Location, Result};
use crate::scenario::file::{ExpectFile, ResourceFile, ScenarioFile, ServerFile};
use crate::scenario::spec::{Expect, ResourceSpec, Scenario, ServerSpec};
use crate::span::format as fmt;

/// A scenario longer than this is surely a typo (`duration: 20h` for `20m`).
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Validates a scenario file already read; errors name `file`.
pub(in crate::scenario) fn validate(
    raw: ScenarioFile,
    file: &str,
    stem: Option<String>,
) -> Result<Scenario> {
    Validator { file, kind: None }.scenario(raw, stem)
}

/// Checks a scenario file's contents; errors name `file`.
pub(in crate::scenario) struct Validator<'a> {
    file: &'a str,
    /// The built-in kind the resource is, once known: its objects are checked against it.
    pub(super) kind: Option<Kind>,
}

impl Validator<'_> {
    /// The error for `key`, at `at` where known.
    pub(in crate::scenario) fn invalid(
        &self,
        key: impl Into<String>,
        at: Option<&Place>,
        message: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            location: Location {
                file: self.file.to_owned(),
                line: at.map(Place::line),
                column: at.map(Place::column),
                key: key.into(),
            },
            message: message.into(),
        }
    }

    fn scenario(&self, mut raw: ScenarioFile, stem: Option<String>) -> Result<Scenario> {
        let name = raw
            .name
            .take()
            .or(stem)
            .unwrap_or_else(|| "scenario".to_owned());
        if name.trim().is_empty() {
            return Err(self.invalid("name", None, "the name must not be empty"));
        }
        let duration = raw.duration.value.get();
        if duration.is_zero() || duration > MAX_DURATION {
            return Err(self.invalid(
                "duration",
                Some(&raw.duration.referenced),
                format!(
                    "must be above 0s and at most 7 days, found {}",
                    raw.duration.value
                ),
            ));
        }
        let (resource, kind) = self.resource(&mut raw.resource)?;
        let this = Validator {
            file: self.file,
            kind,
        };
        this.rest(raw, name, duration, resource)
    }

    /// The watched resource, and the built-in kind it is, if it is one.
    fn resource(&self, raw: &mut ResourceFile) -> Result<(ResourceSpec, Option<Kind>)> {
        let resource = ResourceSpec {
            group: std::mem::take(&mut raw.group),
            version: std::mem::take(&mut raw.version),
            kind: std::mem::take(&mut raw.kind.value),
            plural: std::mem::take(&mut raw.plural.value),
            namespaced: raw.namespaced,
        };
        for (key, value) in [
            ("resource.version", &resource.version),
            ("resource.kind", &resource.kind),
            ("resource.plural", &resource.plural),
        ] {
            if value.trim().is_empty() || value.contains('/') {
                return Err(self.invalid(
                    key,
                    None,
                    format!("must be a non-empty name without `/`, found {value:?}"),
                ));
            }
        }
        let kind = Kind::find(&resource.group, &resource.version, &resource.kind);
        if let Some(kind) = &kind {
            if kind.plural != resource.plural {
                return Err(self.invalid(
                    "resource.plural",
                    Some(&raw.plural.referenced),
                    format!(
                        "{} is served as `{}`, found {:?}",
                        kind.name(),
                        kind.plural,
                        resource.plural
                    ),
                ));
            }
            if kind.namespaced != resource.namespaced {
                return Err(self.invalid(
                    "resource.namespaced",
                    Some(&raw.kind.referenced),
                    format!(
                        "{} is {}",
                        kind.name(),
                        if kind.namespaced {
                            "namespaced"
                        } else {
                            "cluster-scoped: `namespaced: false`"
                        }
                    ),
                ));
            }
        }
        Ok((resource, kind))
    }

    /// The scenario past its resource, checked against the resource's kind.
    fn rest(
        &self,
        raw: ScenarioFile,
        name: String,
        duration: Duration,
        resource: ResourceSpec,
    ) -> Result<Scenario> {
        // Named by field, not by type: the objects are validated in `objects.rs`, which builds
        // on this file, and this file does not import back from it.
        let starting = self.objects(
            raw.resource.objects,
            raw.resource.generate,
            resource.namespaced,
        )?;
        let server = self.server(&raw.server)?;
        let timeline = self.timeline(
            raw.timeline,
            duration,
            resource.namespaced,
            starting.known,
            &server.replicas,
        )?;
        let watchers = self.watchers(raw.watchers, &raw.expect, &resource)?;
        let expect = self.expect(&raw.expect, duration)?;
        Ok(Scenario {
            name,
            description: raw.description.unwrap_or_default().trim().to_owned(),
            seed: raw.seed.unwrap_or(0),
            duration,
            resource,
            objects: starting.objects,
            server,
            timeline,
            watchers,
            expect,
        })
    }

    /// The server's behaviour, each setting at its default when left out.
    fn server(&self, raw: &ServerFile) -> Result<ServerSpec> {
        let watch_cache_window = raw
            .watch_cache_window
            .as_ref()
            .map_or(ServerSpec::MIN_WATCH_CACHE_WINDOW, |s| s.value.get());
        if watch_cache_window < ServerSpec::MIN_WATCH_CACHE_WINDOW {
            return Err(self.invalid(
                "server.watch_cache_window",
                raw.watch_cache_window.as_ref().map(|s| &s.referenced),
                format!(
                    "kube-apiserver refuses a watch cache window below {} (`DefaultEventFreshDuration`), found {}",
                    fmt(ServerSpec::MIN_WATCH_CACHE_WINDOW),
                    fmt(watch_cache_window)
                ),
            ));
        }
        let (replicas, load_balancer) = self.topology(raw, watch_cache_window)?;
        let server = ServerSpec {
            watch_cache: raw.watch_cache.unwrap_or(true),
            watch_cache_window,
            watch_cache_init: raw.watch_cache_init.map_or(Duration::ZERO, |s| s.get()),
            watch_list: raw.watch_list.unwrap_or(true),
            watch_list_compression: raw.watch_list_compression.unwrap_or(true),
            bookmark_interval: raw
                .bookmark_interval
                .map_or(Duration::from_secs(60), |s| s.get()),
            churn_interval: raw.churn_interval.map(|s| s.get()),
            compaction_interval: raw.compaction_interval.map(|s| s.get()),
            max_requests: raw.max_requests.unwrap_or(10_000),
            replicas,
            load_balancer,
        };
        for (key, value) in [
            ("server.bookmark_interval", Some(server.bookmark_interval)),
            ("server.churn_interval", server.churn_interval),
            ("server.compaction_interval", server.compaction_interval),
        ] {
            if value.is_some_and(|v| v < Duration::from_millis(100)) {
                return Err(self.invalid(key, None, "must be at least 100ms"));
            }
        }
        Ok(server)
    }

    /// What "recovered" means: the bounds, and checkpoints within the scenario's duration.
    fn expect(&self, raw: &ExpectFile, duration: Duration) -> Result<Expect> {
        let mut checkpoints = Vec::new();
        for (i, at) in raw.checkpoints.iter().enumerate() {
            let (at, here) = (at.value.get(), at.referenced);
            if at > duration {
                return Err(self.invalid(
                    format!("expect.checkpoints[{i}]"),
                    Some(&here),
                    format!(
                        "{} is past the scenario's duration of {}",
                        fmt(at),
                        fmt(duration)
                    ),
                ));
            }
            checkpoints.push(at);
        }
        Ok(Expect {
            deadline: raw.deadline.get(),
            max_relists: raw.max_relists,
            max_requests_per_minute: raw.max_requests_per_minute,
            checkpoints,
        })
    }
}
