//! The file form of a fault, and reading one: `kind:` first, then the keys its kind takes.
//!
//! [`Fault::walk`] names each kind's keys once, with their defaults, starting from the blank
//! fault of each [`FaultKind`]. Reading a timeline entry ([`Fault::read`], with an
//! [`EntryReader`] that takes each key as the walk names it, typed, and says which key is at
//! fault, why and where: [`KeyError`]), the keys a kind takes (for messages,
//! [`Fault::keys_of`]), writing one ([`Fault::entries`], and `Serialize`/`Deserialize`, in
//! `written.rs`) and the JSON Schema editors validate with ([`Fault::schemas`], also there) all
//! follow that walk, so a key is spelled in one place.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::faults::Fault;
use super::faults::FaultKind;
use super::restart::{Restart, Revision};
use super::target::Target;
use super::wire_shape::Cut;
use super::wire_shape::{ErrorBody, GoneForm, LatencyOn, Malformed, StreamError};
use crate::span::Span;

/// A value a key can hold: written and read as YAML scalars and lists, described for editors.
pub trait Field: Serialize + DeserializeOwned + schemars::JsonSchema {}

impl<T: Serialize + DeserializeOwned + schemars::JsonSchema> Field for T {}

/// One pass over a fault's keys, in the order they are written.
pub trait Form {
    /// A key the kind needs.
    fn required<T: Field>(&mut self, key: &'static str, value: &mut T);
    /// A key that may be left out, meaning `default`.
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, value: &mut T, default: T);
    /// A key that may be left out, meaning none.
    fn optional<T: Field>(&mut self, key: &'static str, value: &mut Option<T>);
    /// What was read under `key` is not valid, and why; only a reader cares.
    fn invalid(&mut self, key: &'static str, why: String) {
        let _ = (key, why);
    }
}

fn span(f: &mut impl Form, key: &'static str, duration: &mut Duration) {
    let mut span = Span(*duration);
    f.required(key, &mut span);
    *duration = span.get();
}

fn optional_span(f: &mut impl Form, key: &'static str, duration: &mut Option<Duration>) {
    let mut span = duration.map(Span);
    f.optional(key, &mut span);
    *duration = span.map(Span::get);
}

/// The keys that aim a request or stream fault.
fn target(f: &mut impl Form, target: &mut Target) {
    optional_span(f, "for", &mut target.window);
    f.optional("count", &mut target.count);
    f.or("verbs", &mut target.verbs, Vec::new());
    f.optional("path", &mut target.path);
    f.optional("query", &mut target.query);
}

impl Fault {
    /// A blank fault of `kind`, each key at its default (or at nothing, for a key the kind
    /// needs): what the walk starts from to read one, name its keys or describe them.
    pub(super) fn blank(kind: FaultKind) -> Self {
        let t = Target::default;
        match kind {
            FaultKind::Idle => Self::Idle {
                duration: Duration::ZERO,
            },
            FaultKind::Compact => Self::Compact { retain: None },
            FaultKind::DropBookmarks => Self::DropBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::StaleBookmarks => Self::StaleBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::EmptyBookmarks => Self::EmptyBookmarks {
                duration: Duration::ZERO,
            },
            FaultKind::DropInitialEventsEnd => Self::DropInitialEventsEnd { target: t() },
            FaultKind::ExpireWatches => Self::ExpireWatches,
            FaultKind::Watch410 => Self::Watch410 {
                form: GoneForm::Event,
                message: None,
                code: true,
                target: t(),
            },
            FaultKind::EmptyWatch => Self::EmptyWatch { target: t() },
            FaultKind::CutStream => Self::CutStream {
                how: Cut::Reset,
                target: t(),
            },
            FaultKind::StallStream => Self::StallStream { target: t() },
            FaultKind::HangHeaders => Self::HangHeaders { target: t() },
            FaultKind::HttpError => Self::HttpError {
                status: 0,
                body: ErrorBody::Status,
                retry_after: None,
                target: t(),
            },
            FaultKind::Latency => Self::Latency {
                delay: Duration::ZERO,
                on: LatencyOn::Requests,
                target: t(),
            },
            FaultKind::MalformedEvent => Self::MalformedEvent {
                shape: Malformed::Truncated,
                target: t(),
            },
            FaultKind::ExpireContinue => Self::ExpireContinue { target: t() },
            FaultKind::EarlyBookmarks => Self::EarlyBookmarks {
                duration: Duration::ZERO,
                lag: Self::EARLY_BOOKMARKS_LAG,
            },
            FaultKind::WatchError => Self::WatchError {
                error: StreamError::WatchProgressUnsupported,
                target: t(),
            },
            FaultKind::Restart => Self::Restart {
                restart: Restart::Keep,
                down: Self::RESTART_DOWN,
                drain: Duration::ZERO,
            },
            FaultKind::Failover => Self::Failover { to: String::new() },
        }
    }

