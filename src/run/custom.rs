//! Running a user's own watcher code against a scenario, from `cargo test`.

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::watcher;

use super::{Error, Outcome, RunOptions, RunReport, judged, limits, world};
use crate::scenario::{Backoff, BackoffOn, ClientSettings, Consumer, Expected, Scenario, SetUp};
use crate::subject::{record_error, record_event};
use crate::trace::TraceKind;

impl Scenario {
    /// Runs the scenario's own watcher matrix in virtual time, with [`RunOptions::default`].
    ///
    /// # Errors
    /// [`Error`] when a run cannot even start.
    pub fn run(&self) -> Result<RunReport, Error> {
        super::run(self, &RunOptions::default())
    }

    /// Runs your own watcher against the scenario in virtual time and judges it.
    ///
    /// `watcher` gets a kube `Client` connected to the scenario's server and returns the
    /// stream your code would consume — for example
    /// `watcher(Api::<ConfigMap>::all(client), Config::default()).default_backoff()`. Every
    /// item is read, errors included, and recorded; the verdict compares what it emitted with
    /// the server's truth. Watch everything the scenario's resource holds (no selector), or the
    /// view will rightly differ from the truth.
    ///
    /// A panic in `watcher` or its stream is that run's failure, never the caller's.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with<F, S, K>(&self, watcher: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.run_with_options(&RunOptions::default(), watcher)
    }

    /// [`Scenario::run_with`] with `options`.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_options<F, S, K>(
        &self,
        options: &RunOptions,
        watcher: F,
    ) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        // The set-up the verdict judges: yours, read to the end, expected to recover.
        let setup = SetUp {
            name: "your-watcher".to_owned(),
            config: crate::scenario::WatcherSettings::default(),
            backoff: Backoff::None,
            backoff_on: BackoffOn::Watcher,
            client: ClientSettings::default(),
            consumer: Consumer::ContinueOnError,
            expected: Expected::Recover,
            expected_mechanism: None,
        };
        let make: world::MakeSubject = Box::new(move |client, recorder| {
            let recorder = recorder.clone();
            let stream = watcher(client)
                .inspect(move |item| match item {
                    Ok(event) => recorder.record(record_event(event)),
                    Err(error) => recorder.record(TraceKind::WatcherError(record_error(error))),
                })
                .map(|item| item.map(|_| ()))
                .boxed();
            (stream, None)
        });
        let (wall_timeout, lag) = limits(self, options);
        let receiver = world::spawn(self, &setup, options.mode, make)?;
        Ok(judged(
            self,
            &setup,
            world::wait(&receiver, wall_timeout, wall_timeout)?,
            lag,
        ))
    }
}

impl Outcome {
    /// Panics with the diagnosis unless the set-up recovered.
    ///
    /// # Panics
    /// When the verdict is "not recovered"; the message says why.
    #[track_caller]
    pub fn assert_recovered(&self) {
        if !self.verdict.recovered {
            panic!(
                "set-up `{}` did not recover: {}",
                self.setup,
                self.verdict.diagnosis.as_deref().unwrap_or("no diagnosis")
            );
        }
    }
}

impl RunReport {
    /// Panics, naming each set-up and why, unless every set-up did what the scenario expects.
    ///
    /// # Panics
    /// When a set-up's verdict differs from its `expect` block.
    #[track_caller]
    pub fn assert_as_expected(&self) {
        let unexpected: Vec<String> = self
            .outcomes
            .iter()
            .filter(|o| !o.as_expected)
            .map(|o| {
                format!(
                    "{} (expected to {}): {}",
                    o.setup,
                    if o.expected == Expected::Recover {
                        "recover"
                    } else {
                        "fail"
                    },
                    o.verdict.diagnosis.as_deref().unwrap_or("recovered")
                )
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "scenario {}: {}",
            self.scenario,
            unexpected.join("; ")
        );
    }
}
