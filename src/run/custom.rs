//! Running a user's own watcher code against a scenario, from `cargo test`: an event stream,
//! a stream of objects, or a reflector store and what drives it.

use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::error::Error;
use super::judged::limits;
use super::run_options::RunOptions;
use super::world;
use crate::outcome::Outcome;
use crate::scenario::{
    Backoff, BackoffOn, ClientSettings, Consumer, Expected, Scenario, SetUp, Shape,
};
use crate::subject::{StoreSampler, Subject, key_of, record_error, record_event, resource_version};
use crate::trace::{ConsumerStop, TraceKind};

impl Scenario {
    /// Runs your own watcher against the scenario in virtual time and judges every event it
    /// emits.
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
        self.with_options(&RunOptions::default()).run_with(watcher)
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
        self.with_options(options).run_with(watcher)
    }

    /// Runs a stream of objects as `applied_objects()` yields them — for example
    /// `watcher(api, Config::default()).applied_objects().default_backoff()` — and judges the
    /// last version seen of each object. Such a stream never yields a delete, so an object the
    /// server deleted is not judged.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_applied_objects<F, S, K>(&self, objects: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<K>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.with_options(&RunOptions::default())
            .run_with_applied_objects(objects)
    }

    /// Runs a stream of objects as `touched_objects()` yields them (a delete as the deleted
    /// object) and judges the last version seen of each object, and every change a watch
    /// delivered, deletes included.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_touched_objects<F, S, K>(&self, objects: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<K>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.with_options(&RunOptions::default())
            .run_with_touched_objects(objects)
    }

    /// Runs a reflector `Store` and the future that drives it, and judges the store's
    /// contents over time. `subject` returns both: a reflector's store and its stream drained,
    /// or a `Controller`'s `store()` and `run(reconcile, error_policy, ctx).for_each(..)`.
    /// The store is read every [`STORE_TICK`](crate::subject::STORE_TICK) of virtual time; the
    /// future ending before the scenario does is a failure.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_store<F, D, K>(&self, subject: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> (Store<K>, D) + Send + 'static,
        D: Future<Output = ()> + Send + 'static,
        K: Resource + Clone + Send + Sync + 'static,
        K::DynamicType: Eq + Hash + Clone + Send + Sync,
    {
        self.with_options(&RunOptions::default())
            .run_with_store(subject)
    }
}

/// Your own code against one scenario with chosen [`RunOptions`]; see [`Scenario::with_options`].
#[derive(Debug, Clone, Copy)]
pub struct CustomRun<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    /// The scenario's set-up your code is judged as; `None`: a set-up with kube's defaults.
    setup: Option<&'a SetUp>,
}

impl<'a> CustomRun<'a> {
    /// `scenario` with `options`; [`Scenario::with_options`] makes one.
    pub(super) fn new(scenario: &'a Scenario, options: &'a RunOptions) -> Self {
        Self {
            scenario,
            options,
            setup: None,
        }
    }

