//! The server: shared state, request dispatch, the request log, and the hooks the timeline
//! drives (writes, churn, compaction, faults).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, header};
use tokio::sync::watch;

use super::body::{Body, full};
use super::discovery;
use super::list;
use super::query::Query;
use super::route::Route;
use super::status::Status;
use super::store::{Change, Store, key_of};
use super::watch as watch_stream;
use super::wire::Wire;
use crate::fault::{Fault, FaultRules};
use crate::scenario::{ResourceSpec, Scenario, ServerSpec, Write};
use crate::trace::{Recorder, RequestRecord, TraceKind, Verb};

/// Largest request line plus headers answered: Go's `DefaultMaxHeaderBytes`, which
/// kube-apiserver keeps (1 MiB). hyper's read buffer is larger, so this answers first.
pub(super) const MAX_HEADER_BYTES: usize = 1 << 20;

/// The simulated kube-apiserver for one run. Cheap to clone; clones share one world.
#[derive(Debug, Clone)]
pub struct ApiServer {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) resource: ResourceSpec,
    pub(super) spec: ServerSpec,
    pub(super) wire: Wire,
    pub(super) recorder: Recorder,
    state: Mutex<State>,
    /// The current revision, so open watches wake on every write.
    pub(super) revision: watch::Sender<u64>,
    /// Bumped by `expire_watches`: every watch opened before the bump ends with a 410.
    pub(super) expiry: watch::Sender<u64>,
    /// Set once the request cap is passed.
    storm: watch::Sender<bool>,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) store: Store,
    pub(super) rules: FaultRules,
    pub(super) rng: fastrand::Rng,
    requests: u64,
}

impl ApiServer {
    /// A server holding the scenario's initial objects, recording into `recorder`.
    /// Must be called inside the run's tokio runtime.
    #[must_use]
    pub fn new(scenario: &Scenario, recorder: Recorder) -> Self {
        let (revision, _) = watch::channel(0);
        let (expiry, _) = watch::channel(0);
        let (storm, _) = watch::channel(false);
        let server = Self {
            inner: Arc::new(Inner {
                resource: scenario.resource.clone(),
                spec: scenario.server.clone(),
                wire: Wire::new(&scenario.resource, recorder.epoch()),
                recorder,
                state: Mutex::new(State {
                    store: Store::default(),
                    rules: FaultRules::default(),
                    rng: fastrand::Rng::with_seed(scenario.seed),
                    requests: 0,
                }),
                revision,
                expiry,
                storm,
            }),
        };
        for object in &scenario.objects {
            server.write(&Write::Create(object.clone()));
        }
        server
    }

