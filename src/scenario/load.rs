//! Reading a scenario: bytes → UTF-8 → YAML (with key paths) → [`ScenarioFile`] → [`Scenario`].

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::{Location as Place, Spanned};

use super::error::{Error, Location, Result};
use super::file::{
    BackoffFile, BackoffOnFile, ConsumerFile, ExpectFile, GenerateFile, ListSemanticFile,
    ObjectFile, ScenarioFile, StepFile, WatcherFile,
};
use super::model::{
    Action, Backoff, BackoffOn, ClientSettings, Consumer, Expect, Expected, ListSemantic,
    ObjectSpec, PageSize, ResourceSpec, Scenario, ServerSpec, SetUp, Shape, Step, Timeout,
    WatcherSettings, Write,
};
use crate::fault::{Fault, Restart};
use crate::mechanism::Mechanism;
use crate::openapi::{Kind, Violation};
use crate::merge_patch::merge_patch;
use crate::scenario::placeholder;

/// An object's fields besides `metadata`, shared.
type Body = Arc<BTreeMap<String, serde_json::Value>>;
/// What the loader knows of an object as the timeline goes: its body and labels.
type Known = BTreeMap<(Option<String>, String), (Body, BTreeMap<String, String>)>;
use crate::selector::Selector;

/// A scenario longer than this is surely a typo (`duration: 20h` for `20m`).
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Repeated updates expand into single steps; more than this is surely a typo.
const MAX_STEPS: usize = 100_000;
/// Why an update that leaves its object as it was is refused.
const NO_OP: &str = "this update leaves the object as it was, and kube-apiserver writes nothing \
    for that (no new resourceVersion, no event); make it change the object: in a repeated \
    update, `{n}` in a string is the repeat's number and `{now}` the time of the write";
/// The YAML node budget: stops alias bombs in milliseconds (serde-saphyr's budget). A large
/// collection is written with `generate`, not a line per object.
const MAX_NODES: usize = 200_000;
/// Generated objects per `generate` entry at most: a large cluster's biggest collections.
const MAX_GENERATED: u32 = 1_000_000;

/// The scenario files (`*.yaml`, `*.yml`) of directory `dir`, in name order.
///
/// # Errors
/// The directory cannot be read.
pub fn files_in(dir: impl AsRef<Path>) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
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
pub(super) fn read(path: &Path) -> Result<(String, String, Option<String>)> {
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

/// Validates a scenario file already read; errors name `file`.
pub(super) fn validate(raw: ScenarioFile, file: &str, stem: Option<String>) -> Result<Scenario> {
    Validator { file, kind: None }.scenario(raw, stem)
}

pub(super) fn deserialize(text: &str, file: &str) -> Result<ScenarioFile> {
    let path = RefCell::new(String::new());
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = MAX_NODES;
    options.budget = Some(budget);
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            *path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let location = e.location();
        let key = without_span_segments(&path.into_inner());
        Error::Parse {
            location: Location {
                file: file.to_owned(),
                line: location.map(|l| l.line()),
                column: location.map(|l| l.column()),
                // The path of a duplicate key ends in `?`: serde never got to name it, the
                // message does.
                key: match key.as_str() {
                    "." => String::new(),
                    "?" => e
                        .without_snippet()
                        .to_string()
                        .strip_prefix("duplicate mapping key: ")
                        .and_then(|rest| rest.split(',').next())
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    _ => key,
                },
            },
            message: message_of(&e),
        }
    })
}

/// The key path as the file spells it: fields parsed as `Spanned<T>` add a `.value` segment
/// that is not in the file.
fn without_span_segments(path: &str) -> String {
    let mut out = path
        .replace("watchers.value", "watchers")
        .replace("duration.value", "duration")
        .replace(".at.value", ".at")
        .replace(".name.value", ".name")
        .replace("resource.kind.value", "resource.kind")
        .replace("resource.plural.value", "resource.plural")
        .replace("watch_cache_window.value", "watch_cache_window");
    for list in ["checkpoints[", "recover["] {
        let mut from = 0;
        while let Some(start) = out[from..].find(list).map(|i| i + from) {
            let Some(close) = out[start..].find(']').map(|i| i + start) else {
                break;
            };
            if out[close + 1..].starts_with(".value") {
                out.replace_range(close + 1..close + 7, "");
            }
            from = close + 1;
        }
    }
    out
}