    /// Judges your code as the scenario's set-up `name` says it is, instead of as a set-up
    /// with kube's defaults: the kube client you are given has the set-up's client settings,
    /// your stream is read as its consumer reads (`stop_on_error` stops at the first error),
    /// the truth is filtered by its selectors, a failure is explained by its backoff, bookmarks
    /// and watch timeout, and the outcome is held to what the scenario expects of it.
    ///
    /// Your code must build the watcher the set-up describes, or the verdict judges one thing
    /// by the description of another; `harness explore --emit-tests` writes that code for
    /// each finding.
    ///
    /// # Errors
    /// [`Error::UnknownSetUp`] when the scenario has no set-up `name`.
    pub fn as_setup(mut self, name: &str) -> Result<Self, Error> {
        let scenario = self.scenario;
        let setup = scenario
            .watchers
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownSetUp {
                scenario: scenario.name.clone(),
                name: name.to_owned(),
                known: scenario.watchers.iter().map(|s| s.name.clone()).collect(),
            })?;
        self.setup = Some(setup);
        Ok(self)
    }

    /// [`Scenario::run_with`] with these options.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with<F, S, K>(&self, watcher: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.judge(
            Shape::Events,
            Box::new(move |client, recorder| {
                let recorder = recorder.clone();
                Subject::watcher(
                    watcher(client)
                        .inspect(move |item| match item {
                            Ok(event) => recorder.record(record_event(event)),
                            Err(error) => {
                                recorder.record(TraceKind::WatcherError(record_error(error)));
                            }
                        })
                        .map(|item| item.map(|_| ()))
                        .boxed(),
                )
            }),
        )
    }

    /// [`Scenario::run_with_applied_objects`] with these options.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_applied_objects<F, S, K>(&self, objects: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<K>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.judge(Shape::AppliedObjects, objects_subject(objects))
    }

    /// [`Scenario::run_with_touched_objects`] with these options.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_touched_objects<F, S, K>(&self, objects: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> S + Send + 'static,
        S: Stream<Item = watcher::Result<K>> + Send + 'static,
        K: Resource + Send + 'static,
    {
        self.judge(Shape::TouchedObjects, objects_subject(objects))
    }

    /// [`Scenario::run_with_store`] with these options.
    ///
    /// # Errors
    /// [`Error`] when the run cannot even start.
    pub fn run_with_store<F, D, K>(&self, subject: F) -> Result<Outcome, Error>
    where
        F: FnOnce(kube::Client) -> (Store<K>, D) + Send + 'static,
        D: Future<Output = ()> + Send + 'static,
        K: Resource + Clone + Send + Sync + 'static,
        K::DynamicType: Eq + Hash + Clone + Send + Sync,
    {
        self.judge(
            Shape::Store,
            Box::new(move |client, recorder| {
                let (store, driver) = subject(client);
                let sampler = Arc::new(Mutex::new(StoreSampler::new(store, recorder.clone())));
                let ticking = StoreSampler::every_tick(Arc::clone(&sampler));
                // The driver runs for as long as the consumer reads; its end is the stream's.
                let driven = async move {
                    tokio::select! {
                        () = driver => {}
                        () = ticking => {}
                    }
                };
                Subject {
                    stream: futures::stream::once(driven)
                        .filter_map(|()| std::future::ready(None))
                        .boxed(),
                    at_end: Some(Box::new(move || {
                        if let Ok(mut sampler) = sampler.lock() {
                            sampler.finish();
                        }
                    })),
                    ends: ConsumerStop::DriverReturned,
                }
            }),
        )
    }

    /// Runs `make` as a set-up of `shape` — the one [`CustomRun::as_setup`] named, or yours,
    /// read to the end, expected to recover — and judges it.
    fn judge(&self, shape: Shape, make: world::MakeSubject) -> Result<Outcome, Error> {
        let setup = match self.setup {
            // What your code yields is what is recorded, whatever the set-up's own shape.
            Some(declared) => SetUp {
                shape,
                ..declared.clone()
            },
            None => SetUp {
                name: "your-watcher".to_owned(),
                config: crate::scenario::WatcherSettings::default(),
                backoff: Backoff::None,
                backoff_on: BackoffOn::Watcher,
                client: ClientSettings::default(),
                consumer: Consumer::ContinueOnError,
                work_per_item: None,
                shape,
                expected: Expected::Recover,
                expected_mechanism: None,
                tolerate: Vec::new(),
            },
        };
        let (wall_timeout, lag) = limits(self.scenario, self.options);
        let scenario = Arc::new(self.scenario.clone());
        let running = world::spawn(&scenario, &setup, self.options.mode, make, lag)?;
        world::wait(&running, wall_timeout, wall_timeout)
    }
}

/// A stream of objects as a subject: each object recorded as the version it is, each error as
/// the watcher's.
fn objects_subject<F, S, K>(objects: F) -> world::MakeSubject
where
    F: FnOnce(kube::Client) -> S + Send + 'static,
    S: Stream<Item = watcher::Result<K>> + Send + 'static,
    K: Resource + Send + 'static,
{
    Box::new(move |client, recorder| {
        let recorder = recorder.clone();
        Subject::watcher(
            objects(client)
                .inspect(move |item| match item {
                    Ok(object) => recorder.record(TraceKind::Apply {
                        key: key_of(object),
                        resource_version: resource_version(object),
                    }),
                    Err(error) => recorder.record(TraceKind::WatcherError(record_error(error))),
                })
                .map(|item| item.map(|_| ()))
                .boxed(),
        )
    })
}