    /// Visits every key of this fault's kind, in the order it is written.
    pub fn walk(&mut self, f: &mut impl Form) {
        match self {
            Self::Idle { duration }
            | Self::DropBookmarks { duration }
            | Self::StaleBookmarks { duration }
            | Self::EmptyBookmarks { duration } => span(f, "for", duration),
            Self::EarlyBookmarks { duration, lag } => {
                span(f, "for", duration);
                let mut span = Span(*lag);
                f.or("lag", &mut span, Span(Self::EARLY_BOOKMARKS_LAG));
                *lag = span.get();
            }
            Self::Compact { retain } => optional_span(f, "retain", retain),
            Self::ExpireWatches => {}
            Self::Failover { to } => f.required("to", to),
            Self::Watch410 {
                form,
                message,
                code,
                target: t,
            } => {
                f.or("form", form, GoneForm::Event);
                f.optional("message", message);
                f.or("code", code, true);
                target(f, t);
            }
            Self::CutStream { how, target: t } => {
                f.or("how", how, Cut::Reset);
                target(f, t);
            }
            Self::HttpError {
                status,
                body,
                retry_after,
                target: t,
            } => {
                f.required("status", status);
                f.or("format", body, ErrorBody::Status);
                let mut after = retry_after.map(|s| Span(Duration::from_secs(s.into())));
                f.optional("retry_after", &mut after);
                *retry_after = match after.map(Span::get) {
                    None => None,
                    Some(d) if d.subsec_nanos() == 0 && !d.is_zero() => {
                        u32::try_from(d.as_secs()).ok().or_else(|| {
                            f.invalid("retry_after", "too large".into());
                            None
                        })
                    }
                    Some(_) => {
                        f.invalid(
                            "retry_after",
                            "Retry-After is whole seconds, at least 1s".into(),
                        );
                        None
                    }
                };
                target(f, t);
            }
            Self::Latency {
                delay,
                on,
                target: t,
            } => {
                span(f, "delay", delay);
                f.or("slows", on, LatencyOn::Requests);
                target(f, t);
            }
            Self::WatchError { error, target: t } => {
                f.or("error", error, StreamError::WatchProgressUnsupported);
                target(f, t);
            }
            Self::MalformedEvent { shape, target: t } => {
                f.required("shape", shape);
                target(f, t);
            }
            Self::DropInitialEventsEnd { target: t }
            | Self::EmptyWatch { target: t }
            | Self::StallStream { target: t }
            | Self::HangHeaders { target: t }
            | Self::ExpireContinue { target: t } => target(f, t),
            Self::Restart {
                restart,
                down,
                drain,
            } => {
                let (mut revision, mut by) = restart.parts();
                f.or("revision", &mut revision, Revision::Keep);
                f.optional("by", &mut by);
                match Restart::from_parts(revision, by) {
                    Ok(read) => *restart = read,
                    Err((key, why)) => f.invalid(key, why.to_owned()),
                }
                let mut span = Span(*down);
                f.or("down", &mut span, Span(Self::RESTART_DOWN));
                *down = span.get();
                let mut span = Span(*drain);
                f.or("drain", &mut span, Span(Duration::ZERO));
                *drain = span.get();
            }
        }
    }