/// serde-saphyr's message without its own "at line X, column Y" suffix, which
/// [`Location`] already says.
fn message_of(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    if text.contains("budget breached") {
        return format!(
            "the document expands to more than {MAX_NODES} YAML nodes (an alias bomb?); refused before it could"
        );
    }
    if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let name = rest.split(',').next().unwrap_or(rest).trim();
        return format!("the key `{name}` appears twice in one mapping");
    }
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    with_suggestion(text)
}

/// serde's "unknown field `colr`, expected one of a, b" (or "unknown variant"), with the
/// closest expected name when one is close: "; did you mean `color`?".
pub(super) fn with_suggestion(message: String) -> String {
    let Some((unknown, expected)) = message
        .split_once("unknown field `")
        .or_else(|| message.split_once("unknown variant `"))
        .and_then(|(_, rest)| rest.split_once('`'))
        .and_then(|(unknown, rest)| {
            rest.split_once("expected one of ")
                .or_else(|| rest.split_once("expected "))
                .map(|(_, expected)| (unknown, expected))
        })
    else {
        return message;
    };
    let names = expected
        .split(", ")
        .map(|name| name.trim_matches(|c| c == '`' || c == ' '));
    match crate::suggest::closest(unknown, names) {
        Some(name) => format!("{message}; did you mean `{name}`?"),
        None => message,
    }
}

pub(super) struct Validator<'a> {
    file: &'a str,
    /// The built-in kind the resource is, once known: its objects are checked against it.
    kind: Option<Kind>,
}

