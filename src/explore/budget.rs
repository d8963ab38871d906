//! What `harness explore` may draw: which fault kinds, how many per timeline, when, and how long
//! their windows last; and the drawing itself, one fault at a time from a seeded generator.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::search::Search;
use crate::fault::{
    Cut, ErrorBody, Fault, FaultKind, GoneForm, LatencyOn, Malformed, Restart, StreamError, Target,
    TargetVerb,
};
use crate::scenario::ServerSpec;
use crate::span::Span;

/// The budget as a file writes it; every key may be left out.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BudgetFile {
    /// The fault kinds to draw from; default every kind.
    kinds: Option<Vec<String>>,
    /// Faults per timeline, at least.
    min_faults: Option<usize>,
    /// Faults per timeline, at most.
    max_faults: Option<usize>,
    /// The earliest a fault starts.
    start: Option<Span>,
    /// The latest a fault ends; default the scenario's duration less its deadline, so that
    /// every set-up has its deadline to recover in.
    end: Option<Span>,
    /// The shortest window a window fault lasts.
    min_window: Option<Span>,
    /// The longest.
    max_window: Option<Span>,
    /// How timelines are drawn: `guided` (default) or `uniform`, the search before issue 25.
    search: Option<Search>,
}

/// What explore may draw, with every default filled in for one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The fault kinds to draw from.
    pub kinds: Vec<FaultKind>,
    /// Faults per timeline: at least, at most.
    pub faults: (usize, usize),
    /// When faults may act: from, until (a window ends by then).
    pub span: (Duration, Duration),
    /// How long a window lasts: at least, at most.
    pub window: (Duration, Duration),
    /// How timelines are drawn.
    pub search: Search,
    /// The replicas a `failover` may fail over to: the scenario's (see [`Budget::for_server`]).
    pub replicas: Vec<String>,
    /// The kinds were left to the default, rather than named.
    default_kinds: bool,
}