    /// The keys a kind takes, in the order they are written; `None` for no such kind.
    #[must_use]
    pub fn keys_of(kind: &str) -> Option<Vec<&'static str>> {
        let mut keys = KeyNames::default();
        Self::blank(FaultKind::named(kind)?).walk(&mut keys);
        Some(keys.0)
    }
}

/// Collects the keys a walk names, in the order it names them.
#[derive(Default)]
pub struct KeyNames(pub Vec<&'static str>);

impl Form for KeyNames {
    fn required<T: Field>(&mut self, key: &'static str, _: &mut T) {
        self.0.push(key);
    }
    fn or<T: Field + PartialEq>(&mut self, key: &'static str, _: &mut T, _: T) {
        self.0.push(key);
    }
    fn optional<T: Field>(&mut self, key: &'static str, _: &mut Option<T>) {
        self.0.push(key);
    }
}

impl Fault {
    /// Reads a fault of kind `kind` from the entry's other keys, each with the position `P` of
    /// its value; `at` is the entry's own position, for a key it lacks, and `also` the keys the
    /// entry itself takes besides (`every`, `until`), for messages. Every key is checked
    /// against the kind, typed, and the fault as a whole is checked ([`Fault::check`]).
    ///
    /// # Errors
    /// The first key at fault, why, and where.
    pub fn read<P: Copy>(
        kind: &str,
        entries: Vec<(String, Value, P)>,
        at: P,
        also: &[&str],
    ) -> Result<Self, KeyError<P>> {
        let Some(mut fault) = FaultKind::named(kind).map(Self::blank) else {
            return Err(KeyError::unknown_kind(kind, &Self::kinds(), at));
        };
        let mut reader = EntryReader::new(kind, entries, at);
        fault.walk(&mut reader);
        if let Some(error) = reader.first {
            return Err(error);
        }
        if let Some((key, _, at)) = reader.entries.into_iter().next() {
            let takes: Vec<&str> = reader
                .read
                .iter()
                .map(|(k, _)| *k)
                .chain(also.iter().copied())
                .collect();
            return Err(KeyError::not_taken(&key, kind, &takes, at));
        }
        fault.check().map_err(|(key, message)| KeyError {
            key: key.to_owned(),
            message,
            at: reader
                .read
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(at, |(_, p)| *p),
        })?;
        Ok(fault)
    }
}

/// A key of a timeline entry that is not what its kind takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError<P> {
    /// The key path within the entry: `status`, `verbs[1]`.
    pub key: String,
    /// What is wrong, in words.
    pub message: String,
    /// Where.
    pub at: P,
}

impl<P> KeyError<P> {
    /// `kind:` names no kind of this entry: one of `kinds` was meant.
    pub(crate) fn unknown_kind(kind: &str, kinds: &[&str], at: P) -> Self {
        Self {
            key: "kind".into(),
            message: format!(
                "unknown variant `{kind}`, expected one of {}",
                kinds.join(", ")
            ),
            at,
        }
    }

    /// `key` is not one of the keys `kind` takes (`takes`), with the closest if one is near.
    pub(crate) fn not_taken(key: &str, kind: &str, takes: &[&str], at: P) -> Self {
        let mut message = if takes.is_empty() {
            format!("`{key}` does not apply to `kind: {kind}`, which takes no other keys")
        } else {
            format!(
                "`{key}` does not apply to `kind: {kind}`, which takes {}",
                takes.join(", ")
            )
        };
        if let Some(meant) = crate::suggest::closest(key, takes.iter().copied()) {
            message.push_str(&format!("; did you mean `{meant}`?"));
        }
        Self {
            key: key.to_owned(),
            message,
            at,
        }
    }
}