impl Validator<'_> {
    pub(super) fn invalid(
        &self,
        key: impl Into<String>,
        at: Option<&serde_saphyr::Location>,
        message: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            location: Location {
                file: self.file.to_owned(),
                line: at.map(serde_saphyr::Location::line),
                column: at.map(serde_saphyr::Location::column),
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
        let resource = ResourceSpec {
            group: std::mem::take(&mut raw.resource.group),
            version: std::mem::take(&mut raw.resource.version),
            kind: std::mem::take(&mut raw.resource.kind.value),
            plural: std::mem::take(&mut raw.resource.plural.value),
            namespaced: raw.resource.namespaced,
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
                    Some(&raw.resource.plural.referenced),
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
                    Some(&raw.resource.kind.referenced),
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
        let this = Validator {
            file: self.file,
            kind,
        };
        this.rest(raw, name, duration, resource)
    }

    /// The scenario past its resource, checked against the resource's kind.
    fn rest(
        &self,
        raw: ScenarioFile,
        name: String,
        duration: Duration,
        resource: ResourceSpec,
    ) -> Result<Scenario> {
        let mut objects = Vec::new();
        let mut live = BTreeMap::new();
        for (i, object) in raw.resource.objects.into_iter().enumerate() {
            let key = format!("resource.objects[{i}]");
            let object = self.object(&key, object, resource.namespaced)?;
            let id = (object.namespace.clone(), object.name.clone());
            if live
                .insert(id, (object.body.clone(), object.labels.clone()))
                .is_some()
            {
                return Err(self.invalid(
                    key,
                    None,
                    format!(
                        "object {} is listed twice",
                        display_key(&object.namespace, &object.name)
                    ),
                ));
            }
            objects.push(object);
        }
        for (i, generate) in raw.resource.generate.into_iter().enumerate() {
            let key = format!("resource.generate[{i}]");
            let here = generate.name.referenced;
            for object in self.generated(&key, generate, resource.namespaced)? {
                let id = (object.namespace.clone(), object.name.clone());
                if live
                    .insert(id, (object.body.clone(), object.labels.clone()))
                    .is_some()
                {
                    return Err(self.invalid(
                        format!("{key}.name"),
                        Some(&here),
                        format!(
                            "generates {}, which another entry already holds",
                            display_key(&object.namespace, &object.name)
                        ),
                    ));
                }
                objects.push(object);
            }
        }
        let watch_cache_window = raw
            .server
            .watch_cache_window
            .as_ref()
            .map_or(ServerSpec::MIN_WATCH_CACHE_WINDOW, |s| s.value.get());
        if watch_cache_window < ServerSpec::MIN_WATCH_CACHE_WINDOW {
            return Err(self.invalid(
                "server.watch_cache_window",
                raw.server.watch_cache_window.as_ref().map(|s| &s.referenced),
                format!(
                    "kube-apiserver refuses a watch cache window below {} (`DefaultEventFreshDuration`), found {}",
                    fmt(ServerSpec::MIN_WATCH_CACHE_WINDOW),
                    fmt(watch_cache_window)
                ),
            ));
        }
        let server = ServerSpec {
            watch_cache: raw.server.watch_cache.unwrap_or(true),
            watch_cache_window,
            watch_cache_init: raw
                .server
                .watch_cache_init
                .map_or(Duration::ZERO, |s| s.get()),
            watch_list: raw.server.watch_list.unwrap_or(true),
            bookmark_interval: raw
                .server
                .bookmark_interval
                .map_or(Duration::from_secs(60), |s| s.get()),
            churn_interval: raw.server.churn_interval.map(|s| s.get()),
            compaction_interval: raw.server.compaction_interval.map(|s| s.get()),
            max_requests: raw.server.max_requests.unwrap_or(10_000),
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
        let timeline = self.timeline(raw.timeline, duration, resource.namespaced, live)?;
        let watchers = self.watchers(raw.watchers, &raw.expect, &resource)?;
        let mut checkpoints = Vec::new();
        for (i, at) in raw.expect.checkpoints.iter().enumerate() {
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
        let expect = Expect {
            deadline: raw.expect.deadline.get(),
            max_relists: raw.expect.max_relists,
            max_requests_per_minute: raw.expect.max_requests_per_minute,
            checkpoints,
        };
        Ok(Scenario {
            name,
            description: raw.description.unwrap_or_default().trim().to_owned(),
            seed: raw.seed.unwrap_or(0),
            duration,
            resource,
            objects,
            server,
            timeline,
            watchers,
            expect,
        })
    }

    pub(super) fn object(
        &self,
        key: &str,
        raw: ObjectFile,
        namespaced: bool,
    ) -> Result<ObjectSpec> {
        let here = raw.name.referenced;
        let namespace = self.namespace(key, raw.namespace, namespaced, Some(&here))?;
        if raw.body.contains_key("metadata")
            || raw.body.contains_key("kind")
            || raw.body.contains_key("apiVersion")
        {
            return Err(self.invalid(format!("{key}.body"), Some(&here), "`metadata`, `kind` and `apiVersion` are set by the server; use `name`, `namespace` and `labels`"));
        }
        if let Some(kind) = &self.kind
            && let Err(violation) = kind.check_body(&raw.body)
        {
            return Err(self.unstorable(key, kind, &violation, &here));
        }
        Ok(ObjectSpec {
            name: self.name(key, raw.name.value, Some(&here))?,
            namespace,
            labels: raw.labels,
            body: Arc::new(raw.body),
        })
    }

    /// An object kube-apiserver would refuse, at `key.body.<field>`.
    fn unstorable(&self, key: &str, kind: &Kind, violation: &Violation, here: &Place) -> Error {
        self.invalid(
            format!("{key}.body.{}", violation.path),
            Some(here),
            format!(
                "kube-apiserver could not have stored this {}: {violation}",
                kind.name()
            ),
        )
    }

    /// The objects a `generate` entry stands for, each checked as a listed object is.
    fn generated(&self, key: &str, raw: GenerateFile, namespaced: bool) -> Result<Vec<ObjectSpec>> {
        let (count, counted) = (raw.count.value, raw.count.referenced);
        let (pattern, here) = (raw.name.value, raw.name.referenced);
        if count == 0 || count > MAX_GENERATED {
            return Err(self.invalid(
                format!("{key}.count"),
                Some(&counted),
                format!("must be between 1 and {MAX_GENERATED}, found {count}"),
            ));
        }
        if !pattern.contains("{i}") {
            return Err(self.invalid(
                format!("{key}.name"),
                Some(&here),
                format!(
                    "{pattern:?} has no `{{i}}`: every generated object needs a name of its own"
                ),
            ));
        }
        // The first object is checked whole; the others differ only in their names, and the
        // longest of those is the last.
        let object = |i: u32| ObjectFile {
            name: Spanned::new(pattern.replace("{i}", &i.to_string()), here, here),
            namespace: raw.namespace.clone(),
            labels: raw.labels.clone(),
            body: raw.body.clone(),
        };
        let first = self.object(key, object(0), namespaced)?;
        self.name(
            key,
            pattern.replace("{i}", &(count - 1).to_string()),
            Some(&here),
        )?;
        Ok((0..count)
            .map(|i| ObjectSpec {
                name: pattern.replace("{i}", &i.to_string()),
                ..first.clone()
            })
            .collect())
    }

    pub(super) fn name(&self, key: &str, name: String, here: Option<&Place>) -> Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if valid {
            Ok(name)
        } else {
            Err(self.invalid(
                format!("{key}.name"),
                here,
                format!(
                    "{name:?} is not a valid object name (lowercase letters, digits, `-` and `.`)"
                ),
            ))
        }
    }

    pub(super) fn namespace(
        &self,
        key: &str,
        namespace: Option<String>,
        namespaced: bool,
        here: Option<&Place>,
    ) -> Result<Option<String>> {
        match (namespaced, namespace) {
            (true, None) => Ok(Some("default".to_owned())),
            (true, Some(ns)) if !ns.is_empty() && !ns.contains('/') => Ok(Some(ns)),
            (true, Some(ns)) => Err(self.invalid(format!("{key}.namespace"), here, format!("{ns:?} is not a valid namespace"))),
            (false, None) => Ok(None),
            (false, Some(_)) => Err(self.invalid(format!("{key}.namespace"), here, "the resource is cluster-scoped (`namespaced: false`), so objects take no namespace")),
        }
    }

    fn timeline(
        &self,
        raw: Vec<StepFile>,
        duration: Duration,
        namespaced: bool,
        live: Known,
    ) -> Result<Vec<Step>> {
        let mut steps = Vec::new();
        let mut previous = Duration::ZERO;
        for (i, raw) in raw.into_iter().enumerate() {
            let key = format!("timeline[{i}]");
            let at = raw.at.value.get();
            let here = raw.at.referenced;
            if at < previous {
                return Err(self.invalid(
                    format!("{key}.at"),
                    Some(&here),
                    format!(
                        "timeline out of order: {} comes after a step at {}",
                        fmt(at),
                        fmt(previous)
                    ),
                ));
            }
            if at > duration {
                return Err(self.invalid(
                    format!("{key}.at"),
                    Some(&here),
                    format!(
                        "{} is past the scenario's duration of {}",
                        fmt(at),
                        fmt(duration)
                    ),
                ));
            }
            previous = at;
            // `action` rejects `every` on kinds that cannot repeat; `repeat` rejects half a pair.
            let (every, until) = (
                raw.every.as_ref().map(|s| s.value.get()),
                raw.until.as_ref().map(|s| s.value.get()),
            );
            let action = self.action(&key, raw, namespaced)?;
            let times = self.repeat(&key, at, every, until, duration, &here)?;
            for (n, at) in (1..).zip(times) {
                steps.push((
                    Step {
                        at,
                        action: placeholder::numbered(&action, n),
                    },
                    here,
                    key.clone(),
                ));
                if steps.len() > MAX_STEPS {
                    return Err(self.invalid(
                        key,
                        Some(&here),
                        format!("the timeline expands to more than {MAX_STEPS} steps"),
                    ));
                }
            }
        }
        // Repeated updates interleave with later steps; a stable sort keeps declaration order
        // among steps at the same instant.
        steps.sort_by_key(|(s, _, _)| s.at);
        self.check_writes(&steps, live)?;
        Ok(steps.into_iter().map(|(step, _, _)| step).collect())
    }

    fn repeat(
        &self,
        key: &str,
        at: Duration,
        every: Option<Duration>,
        until: Option<Duration>,
        duration: Duration,
        here: &Place,
    ) -> Result<Vec<Duration>> {
        match (every, until) {
            (None, None) => Ok(vec![at]),
            (Some(_), None) => Err(self.invalid(
                format!("{key}.until"),
                Some(here),
                "`every` needs `until`: when do the repeats stop?",
            )),
            (None, Some(_)) => Err(self.invalid(
                format!("{key}.every"),
                Some(here),
                "`until` needs `every`: how often does the step repeat?",
            )),
            (Some(every), Some(until)) => {
                if every < Duration::from_millis(1) {
                    return Err(self.invalid(
                        format!("{key}.every"),
                        Some(here),
                        "must be at least 1ms",
                    ));
                }
                if until < at || until > duration {
                    return Err(self.invalid(
                        format!("{key}.until"),
                        Some(here),
                        format!(
                            "must lie between `at` ({}) and the scenario's duration ({}), found {}",
                            fmt(at),
                            fmt(duration),
                            fmt(until)
                        ),
                    ));
                }
                let count = (until - at).as_nanos() / every.as_nanos() + 1;
                if count > MAX_STEPS as u128 {
                    return Err(self.invalid(
                        format!("{key}.every"),
                        Some(here),
                        format!("repeats {count} times; at most {MAX_STEPS} steps are allowed"),
                    ));
                }
                let count = u32::try_from(count).expect("count is at most MAX_STEPS");
                Ok((0..count).map(|n| at + every * n).collect())
            }
        }
    }

    /// Replays the writes so each one names an object that exists (or, for `create`, does not),
    /// no write lands inside an `idle` window, and what each update makes of its object is
    /// still an object kube-apiserver could store.
    fn check_writes(&self, steps: &[(Step, Place, String)], mut known: Known) -> Result<()> {
        let mut live: BTreeSet<_> = known.keys().cloned().collect();
        let idle: Vec<(Duration, Duration)> = steps
            .iter()
            .filter_map(|(s, _, _)| match &s.action {
                Action::Fault(Fault::Idle { duration }) => Some((s.at, s.at + *duration)),
                _ => None,
            })
            .collect();
        // After etcd is reset or restored, which objects exist depends on revisions the loader
        // cannot know; the server skips (and logs) a write it refuses.
        let mut replay = true;
        for (step, here, step_key) in steps {
            if let Action::Fault(Fault::Restart {
                restart: Restart::Reset | Restart::Regress { .. },
                ..
            }) = &step.action
            {
                replay = false;
            }
            let Action::Write(write) = &step.action else {
                continue;
            };
            let (namespace, name, verb) = match write {
                Write::Create(o) => (&o.namespace, &o.name, "create"),
                Write::Update {
                    namespace, name, ..
                } => (namespace, name, "update"),
                Write::Delete { namespace, name } => (namespace, name, "delete"),
            };
            let where_ = format!(
                "timeline ({verb} {} at {})",
                display_key(namespace, name),
                fmt(step.at)
            );
            if let Some((start, end)) = idle
                .iter()
                .find(|(start, end)| (*start..*end).contains(&step.at))
            {
                return Err(self.invalid(
                    where_,
                    Some(here),
                    format!(
                        "a write inside the idle window {}..{} contradicts it",
                        fmt(*start),
                        fmt(*end)
                    ),
                ));
            }
            let key = (namespace.clone(), name.clone());
            // The bodies are replayed past a restart too: after etcd is restored, an update
            // applies to whatever version came back, and the one last known stands for it.
            match write {
                Write::Create(o) => {
                    known.insert(key.clone(), (Arc::clone(&o.body), o.labels.clone()));
                }
                Write::Update {
                    body: patch,
                    labels,
                    ..
                } => {
                    if let Some((body, known_labels)) = known.get_mut(&key) {
                        let changing = placeholder::holds(patch, placeholder::NOW);
                        let patch =
                            placeholder::fill(patch, placeholder::NOW, placeholder::SAMPLE_NOW);
                        let before =
                            (replay && !changing).then(|| (Arc::clone(body), known_labels.clone()));
                        merge_patch(Arc::make_mut(body), &patch);
                        if let Some(labels) = labels {
                            known_labels.clone_from(labels);
                        }
                        if let Some(kind) = &self.kind
                            && let Err(violation) = kind.check_body(body)
                        {
                            return Err(self.unstorable(step_key, kind, &violation, here));
                        }
                        if before.is_some_and(|(b, l)| *b == **body && l == *known_labels) {
                            return Err(self.invalid(where_, Some(here), NO_OP));
                        }
                    }
                }
                Write::Delete { .. } => {
                    known.remove(&key);
                }
            }
            if !replay {
                continue;
            }
            let exists = live.contains(&key);
            match write {
                Write::Create(_) if exists => {
                    return Err(self.invalid(
                        where_,
                        Some(here),
                        "the object already exists at that time",
                    ));
                }
                Write::Create(_) => {
                    live.insert(key);
                }
                Write::Update { .. } if !exists => {
                    return Err(self.invalid(where_, Some(here), "no such object at that time"));
                }
                Write::Update { .. } => {}
                Write::Delete { .. } if !exists => {
                    return Err(self.invalid(where_, Some(here), "no such object at that time"));
                }
                Write::Delete { .. } => {
                    live.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn watchers(
        &self,
        raw: Spanned<Vec<WatcherFile>>,
        expect: &ExpectFile,
        resource: &ResourceSpec,
    ) -> Result<Vec<SetUp>> {
        let (raw, here) = (raw.value, raw.referenced);
        if raw.is_empty() {
            return Err(self.invalid(
                "watchers",
                Some(&here),
                "the watcher matrix is empty: name at least one set-up",
            ));
        }
        // Each set-up named in `expect`, with what is expected of it and where it is named.
        let mut expected: BTreeMap<&str, (Expected, Option<Mechanism>, Place)> = BTreeMap::new();
        for name in &expect.recover {
            expected.insert(&name.value, (Expected::Recover, None, name.referenced));
        }
        for (name, mechanism) in &expect.fail {
            let named = (Expected::Fail, Some(mechanism.value), mechanism.referenced);
            if expected.insert(name, named).is_some() {
                return Err(self.invalid(
                    format!("expect.fail.{name}"),
                    Some(&mechanism.referenced),
                    format!("set-up `{name}` is named in both `recover` and `fail`"),
                ));
            }
        }
        if let Some(twice) = expect.recover.iter().enumerate().find(|(i, name)| {
            expect.recover[..*i]
                .iter()
                .any(|other| other.value == name.value)
        }) {
            return Err(self.invalid(
                "expect",
                Some(&twice.1.referenced),
                format!("set-up `{}` is named twice in `recover`", twice.1.value),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut setups = Vec::new();
        for (i, w) in raw.into_iter().enumerate() {
            let key = format!("watchers[{i}]");
            let here = w.name.referenced;
            let name = w.name.value.clone();
            if name.trim().is_empty() {
                return Err(self.invalid(
                    format!("{key}.name"),
                    Some(&w.name.referenced),
                    "the name must not be empty",
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(self.invalid(
                    format!("{key}.name"),
                    Some(&w.name.referenced),
                    format!("duplicate set-up name `{name}`"),
                ));
            }
            let Some((outcome, mechanism, _)) = expected.remove(name.as_str()) else {
                return Err(self.invalid(
                    "expect",
                    Some(&w.name.referenced),
                    format!("set-up `{name}` is in neither `expect.recover` nor `expect.fail`"),
                ));
            };
            let c = w.config;
            let timeout = match c.timeout {
                None => None,
                Some(t) if t.get().subsec_nanos() != 0 => {
                    return Err(self.invalid(
                        format!("{key}.config.timeout"),
                        Some(&here),
                        format!("watch timeouts are whole seconds (`timeoutSeconds`), found {t}"),
                    ));
                }
                Some(t) => Some(u32::try_from(t.get().as_secs()).map_err(|_| {
                    self.invalid(format!("{key}.config.timeout"), Some(&here), "too large")
                })?),
            };
            let selector = match Selector::parse_for(
                &resource.group,
                &resource.kind,
                c.label_selector.as_deref(),
                c.field_selector.as_deref(),
            ) {
                Ok(selector) => selector,
                Err(message) => {
                    return Err(self.invalid(
                        format!("{key}.config"),
                        Some(&here),
                        format!("the selector would be refused by the API server: {message}"),
                    ));
                }
            };
            let config = WatcherSettings {
                bookmarks: c.bookmarks,
                timeout,
                page_size: c.page_size.map(|n| match n {
                    0 => PageSize::Unlimited,
                    n => PageSize::Of(n),
                }),
                list_semantic: c.list_semantic.map(|l| match l {
                    ListSemanticFile::MostRecent => ListSemantic::MostRecent,
                    ListSemanticFile::Any => ListSemantic::Any,
                }),
                streaming_lists: c.streaming_lists,
                label_selector: c.label_selector,
                field_selector: c.field_selector,
                selector,
                metadata_only: c.metadata_only.unwrap_or(false),
            };
            let backoff = match w.backoff.unwrap_or(BackoffFile::Default) {
                BackoffFile::None => Backoff::None,
                BackoffFile::Default => Backoff::Default,
                BackoffFile::Exponential(e) => {
                    let (initial, max) = (e.initial.get(), e.max.get());
                    if initial.is_zero() || max < initial {
                        return Err(self.invalid(
                            format!("{key}.backoff.exponential"),
                            Some(&here),
                            "needs 0 < initial <= max",
                        ));
                    }
                    if !(1.0..=100.0).contains(&e.factor) {
                        return Err(self.invalid(
                            format!("{key}.backoff.exponential.factor"),
                            Some(&here),
                            format!("must be between 1 and 100, found {}", e.factor),
                        ));
                    }
                    Backoff::Exponential {
                        initial,
                        max,
                        factor: e.factor,
                    }
                }
            };
            let client = ClientSettings {
                retry: w.client.retry,
                read_timeout: w.client.read_timeout.map(|t| match t.get() {
                    t if t.is_zero() => Timeout::Never,
                    t => Timeout::After(t),
                }),
            };
            setups.push(SetUp {
                name,
                config,
                backoff,
                backoff_on: match w.backoff_on.unwrap_or(BackoffOnFile::Watcher) {
                    BackoffOnFile::Watcher => BackoffOn::Watcher,
                    BackoffOnFile::AppliedObjects => BackoffOn::AppliedObjects,
                    BackoffOnFile::TouchedObjects => BackoffOn::TouchedObjects,
                },
                client,
                consumer: match w.consumer.unwrap_or(ConsumerFile::Reflector) {
                    ConsumerFile::Reflector => Consumer::Reflector,
                    ConsumerFile::ContinueOnError => Consumer::ContinueOnError,
                    ConsumerFile::StopOnError => Consumer::StopOnError,
                },
                shape: Shape::Events,
                expected: outcome,
                expected_mechanism: mechanism,
            });
        }
        if let Some((name, (_, _, here))) = expected.into_iter().next() {
            return Err(self.invalid(
                "expect",
                Some(&here),
                format!("`{name}` is not a set-up in `watchers`"),
            ));
        }
        Ok(setups)
    }
}

fn fmt(d: Duration) -> String {
    crate::span::format(d)
}

fn display_key(namespace: &Option<String>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod path_tests {
    use super::without_span_segments;

    #[test]
    fn span_segments_are_left_out_of_key_paths() {
        assert_eq!(without_span_segments("duration.value"), "duration");
        assert_eq!(
            without_span_segments("watchers.value[1].name.value"),
            "watchers[1].name"
        );
        assert_eq!(
            without_span_segments("expect.checkpoints[0].value"),
            "expect.checkpoints[0]"
        );
        assert_eq!(
            without_span_segments("resource.objects[0].body.value"),
            "resource.objects[0].body.value"
        );
    }
}

#[cfg(test)]
mod suggestion_tests {
    use super::with_suggestion;

    #[test]
    fn a_near_miss_gets_the_closest_name_and_a_far_one_gets_none() {
        assert_eq!(
            with_suggestion(
                "unknown variant `cut_strem`, expected one of idle, cut_stream, stall_stream"
                    .into()
            ),
            "unknown variant `cut_strem`, expected one of idle, cut_stream, stall_stream; did you mean `cut_stream`?"
        );
        assert_eq!(
            with_suggestion("unknown field `seeed`, expected one of `name`, `seed`".into()),
            "unknown field `seeed`, expected one of `name`, `seed`; did you mean `seed`?"
        );
        let far = "unknown variant `explode`, expected one of idle, compact";
        assert_eq!(with_suggestion(far.into()), far);
    }
}
