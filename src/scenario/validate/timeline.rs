//! The timeline: entries in time order within the scenario's duration, each read into a typed
//! action (a write by its walk, `write_form.rs`; a fault by its own, [`Fault::read`]), repeats
//! expanded, and the writes replayed so each names an object that exists when it lands.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::{Location as Place, Spanned};

use super::objects::{KnownBodies, display_key, server_set_field, server_set_hint};
use super::validator::Validator;
use crate::fault::{Fault, FaultKind, Restart};
use crate::merge_patch::merge_patch;
use crate::scenario::error::Result;
use crate::scenario::file::{ObjectFile, REPEAT, StepFile};
use crate::scenario::placeholder;
use crate::scenario::spec::{Action, Step, Write};
use crate::scenario::topology::ReplicaSpec;
use crate::scenario::yaml::with_suggestion;
use crate::span::format as fmt;

/// Repeated updates expand into single steps; more than this is surely a typo.
const MAX_STEPS: usize = 100_000;
/// Why an update that leaves its object as it was is refused.
const NO_OP: &str = "this update leaves the object as it was, and kube-apiserver writes nothing \
    for that (no new resourceVersion, no event); make it change the object: in a repeated \
    update, `{n}` in a string is the repeat's number and `{now}` the time of the write";

/// Every `kind:` a timeline entry can have, writes first.
fn kinds() -> Vec<&'static str> {
    Write::kinds().into_iter().chain(Fault::kinds()).collect()
}

impl Validator<'_> {
    /// The timeline in time order, repeats expanded, its writes replayed from `known`.
    pub(super) fn timeline(
        &self,
        raw: Vec<StepFile>,
        duration: Duration,
        namespaced: bool,
        live: KnownBodies,
        replicas: &[ReplicaSpec],
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
        self.check_one_apiserver(&steps)?;
        self.check_failovers(&steps, replicas)?;
        Ok(steps.into_iter().map(|(step, _, _)| step).collect())
    }

    /// The faults describe one apiserver. `early_bookmarks` is one that asks etcd for progress
    /// without checking its version, against an etcd that answers early; `watch_error:
    /// watch_progress_unsupported` is one that checks and finds etcd cannot answer at all
    /// (apiserver `storage/feature/feature_support_checker.go`).
    fn check_one_apiserver(&self, steps: &[(Step, Place, String)]) -> Result<()> {
        let first = |kind: FaultKind| {
            steps.iter().find(
                |(s, _, _)| matches!(&s.action, Action::Fault(fault) if fault.kind_of() == kind),
            )
        };
        let (Some(unsupported), Some(early)) = (
            first(FaultKind::WatchError),
            first(FaultKind::EarlyBookmarks),
        ) else {
            return Ok(());
        };
        let (_, here, key) = if unsupported.0.at <= early.0.at {
            early
        } else {
            unsupported
        };
        Err(self.invalid(
            format!("{key}.kind"),
            Some(here),
            "`early_bookmarks` and `watch_error: watch_progress_unsupported` are two different \
             apiservers: one asks etcd for progress without checking its version (and an etcd \
             before 3.4.25 or 3.5.8 answers ahead of its events), the other checks and finds \
             that etcd cannot answer at all; a scenario plays one",
        ))
    }

    /// The times an entry at `at` happens: once, or every `every` until `until`.
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
    /// A failover goes to one of the server's replicas, and needs some.
    fn check_failovers(
        &self,
        steps: &[(Step, Place, String)],
        replicas: &[ReplicaSpec],
    ) -> Result<()> {
        for (step, here, key) in steps {
            let Action::Fault(Fault::Failover { to }) = &step.action else {
                continue;
            };
            if replicas.iter().any(|r| r.name == *to) {
                continue;
            }
            let names: Vec<&str> = replicas.iter().map(|r| r.name.as_str()).collect();
            return Err(self.invalid(
                format!("{key}.to"),
                Some(here),
                if names.is_empty() {
                    "a failover moves clients between replicas behind a load balancer: give the server `replicas`".to_owned()
                } else {
                    format!("{to:?} is not a replica; the server's are {}", names.join(", "))
                },
            ));
        }
        Ok(())
    }

    fn check_writes(&self, steps: &[(Step, Place, String)], mut known: KnownBodies) -> Result<()> {
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
            let (namespace, name) = match write {
                Write::Create(o) => (&o.namespace, &o.name),
                Write::Update {
                    namespace, name, ..
                }
                | Write::Delete { namespace, name } => (namespace, name),
            };
            let verb = write.kind();
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

    /// The typed action of one entry.
    fn action(&self, key: &str, raw: StepFile, namespaced: bool) -> Result<Action> {
        let kind = raw.kind.value.as_str();
        let here = raw.at.referenced;
        if !Write::kinds().contains(&kind) {
            if Fault::keys_of(kind).is_none() {
                return Err(self.invalid(
                    format!("{key}.kind"),
                    Some(&raw.kind.referenced),
                    with_suggestion(format!(
                        "unknown variant `{kind}`, expected one of {}",
                        kinds().join(", ")
                    )),
                ));
            }
            return Fault::read(kind, raw.keys, here, &REPEAT)
                .map(Action::Fault)
                .map_err(|e| self.invalid(format!("{key}.{}", e.key), Some(&e.at), e.message));
        }
        let repeat: Vec<(&'static str, Place)> = REPEAT
            .into_iter()
            .zip([&raw.every, &raw.until])
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v.referenced)))
            .collect();
        let read = Write::read(kind, raw.keys, &repeat, here)
            .map_err(|e| self.invalid(format!("{key}.{}", e.key), Some(&e.at), e.message))?;
        let name_at = read.place("name");
        let body_at = read.place("body");
        Ok(Action::Write(match read.write {
            Write::Create(object) => Write::Create(self.object(
                key,
                ObjectFile {
                    name: Spanned::new(object.name, name_at, name_at),
                    namespace: object.namespace,
                    labels: object.labels,
                    body: Arc::unwrap_or_clone(object.body),
                },
                namespaced,
            )?),
            Write::Update {
                name,
                namespace,
                labels,
                body,
            } => {
                // What the patch makes of the object is checked once the writes are replayed.
                if let Some(field) = server_set_field(&body) {
                    return Err(self.invalid(
                        format!("{key}.body.{field}"),
                        Some(&body_at),
                        server_set_hint(),
                    ));
                }
                Write::Update {
                    name: self.name(key, name, Some(&name_at))?,
                    namespace: self.namespace(key, namespace, namespaced, Some(&name_at))?,
                    labels,
                    body,
                }
            }
            Write::Delete { name, namespace } => Write::Delete {
                name: self.name(key, name, Some(&name_at))?,
                namespace: self.namespace(key, namespace, namespaced, Some(&name_at))?,
            },
        }))
    }
}