/// Why a budget cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("failed to read budget {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not have the shape of a budget.
    #[error("{path}: {message}")]
    Parse {
        /// The path given.
        path: String,
        /// Where and what, as the YAML parser says it.
        message: String,
    },
    /// The budget says something that cannot be drawn from.
    #[error("{path}: at `{key}`: {message}")]
    Invalid {
        /// The path given, or `default`.
        path: String,
        /// The key at fault.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Budget {
    /// The default budget for a scenario of `duration` whose set-ups have `deadline` to
    /// recover: every fault kind, one to three a timeline, acting between 30 s in and
    /// `duration - deadline`, windows of 5 s to 3 min, the guided search.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the scenario leaves no time for a fault.
    pub fn default_for(duration: Duration, deadline: Duration) -> Result<Self, Error> {
        Self::from_file(BudgetFile::default(), "default", duration, deadline)
    }

    /// The budget in the YAML file at `path`, defaults filled in for the scenario.
    ///
    /// # Errors
    /// [`Error`] naming the file and the key.
    pub fn load(path: &Path, duration: Duration, deadline: Duration) -> Result<Self, Error> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;
        let file: BudgetFile = serde_saphyr::from_str(&text).map_err(|e| Error::Parse {
            path: name.clone(),
            message: e.to_string(),
        })?;
        Self::from_file(file, &name, duration, deadline)
    }

    fn from_file(
        file: BudgetFile,
        path: &str,
        duration: Duration,
        deadline: Duration,
    ) -> Result<Self, Error> {
        let invalid = |key, message: String| Error::Invalid {
            path: path.to_owned(),
            key,
            message,
        };
        let default_kinds = file.kinds.is_none();
        let kinds: Vec<FaultKind> = match file.kinds {
            // A failover needs replicas to fail over to: `for_server` adds it when there are.
            None => (FaultKind::ALL.iter().copied())
                .filter(|k| *k != FaultKind::Failover)
                .collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    FaultKind::named(name).ok_or_else(|| {
                        let mut message = format!(
                            "unknown fault kind `{name}`, expected one of {}",
                            Fault::kinds().join(", ")
                        );
                        if let Some(meant) = crate::suggest::closest(name, FaultKind::names()) {
                            message.push_str(&format!("; did you mean `{meant}`?"));
                        }
                        invalid("kinds", message)
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if kinds.is_empty() {
            return Err(invalid("kinds", "names no fault kind to draw from".into()));
        }
        let faults = (file.min_faults.unwrap_or(1), file.max_faults.unwrap_or(3));
        if faults.0 == 0 || faults.0 > faults.1 || faults.1 > 20 {
            return Err(invalid(
                "max_faults",
                format!(
                    "faults per timeline must be 1 ≤ min ({}) ≤ max ({}) ≤ 20",
                    faults.0, faults.1
                ),
            ));
        }
        let start = file.start.map_or(Duration::from_secs(30), Span::get);
        let end = file
            .end
            .map_or(duration.saturating_sub(deadline), Span::get)
            .min(duration);
        let window = (
            file.min_window.map_or(Duration::from_secs(5), Span::get),
            file.max_window.map_or(Duration::from_secs(180), Span::get),
        );
        if window.0.is_zero() || window.0 > window.1 {
            return Err(invalid(
                "min_window",
                format!(
                    "windows must last 0s < min ({}) ≤ max ({})",
                    crate::span::format(window.0),
                    crate::span::format(window.1)
                ),
            ));
        }
        if start + window.0 > end {
            return Err(invalid(
                "end",
                format!(
                    "faults must act between {} and {}, which leaves no room for a {} window (the scenario runs {} and gives {} to recover)",
                    crate::span::format(start),
                    crate::span::format(end),
                    crate::span::format(window.0),
                    crate::span::format(duration),
                    crate::span::format(deadline)
                ),
            ));
        }
        Ok(Self {
            kinds,
            faults,
            span: (start, end),
            window: (window.0, window.1.min(end - start)),
            search: file.search.unwrap_or_default(),
            replicas: Vec::new(),
            default_kinds,
        })
    }

    /// The budget for a scenario whose server is `server`: a `failover` goes to one of its
    /// replicas, and is among the default kinds only when it has some.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the budget names `failover` and the server has no replicas.
    pub fn for_server(mut self, server: &ServerSpec) -> Result<Self, Error> {
        self.replicas = server.replicas.iter().map(|r| r.name.clone()).collect();
        let named = self.kinds.contains(&FaultKind::Failover);
        if self.replicas.is_empty() && named {
            return Err(Error::Invalid {
                path: "budget".into(),
                key: "kinds",
                message: "`failover` needs a scenario with `server.replicas` to fail over between"
                    .into(),
            });
        }
        if !self.replicas.is_empty() && self.default_kinds && !named {
            self.kinds.push(FaultKind::Failover);
        }
        Ok(self)
    }

    /// How many faults the next timeline has.
    pub(super) fn count(&self, rng: &mut fastrand::Rng) -> usize {
        rng.usize(self.faults.0..=self.faults.1)
    }

    /// One fault of a kind from the budget, and when it starts: inside the budget's span,
    /// window and all, on whole seconds.
    pub(super) fn draw(&self, rng: &mut fastrand::Rng) -> (Duration, Fault) {
        let kind = self.kinds[rng.usize(..self.kinds.len())];
        let fault = self.fault(kind, rng);
        (self.place(&fault, rng), fault)
    }

    /// One fault of `kind`, its parameters drawn as [`Budget::draw`] draws them.
    pub(super) fn fault(&self, kind: FaultKind, rng: &mut fastrand::Rng) -> Fault {
        let window = seconds(rng, self.window.0, self.window.1);
        let target = |rng: &mut fastrand::Rng, verbs: &[TargetVerb]| Target {
            verbs: match verbs {
                [] | [_] => Vec::new(),
                _ if rng.bool() => Vec::new(),
                _ => vec![verbs[rng.usize(..verbs.len())]],
            },
            window: (rng.u8(..3) == 0).then_some(window),
            count: Some(rng.u64(1..=3)),
            path: None,
            query: None,
        };
        let windowed = |rng: &mut fastrand::Rng, verbs: &[TargetVerb]| Target {
            window: Some(window),
            count: None,
            ..target(rng, verbs)
        };
        const ANY: &[TargetVerb] = &[TargetVerb::List, TargetVerb::Watch];
        match kind {
            FaultKind::Idle => Fault::Idle { duration: window },
            FaultKind::Compact => Fault::Compact { retain: None },
            FaultKind::DropBookmarks => Fault::DropBookmarks { duration: window },
            FaultKind::StaleBookmarks => Fault::StaleBookmarks { duration: window },
            FaultKind::EmptyBookmarks => Fault::EmptyBookmarks { duration: window },
            FaultKind::DropInitialEventsEnd => Fault::DropInitialEventsEnd {
                target: target(rng, &[]),
            },
            FaultKind::ExpireWatches => Fault::ExpireWatches,
            FaultKind::Watch410 => Fault::Watch410 {
                form: if rng.u8(..4) == 0 {
                    GoneForm::Http
                } else {
                    GoneForm::Event
                },
                message: None,
                code: rng.u8(..5) != 0,
                target: target(rng, &[]),
            },
            FaultKind::EmptyWatch => Fault::EmptyWatch {
                target: target(rng, &[]),
            },
            FaultKind::CutStream => Fault::CutStream {
                how: [Cut::Clean, Cut::MidChunk, Cut::Reset][rng.usize(..3)],
                target: Target {
                    count: None,
                    window: rng.bool().then_some(window),
                    ..Target::default()
                },
            },
            FaultKind::StallStream => Fault::StallStream {
                target: Target {
                    count: None,
                    window: rng.bool().then_some(window),
                    ..Target::default()
                },
            },
            FaultKind::HangHeaders => Fault::HangHeaders {
                target: target(rng, ANY),
            },
            FaultKind::HttpError => Fault::HttpError {
                status: Fault::HTTP_ERRORS[rng.usize(..Fault::HTTP_ERRORS.len())],
                body: if rng.u8(..4) == 0 {
                    ErrorBody::Text
                } else {
                    ErrorBody::Status
                },
                retry_after: rng.bool().then(|| rng.u32(1..=30)),
                target: windowed(rng, ANY),
            },
            FaultKind::Latency => {
                let on = if rng.bool() {
                    LatencyOn::Requests
                } else {
                    LatencyOn::Events
                };
                Fault::Latency {
                    delay: Duration::from_millis(rng.u64(100..=20_000)),
                    on,
                    target: windowed(rng, if on == LatencyOn::Requests { ANY } else { &[] }),
                }
            }
            FaultKind::EarlyBookmarks => Fault::EarlyBookmarks {
                duration: window,
                lag: Duration::from_secs(rng.u64(1..=20)),
            },
            FaultKind::WatchError => Fault::WatchError {
                error: StreamError::WatchProgressUnsupported,
                target: windowed(rng, &[]),
            },
            FaultKind::MalformedEvent => Fault::MalformedEvent {
                shape: if rng.bool() {
                    Malformed::Truncated
                } else {
                    Malformed::WrongShape
                },
                target: Target {
                    count: Some(rng.u64(1..=3)),
                    ..Target::default()
                },
            },
            FaultKind::ExpireContinue => Fault::ExpireContinue {
                target: Target {
                    count: rng.bool().then_some(1),
                    ..Target::default()
                },
            },
            FaultKind::Restart => Fault::Restart {
                restart: match rng.u8(..5) {
                    0 => Restart::Reset,
                    1 => Restart::Regress { by: rng.u64(1..=5) },
                    _ => Restart::Keep,
                },
                down: Fault::RESTART_DOWN,
                drain: Duration::ZERO,
            },
            FaultKind::Failover => self.failover(rng),
        }
    }

    /// A failover to one of the scenario's replicas.
    fn failover(&self, rng: &mut fastrand::Rng) -> Fault {
        Fault::Failover {
            // NB: `for_server` keeps failovers out of a budget without replicas.
            to: (self.replicas)
                .get(rng.usize(..self.replicas.len().max(1)))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// When `fault` starts: inside the budget's span, window and all, on whole seconds.
    pub(super) fn place(&self, fault: &Fault, rng: &mut fastrand::Rng) -> Duration {
        self.place_from(self.span.0, fault, rng)
    }

    /// When `fault` starts, at `from` or later, ending inside the budget's span where it can.
    pub(super) fn place_from(
        &self,
        from: Duration,
        fault: &Fault,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        let latest = self.span.1.saturating_sub(fault.duration()).max(from);
        seconds(rng, from, latest)
    }
}

/// A whole number of seconds in `from..=to`.
pub(super) fn seconds(rng: &mut fastrand::Rng, from: Duration, to: Duration) -> Duration {
    let (from, to) = (from.as_secs(), to.as_secs().max(from.as_secs()));
    Duration::from_secs(rng.u64(from..=to))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: fn(u64) -> Duration = |m| Duration::from_secs(60 * m);

    #[test]
    fn every_drawn_fault_is_valid_and_acts_inside_the_budget() {
        let server = crate::scenario::Scenario::from_yaml(
            "duration: 15m\nresource: { version: v1, kind: ConfigMap, plural: configmaps }\nserver: { replicas: [{ name: a }, { name: b, cache_lag: 5s }] }\nwatchers: [{ name: w }]\nexpect: { deadline: 2m, recover: [w] }\n",
        )
        .expect("a scenario with replicas")
        .server;
        let budget = (Budget::default_for(M(15), M(2)).unwrap())
            .for_server(&server)
            .unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut kinds = std::collections::BTreeSet::new();
        for _ in 0..2_000 {
            let (at, fault) = budget.draw(&mut rng);
            assert_eq!(fault.check(), Ok(()), "{fault:?}");
            assert!(
                at >= budget.span.0 && at + fault.duration() <= budget.span.1,
                "{at:?} {fault:?}"
            );
            kinds.insert(fault.kind());
        }
        assert_eq!(kinds.len(), Fault::kinds().len(), "every kind is drawn");
    }

    #[test]
    fn a_failover_is_drawn_only_where_there_are_replicas_to_fail_over_to() {
        let one = crate::scenario::ServerSpec::clone(
            &crate::scenario::Scenario::from_yaml(
                "duration: 15m\nresource: { version: v1, kind: ConfigMap, plural: configmaps }\nwatchers: [{ name: w }]\nexpect: { deadline: 2m, recover: [w] }\n",
            )
            .unwrap()
            .server,
        );
        let budget = (Budget::default_for(M(15), M(2)).unwrap())
            .for_server(&one)
            .unwrap();
        assert!(!budget.kinds.contains(&FaultKind::Failover));
        let mut named = Budget::default_for(M(15), M(2)).unwrap();
        named.kinds = vec![FaultKind::Failover];
        named.default_kinds = false;
        let error = named.for_server(&one).unwrap_err().to_string();
        assert!(error.contains("server.replicas"), "{error}");
    }

    #[test]
    fn a_budget_that_leaves_no_time_is_refused_naming_why() {
        let error = Budget::default_for(M(2), M(2)).unwrap_err().to_string();
        assert!(error.contains("leaves no room"), "{error}");
    }
}
