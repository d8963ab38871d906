//! The watcher matrix: each set-up read from its file form, and `expect.recover` and
//! `expect.fail` matched against the set-ups, each named exactly once.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::{Location as Place, Spanned};

use super::validator::Validator;
use crate::check_name::CheckName;
use crate::mechanism::Mechanism;
use crate::scenario::error::Result;
use crate::scenario::file::{
    BackoffFile, BackoffOnFile, ClientFile, ConsumerFile, ExpectFile, ListSemanticFile,
    WatcherConfigFile, WatcherFile,
};
use crate::scenario::setup::{
    Backoff, BackoffOn, ClientSettings, Consumer, Expected, ListSemantic, PageSize, SetUp, Shape,
    Timeout, WatcherSettings,
};
use crate::scenario::spec::ResourceSpec;
use crate::selector::Selector;

/// Each set-up `expect` names, with what is expected of it and where it is named.
type Named<'e> = BTreeMap<&'e str, (Expected, Option<Mechanism>, Place)>;

impl Validator<'_> {
    /// The set-ups of the matrix, each named once in `expect`.
    pub(super) fn watchers(
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
        let mut expected = self.expected(expect)?;
        let mut seen = BTreeSet::new();
        let mut setups = Vec::new();
        for (i, w) in raw.into_iter().enumerate() {
            let key = format!("watchers[{i}]");
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
            let mut setup = self.setup(&key, w, resource, outcome, mechanism)?;
            setup.tolerate = self.tolerated(expect, name.as_str())?;
            setups.push(setup);
        }
        if let Some((name, tolerated)) = expect
            .tolerate
            .iter()
            .find(|(name, _)| !seen.contains(name.as_str()))
        {
            return Err(self.invalid(
                format!("expect.tolerate.{name}"),
                Some(&tolerated.referenced),
                format!("`{name}` is not a set-up in `watchers`"),
            ));
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

    /// Each set-up named in `expect`, once: in `recover` or in `fail`, not both.
    fn expected<'e>(&self, expect: &'e ExpectFile) -> Result<Named<'e>> {
        let mut expected = Named::new();
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
        Ok(expected)
    }

    /// The protocol checks `expect.tolerate` lets the set-up `name` fail, each once: an outcome
    /// check (what the view came to) cannot be tolerated.
    fn tolerated(&self, expect: &ExpectFile, name: &str) -> Result<Vec<CheckName>> {
        let Some(checks) = expect.tolerate.get(name) else {
            return Ok(Vec::new());
        };
        let mut tolerated = Vec::new();
        for (i, check) in checks.value.iter().enumerate() {
            let key = format!("expect.tolerate.{name}[{i}]");
            if !check.value.protocol() {
                return Err(self.invalid(
                    key,
                    Some(&check.referenced),
                    format!(
                        "`{}` judges the outcome, not the protocol: only `relist_after_gone`, `resume_from_last` and `retry_after` can be tolerated",
                        check.value.name()
                    ),
                ));
            }
            if tolerated.contains(&check.value) {
                return Err(self.invalid(
                    key,
                    Some(&check.referenced),
                    format!("`{}` is named twice", check.value.name()),
                ));
            }
            tolerated.push(check.value);
        }
        Ok(tolerated)
    }

    /// One set-up at `key`, expected to end as `outcome` (by `mechanism`, when it fails).
    fn setup(
        &self,
        key: &str,
        w: WatcherFile,
        resource: &ResourceSpec,
        outcome: Expected,
        mechanism: Option<Mechanism>,
    ) -> Result<SetUp> {
        let here = w.name.referenced;
        Ok(SetUp {
            name: w.name.value,
            config: self.config(key, w.config, resource, &here)?,
            backoff: self.backoff(key, w.backoff, &here)?,
            backoff_on: match w.backoff_on.unwrap_or(BackoffOnFile::Watcher) {
                BackoffOnFile::Watcher => BackoffOn::Watcher,
                BackoffOnFile::AppliedObjects => BackoffOn::AppliedObjects,
                BackoffOnFile::TouchedObjects => BackoffOn::TouchedObjects,
            },
            client: client(&w.client),
            consumer: match w.consumer.unwrap_or(ConsumerFile::Reflector) {
                ConsumerFile::Reflector => Consumer::Reflector,
                ConsumerFile::ContinueOnError => Consumer::ContinueOnError,
                ConsumerFile::StopOnError => Consumer::StopOnError,
            },
            work_per_item: match w.work_per_item {
                Some(work) if work.value.get().is_zero() => {
                    return Err(self.invalid(
                        format!("{key}.work_per_item"),
                        Some(&work.referenced),
                        "must be more than 0s: leave it out for a consumer that reads at once",
                    ));
                }
                work => work.map(|w| w.value.get()),
            },
            shape: Shape::Events,
            expected: outcome,
            expected_mechanism: mechanism,
            tolerate: Vec::new(),
        })
    }

    /// The `watcher::Config` fields, with a timeout in whole seconds and selectors the API
    /// server would take for the resource.
    fn config(
        &self,
        key: &str,
        c: WatcherConfigFile,
        resource: &ResourceSpec,
        here: &Place,
    ) -> Result<WatcherSettings> {
        let timeout = match c.timeout {
            None => None,
            Some(t) if t.get().subsec_nanos() != 0 => {
                return Err(self.invalid(
                    format!("{key}.config.timeout"),
                    Some(here),
                    format!("watch timeouts are whole seconds (`timeoutSeconds`), found {t}"),
                ));
            }
            Some(t) => Some(u32::try_from(t.get().as_secs()).map_err(|_| {
                self.invalid(format!("{key}.config.timeout"), Some(here), "too large")
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
                    Some(here),
                    format!("the selector would be refused by the API server: {message}"),
                ));
            }
        };
        Ok(WatcherSettings {
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
        })
    }

    /// The stream's backoff: kube's default when left out.
    fn backoff(&self, key: &str, raw: Option<BackoffFile>, here: &Place) -> Result<Backoff> {
        Ok(match raw.unwrap_or(BackoffFile::Default) {
            BackoffFile::None => Backoff::None,
            BackoffFile::Default => Backoff::Default,
            BackoffFile::Exponential(e) => {
                let (initial, max) = (e.initial.get(), e.max.get());
                if initial.is_zero() || max < initial {
                    return Err(self.invalid(
                        format!("{key}.backoff.exponential"),
                        Some(here),
                        "needs 0 < initial <= max",
                    ));
                }
                if !(1.0..=100.0).contains(&e.factor) {
                    return Err(self.invalid(
                        format!("{key}.backoff.exponential.factor"),
                        Some(here),
                        format!("must be between 1 and 100, found {}", e.factor),
                    ));
                }
                Backoff::Exponential {
                    initial,
                    max,
                    factor: e.factor,
                }
            }
        })
    }
}

/// The kube client's settings; a read timeout of `0s` is none.
fn client(raw: &ClientFile) -> ClientSettings {
    ClientSettings {
        retry: raw.retry,
        read_timeout: raw.read_timeout.map(|t| match t.get() {
            t if t.is_zero() => Timeout::Never,
            t => Timeout::After(t),
        }),
    }
}