    /// The virtual time since the run started.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.inner.recorder.now()
    }

    /// The run's recorder, which is also its clock.
    #[must_use]
    pub fn recorder(&self) -> &Recorder {
        &self.inner.recorder
    }

    /// The current global revision.
    #[must_use]
    pub fn revision(&self) -> u64 {
        self.inner.lock().store.revision()
    }

    /// Applies a workload write and records the new truth.
    ///
    /// A write the store refuses (an object that does not exist) is logged and skipped: the
    /// scenario loader already replayed the timeline, so this only happens on a harness bug.
    pub fn write(&self, write: &Write) {
        let now = self.now();
        let mut state = self.inner.lock();
        let result = match write {
            Write::Create(spec) => state.store.create(spec, now),
            Write::Update {
                name,
                namespace,
                labels,
                body,
            } => state.store.update(
                &key_of(namespace.as_deref(), name),
                labels.as_ref(),
                body,
                now,
            ),
            Write::Delete { name, namespace } => {
                state.store.delete(&key_of(namespace.as_deref(), name), now)
            }
        };
        match result {
            Ok(change) => {
                drop(state);
                self.record_change(&change);
                self.inner.revision.send_replace(change.revision);
            }
            Err(e) => tracing::error!(error = %e, "workload write refused"),
        }
    }

    fn record_change(&self, change: &Change) {
        let object = change
            .after
            .as_ref()
            .or(change.before.as_ref())
            .expect("a change has an object on one side");
        self.inner.recorder.record(TraceKind::Write {
            key: object.key(),
            labels: object.labels.clone(),
            resource_version: change.revision,
            exists: change.after.is_some(),
        });
    }

    /// A write to some other resource: the revision moves, the watched resource does not.
    pub fn churn(&self) {
        let now = self.now();
        let revision = self.inner.lock().store.churn(now);
        self.inner.revision.send_replace(revision);
    }

    /// Compacts history below `floor` and records the new floor.
    pub fn compact_to(&self, floor: u64) {
        let floor = self.inner.lock().store.compact(floor);
        self.inner
            .recorder
            .record(TraceKind::Compacted { revision: floor });
    }

    /// Starts a fault now.
    pub fn inject(&self, fault: &Fault) {
        self.inner.recorder.record(TraceKind::Fault {
            fault: fault.kind().to_owned(),
        });
        let now = self.now();
        match fault {
            Fault::Compact { retain } => {
                let floor = {
                    let state = self.inner.lock();
                    match retain {
                        Some(retain) => state.store.floor_retaining(*retain, now),
                        None => state.store.revision() + 1,
                    }
                };
                self.compact_to(floor);
            }
            Fault::ExpireWatches => {
                self.inner.expiry.send_modify(|epoch| *epoch += 1);
            }
            Fault::Idle { .. } | Fault::DropBookmarks { .. } => {
                if let Some(rule) = fault.rule(now) {
                    self.inner.lock().rules.push(rule);
                }
            }
        }
    }

    /// Resolves once the run has passed `server.max_requests` requests: a request storm.
    pub async fn storm(&self) {
        let mut rx = self.inner.storm.subscribe();
        // NB: `wait_for` errs only when the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|storm| *storm).await;
    }

    /// Answers one request. Never panics on any input; everything malformed gets a Status.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Body> {
        let id = {
            let mut state = self.inner.lock();
            state.requests += 1;
            if state.requests > self.inner.spec.max_requests {
                self.inner.storm.send_replace(true);
            }
            state.requests
        };
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let head_bytes = request.uri().to_string().len()
            + request
                .headers()
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 4)
                .sum::<usize>();
        let raw_query = request.uri().query().unwrap_or("").to_owned();
        let query = Query::parse(Some(&raw_query));
        let route = Route::of(&path, &self.inner.resource);
        let (verb, response) = if head_bytes > MAX_HEADER_BYTES {
            (
                Verb::Other,
                Status::header_too_large(MAX_HEADER_BYTES).into_response(),
            )
        } else {
            self.dispatch(id, &method, route, &query).await
        };
        self.inner
            .recorder
            .record(TraceKind::Request(RequestRecord {
                id,
                method: method.to_string(),
                path,
                query: raw_query,
                status: response.status().as_u16(),
                verb,
            }));
        response
    }

    async fn dispatch(
        &self,
        id: u64,
        method: &Method,
        route: Route,
        query: &Query,
    ) -> (Verb, Response<Body>) {
        let verb = match &route {
            Route::Collection { forced_watch, .. } if *forced_watch || query.flag("watch") => {
                Verb::Watch
            }
            Route::Collection { .. } if query.get("continue").is_some_and(|c| !c.is_empty()) => {
                Verb::ListPage
            }
            Route::Collection { .. } => Verb::List,
            Route::Object { .. } => Verb::Get,
            _ => Verb::Other,
        };
        if route == Route::NotFound {
            return (verb, Status::not_found_path().into_response());
        }
        if method != Method::GET {
            return (verb, Status::method_not_allowed().into_response());
        }
        let response = match route {
            Route::Version => json(discovery::version()),
            Route::CoreVersions => json(discovery::core_versions()),
            Route::Groups => json(discovery::groups(&self.inner.resource)),
            Route::GroupVersion { group, version } => {
                match discovery::resources(&self.inner.resource, &group, &version) {
                    Some(body) => json(body),
                    None => Status::not_found_path().into_response(),
                }
            }
            Route::Collection { namespace, .. } if verb == Verb::Watch => {
                watch_stream::start(Arc::clone(&self.inner), id, namespace, query)
            }
            Route::Collection { namespace, .. } => {
                list::list(&self.inner, namespace.as_deref(), query).await
            }
            Route::Object { namespace, name } => self.get(namespace.as_deref(), &name),
            Route::NotFound => unreachable!("handled above"),
        };
        (verb, response)
    }

    fn get(&self, namespace: Option<&str>, name: &str) -> Response<Body> {
        let state = self.inner.lock();
        match state.store.get(&key_of(namespace, name)) {
            Some(object) => json(self.inner.wire.object(object)),
            None => Status::not_found_object(
                &self.inner.resource.plural,
                &self.inner.resource.group,
                name,
            )
            .into_response(),
        }
    }
}

impl Inner {
    /// Locks the state. NB: never held across an `.await`.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("server state lock is never poisoned: no code panics while holding it")
    }
}

/// A 200 with a whole JSON body.
pub(super) fn json(body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(full(Bytes::from(body)))
        .expect("the response head is valid")
}