/// Fills a blank value (a fault, a workload write) from a timeline entry's keys, taking each
/// as the walk names it, typed; what was wrong is kept in the order the walk met it.
pub(crate) struct EntryReader<'a, P> {
    kind: &'a str,
    /// The keys not taken yet.
    pub(crate) entries: Vec<(String, Value, P)>,
    at: P,
    /// Every key the kind takes, with where it was read (or the entry's place when absent).
    pub(crate) read: Vec<(&'static str, P)>,
    /// The first thing wrong, whatever it was.
    pub(crate) first: Option<KeyError<P>>,
    /// The first value that is not what its key takes.
    pub(crate) bad_value: Option<KeyError<P>>,
    /// The first key the kind needs that the entry lacks.
    pub(crate) missing: Option<KeyError<P>>,
}

impl<'a, P: Copy> EntryReader<'a, P> {
    /// A reader of an entry of kind `kind` at `at` whose other keys are `entries`.
    pub(crate) fn new(kind: &'a str, entries: Vec<(String, Value, P)>, at: P) -> Self {
        Self {
            kind,
            entries,
            at,
            read: Vec::new(),
            first: None,
            bad_value: None,
            missing: None,
        }
    }

    /// Takes `key`'s value, typed, if the entry has it.
    fn take<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        let Some(i) = self.entries.iter().position(|(k, _, _)| k == key) else {
            self.read.push((key, self.at));
            return None;
        };
        let (_, value, at) = self.entries.remove(i);
        self.read.push((key, at));
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(value) => Some(value),
            Err(error) => {
                let path = error.path().to_string();
                let error = KeyError {
                    key: if path == "." {
                        key.to_owned()
                    } else if path.starts_with('[') {
                        format!("{key}{path}")
                    } else {
                        format!("{key}.{path}")
                    },
                    message: error.into_inner().to_string(),
                    at,
                };
                self.bad_value.get_or_insert(error.clone());
                self.first.get_or_insert(error);
                None
            }
        }
    }
}

impl<P: Copy> Form for EntryReader<'_, P> {
    fn required<T: Field>(&mut self, key: &'static str, value: &mut T) {
        let present = self.entries.iter().any(|(k, _, _)| k == key);
        match self.take(key) {
            Some(read) => *value = read,
            None if !present => {
                let error = KeyError {
                    key: key.to_owned(),
                    message: format!("`kind: {}` needs `{key}`", self.kind),
                    at: self.at,
                };
                self.missing.get_or_insert(error.clone());
                self.first.get_or_insert(error);
            }
            None => {}
        }
    }

    fn or<T: Field + PartialEq>(&mut self, key: &'static str, value: &mut T, default: T) {
        *value = self.take(key).unwrap_or(default);
    }

    fn optional<T: Field>(&mut self, key: &'static str, value: &mut Option<T>) {
        *value = self.take(key);
    }

    fn invalid(&mut self, key: &'static str, why: String) {
        let at = self
            .read
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.at, |(_, p)| *p);
        self.first.get_or_insert(KeyError {
            key: key.to_owned(),
            message: why,
            at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::target::Target;
    use crate::fault::wire_shape::Cut;

    #[test]
    fn a_key_at_its_default_is_left_out_and_a_key_of_another_kind_is_refused() {
        let cut = Fault::CutStream {
            how: Cut::Reset,
            target: Target::default(),
        };
        assert!(cut.entries().is_empty());
        let error = Fault::read("compact", vec![("how".into(), "reset".into(), 9)], 1, &[])
            .expect_err("compact takes no `how`");
        assert_eq!((error.key.as_str(), error.at), ("how", 9));
        assert!(
            error.message.contains("which takes retain"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_missing_key_is_placed_at_the_entry_and_a_bad_value_at_itself() {
        let missing = Fault::read::<u32>("http_error", vec![], 1, &[]).unwrap_err();
        assert_eq!(
            (missing.key.as_str(), missing.message.as_str(), missing.at),
            ("status", "`kind: http_error` needs `status`", 1)
        );
        let bad = Fault::read(
            "http_error",
            vec![
                ("status".into(), 503.into(), 2),
                ("verbs".into(), serde_json::json!(["list", "lst"]), 3),
            ],
            1,
            &[],
        )
        .unwrap_err();
        assert_eq!((bad.key.as_str(), bad.at), ("verbs[1]", 3));
    }
}
