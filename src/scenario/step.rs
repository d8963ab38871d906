//! One timeline entry, from its flat file form to a typed [`Action`]: which keys each `kind:`
//! takes, their defaults, and their bounds.

use std::time::Duration;

use serde_saphyr::Location as Place;

use super::error::Result;
use super::file::{ObjectFile, RestartFile, StepFile, StepKind};
use super::load::Validator;
use super::model::{Action, Write};
use crate::fault::{
    Cut, ErrorBody, Fault, GoneForm, GoneMessage, LatencyOn, Restart, Target, TargetVerb,
};

/// The keys every request or stream fault takes to aim it.
const TARGET: &[&str] = &["for", "count", "verbs", "path", "query"];
/// The keys that repeat an entry.
const REPEAT: &[&str] = &["every", "until"];

/// HTTP errors a scenario may inject, each with its real Status (reference §4).
const HTTP_ERRORS: &[u16] = &[403, 429, 500, 503, 504];

impl StepFile {
    /// The optional keys this entry sets, by their YAML names.
    fn present(&self) -> Vec<&'static str> {
        let keys: [(&'static str, bool); 24] = [
            ("every", self.every.is_some()),
            ("until", self.until.is_some()),
            ("name", self.name.is_some()),
            ("namespace", self.namespace.is_some()),
            ("labels", self.labels.is_some()),
            ("body", self.body.is_some()),
            ("for", self.window.is_some()),
            ("retain", self.retain.is_some()),
            ("count", self.count.is_some()),
            ("verbs", self.verbs.is_some()),
            ("path", self.path.is_some()),
            ("query", self.query.is_some()),
            ("form", self.form.is_some()),
            ("message", self.message.is_some()),
            ("code", self.code.is_some()),
            ("how", self.how.is_some()),
            ("status", self.status.is_some()),
            ("format", self.format.is_some()),
            ("retry_after", self.retry_after.is_some()),
            ("delay", self.delay.is_some()),
            ("slows", self.slows.is_some()),
            ("shape", self.shape.is_some()),
            ("revision", self.revision.is_some()),
            ("by", self.by.is_some()),
        ];
        keys.iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The YAML name of a kind, for messages.
pub(super) fn kind_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Create => "create",
        StepKind::Update => "update",
        StepKind::Delete => "delete",
        StepKind::Idle => "idle",
        StepKind::Compact => "compact",
        StepKind::DropBookmarks => "drop_bookmarks",
        StepKind::StaleBookmarks => "stale_bookmarks",
        StepKind::EmptyBookmarks => "empty_bookmarks",
        StepKind::DropInitialEventsEnd => "drop_initial_events_end",
        StepKind::ExpireWatches => "expire_watches",
        StepKind::Watch410 => "watch_410",
        StepKind::EmptyWatch => "empty_watch",
        StepKind::CutStream => "cut_stream",
        StepKind::StallStream => "stall_stream",
        StepKind::HangHeaders => "hang_headers",
        StepKind::HttpError => "http_error",
        StepKind::Latency => "latency",
        StepKind::MalformedEvent => "malformed_event",
        StepKind::ExpireContinue => "expire_continue",
        StepKind::Restart => "restart",
    }
}

/// The optional keys a kind takes besides `at` and `kind`.
fn allowed(kind: StepKind) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = match kind {
        StepKind::Create | StepKind::Delete => return allowed_writes(kind),
        StepKind::Update => return allowed_writes(kind),
        StepKind::Idle
        | StepKind::DropBookmarks
        | StepKind::StaleBookmarks
        | StepKind::EmptyBookmarks => vec!["for"],
        StepKind::Compact => vec!["retain"],
        StepKind::ExpireWatches => vec![],
        StepKind::Restart => vec!["revision", "by"],
        StepKind::Watch410 => [TARGET, &["form", "message", "code"]].concat(),
        StepKind::CutStream => [TARGET, &["how"]].concat(),
        StepKind::HttpError => [TARGET, &["status", "format", "retry_after"]].concat(),
        StepKind::Latency => [TARGET, &["delay", "slows"]].concat(),
        StepKind::MalformedEvent => [TARGET, &["shape"]].concat(),
        StepKind::DropInitialEventsEnd
        | StepKind::EmptyWatch
        | StepKind::StallStream
        | StepKind::HangHeaders
        | StepKind::ExpireContinue => TARGET.to_vec(),
    };
    keys.extend_from_slice(REPEAT);
    keys
}

fn allowed_writes(kind: StepKind) -> Vec<&'static str> {
    match kind {
        StepKind::Create => vec!["name", "namespace", "labels", "body"],
        StepKind::Update => vec!["name", "namespace", "labels", "body", "every", "until"],
        _ => vec!["name", "namespace"],
    }
}

impl Validator<'_> {
    /// The typed action of one entry. `watch_cache` picks the default wording of a 410.
    pub(super) fn action(
        &self,
        key: &str,
        raw: StepFile,
        namespaced: bool,
        watch_cache: bool,
        here: &Place,
    ) -> Result<Action> {
        let kind = raw.kind;
        let allowed = allowed(kind);
        if let Some(extra) = raw.present().into_iter().find(|k| !allowed.contains(k)) {
            let takes = if allowed.is_empty() {
                "no other keys".to_owned()
            } else {
                allowed.join(", ")
            };
            return Err(self.invalid(
                format!("{key}.{extra}"),
                Some(here),
                format!(
                    "`{extra}` does not apply to `kind: {}`, which takes {takes}",
                    kind_name(kind)
                ),
            ));
        }
        let needs = |value: bool, field: &str| self.needs(value, key, field, kind, here);
        let write_name = |name: Option<String>| -> Result<String> {
            needs(name.is_some(), "name")?;
            self.name(key, name.unwrap_or_default(), Some(here))
        };
        Ok(match kind {
            StepKind::Create => {
                needs(raw.name.is_some(), "name")?;
                let object = self.object(
                    key,
                    ObjectFile {
                        name: serde_saphyr::Spanned::new(
                            raw.name.unwrap_or_default(),
                            *here,
                            *here,
                        ),
                        namespace: raw.namespace,
                        labels: raw.labels.unwrap_or_default(),
                        body: raw.body.unwrap_or_default(),
                    },
                    namespaced,
                )?;
                Action::Write(Write::Create(object))
            }
            StepKind::Update => {
                let name = write_name(raw.name)?;
                let body = raw.body.unwrap_or_default();
                // What the patch makes of the object is checked once the writes are replayed.
                if let Some(field) = ["metadata", "kind", "apiVersion"]
                    .into_iter()
                    .find(|f| body.contains_key(*f))
                {
                    return Err(self.invalid(
                        format!("{key}.body.{field}"),
                        Some(here),
                        "`metadata`, `kind` and `apiVersion` are set by the server; use `name`, `namespace` and `labels`",
                    ));
                }
                Action::Write(Write::Update {
                    name,
                    namespace: self.namespace(key, raw.namespace, namespaced, Some(here))?,
                    labels: raw.labels,
                    body,
                })
            }
            StepKind::Delete => {
                let name = write_name(raw.name)?;
                Action::Write(Write::Delete {
                    name,
                    namespace: self.namespace(key, raw.namespace, namespaced, Some(here))?,
                })
            }
            StepKind::Idle
            | StepKind::DropBookmarks
            | StepKind::StaleBookmarks
            | StepKind::EmptyBookmarks => {
                needs(raw.window.is_some(), "for")?;
                let duration = self.window(key, raw.window.map(|s| s.get()), here)?;
                Action::Fault(match kind {
                    StepKind::Idle => Fault::Idle { duration },
                    StepKind::DropBookmarks => Fault::DropBookmarks { duration },
                    StepKind::StaleBookmarks => Fault::StaleBookmarks { duration },
                    _ => Fault::EmptyBookmarks { duration },
                })
            }
            StepKind::Compact => Action::Fault(Fault::Compact {
                retain: raw.retain.map(|s| s.get()),
            }),
            StepKind::ExpireWatches => Action::Fault(Fault::ExpireWatches),
            StepKind::Restart => {
                needs(raw.revision.is_some(), "revision")?;
                let restart = match (raw.revision, raw.by) {
                    (Some(RestartFile::Regress), Some(by)) if by > 0 => Restart::Regress { by },
                    (Some(RestartFile::Regress), _) => {
                        return Err(self.invalid(
                            format!("{key}.by"),
                            Some(here),
                            "`revision: regress` needs `by`: how many revisions back (at least 1)",
                        ));
                    }
                    (_, Some(_)) => {
                        return Err(self.invalid(
                            format!("{key}.by"),
                            Some(here),
                            "`by` only applies to `revision: regress`",
                        ));
                    }
                    (Some(RestartFile::Reset), None) => Restart::Reset,
                    (_, None) => Restart::Keep,
                };
                Action::Fault(Fault::Restart { restart })
            }
            _ => {
                let fault = self.request_fault(key, &raw, watch_cache, here)?;
                let verbs = fault.applicable_verbs();
                if let Some(bad) = fault
                    .target()
                    .and_then(|t| t.verbs.iter().find(|v| !verbs.contains(v)))
                {
                    return Err(self.invalid(
                        format!("{key}.verbs"),
                        Some(here),
                        format!(
                            "`kind: {}` cannot hit `{}` requests; it hits {}",
                            kind_name(kind),
                            verb_name(*bad),
                            verbs
                                .iter()
                                .map(|v| verb_name(*v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                Action::Fault(fault)
            }
        })
    }

    fn request_fault(
        &self,
        key: &str,
        raw: &StepFile,
        watch_cache: bool,
        here: &Place,
    ) -> Result<Fault> {
        let target = Target {
            verbs: raw.verbs.clone().unwrap_or_default(),
            window: match raw.window {
                None => None,
                Some(w) => Some(self.window(key, Some(w.get()), here)?),
            },
            count: match raw.count {
                Some(0) => {
                    return Err(self.invalid(
                        format!("{key}.count"),
                        Some(here),
                        "must be at least 1 (leave it out to hit every matching request)",
                    ));
                }
                other => other,
            },
            path: raw.path.clone(),
            query: raw.query.clone(),
        };
        let needs = |value: bool, field: &str| self.needs(value, key, field, raw.kind, here);
        Ok(match raw.kind {
            StepKind::Watch410 => {
                let form = raw.form.unwrap_or(GoneForm::Event);
                if form == GoneForm::Event && raw.message.is_some() {
                    return Err(self.invalid(
                        format!("{key}.message"),
                        Some(here),
                        "`message` applies to `form: http` (a proxy's 410); the apiserver's own ERROR event speaks for its backend: the watch cache's words for a cached resource, etcd's otherwise",
                    ));
                }
                Fault::Watch410 {
                    form,
                    message: raw.message.unwrap_or(if watch_cache {
                        GoneMessage::Cache
                    } else {
                        GoneMessage::Etcd
                    }),
                    code: raw.code.unwrap_or(true),
                    target,
                }
            }
            StepKind::EmptyWatch => Fault::EmptyWatch { target },
            StepKind::CutStream => Fault::CutStream {
                how: raw.how.unwrap_or(Cut::Reset),
                target,
            },
            StepKind::StallStream => Fault::StallStream { target },
            StepKind::HangHeaders => Fault::HangHeaders { target },
            StepKind::DropInitialEventsEnd => Fault::DropInitialEventsEnd { target },
            StepKind::ExpireContinue => Fault::ExpireContinue { target },
            StepKind::HttpError => {
                needs(raw.status.is_some(), "status")?;
                let status = raw.status.unwrap_or_default();
                if !HTTP_ERRORS.contains(&status) {
                    return Err(self.invalid(
                        format!("{key}.status"),
                        Some(here),
                        format!("{status} is not one of the errors the server can give: 403, 429, 500, 503, 504"),
                    ));
                }
                let retry_after = match raw.retry_after.map(|s| s.get()) {
                    None => None,
                    Some(d) if d.subsec_nanos() != 0 || d.is_zero() => {
                        return Err(self.invalid(
                            format!("{key}.retry_after"),
                            Some(here),
                            "Retry-After is whole seconds, at least 1s",
                        ));
                    }
                    Some(d) => Some(u32::try_from(d.as_secs()).map_err(|_| {
                        self.invalid(format!("{key}.retry_after"), Some(here), "too large")
                    })?),
                };
                Fault::HttpError {
                    status,
                    body: raw.format.unwrap_or(ErrorBody::Status),
                    retry_after,
                    target,
                }
            }
            StepKind::Latency => {
                needs(raw.delay.is_some(), "delay")?;
                Fault::Latency {
                    delay: raw.delay.map(|s| s.get()).unwrap_or(Duration::ZERO),
                    on: raw.slows.unwrap_or(LatencyOn::Requests),
                    target,
                }
            }
            StepKind::MalformedEvent => {
                needs(raw.shape.is_some(), "shape")?;
                Fault::MalformedEvent {
                    shape: raw.shape.expect("checked just above"),
                    target,
                }
            }
            _ => unreachable!("writes, windows and instant faults are handled by `action`"),
        })
    }

    /// `Ok` when the entry sets `field`, which its `kind` needs.
    fn needs(&self, set: bool, key: &str, field: &str, kind: StepKind, here: &Place) -> Result<()> {
        if set {
            Ok(())
        } else {
            Err(self.invalid(
                format!("{key}.{field}"),
                Some(here),
                format!("`kind: {}` needs `{field}`", kind_name(kind)),
            ))
        }
    }

    fn window(&self, key: &str, duration: Option<Duration>, here: &Place) -> Result<Duration> {
        match duration {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(self.invalid(
                format!("{key}.for"),
                Some(here),
                "a window fault must last longer than 0s",
            )),
        }
    }
}

fn verb_name(verb: TargetVerb) -> &'static str {
    match verb {
        TargetVerb::List => "list",
        TargetVerb::Watch => "watch",
        TargetVerb::Get => "get",
    }
}
