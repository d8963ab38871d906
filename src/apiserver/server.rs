//! The server: shared state, request dispatch, the request log, and the hooks the timeline
//! drives (writes, churn, compaction, faults).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, header};
use tokio::sync::watch;

use super::answer;
use super::body::{Body, full};
use super::discovery;
use super::list::{self, RemainingCounts};
use super::query::Query;
use super::route::Route;
use super::status::Status;
use super::store::{Change, Store, key_of};
use super::watch::{self as watch_stream, Fanout, Opening};
use super::wire::Wire;
use crate::fault::{Fault, FaultRules, RequestFaults, RequestInfo};
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
    wire: Wire,
    metadata_wire: Wire,
    pub(super) recorder: Recorder,
    state: Mutex<State>,
    /// The current revision, for LISTs waiting for a revision to come.
    pub(super) revision: watch::Sender<u64>,
    /// Bumped by `expire_watches`: every watch opened before the bump ends with a 410.
    pub(super) expiry: watch::Sender<u64>,
    /// Bumped by `restart`: every open watch is reset.
    pub(super) restarts: watch::Sender<u64>,
    /// The rule ids of `cut_stream` / `stall_stream` faults so far, for open watches to claim.
    pub(super) instant: watch::Sender<Vec<usize>>,
    /// Set once the request cap is passed.
    storm: watch::Sender<bool>,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) store: Store,
    pub(super) rules: FaultRules,
    pub(super) rng: fastrand::Rng,
    /// The open watches, by what they select.
    pub(super) fanout: Fanout,
    /// What paginated LISTs have left to send.
    pub(super) remaining: RemainingCounts,
    requests: u64,
}

impl ApiServer {
    /// A server holding the scenario's initial objects, recording into `recorder`.
    /// Must be called inside the run's tokio runtime.
    #[must_use]
    pub fn new(scenario: &Scenario, recorder: Recorder) -> Self {
        let (revision, _) = watch::channel(0);
        let (expiry, _) = watch::channel(0);
        let (restarts, _) = watch::channel(0);
        let (instant, _) = watch::channel(Vec::new());
        let (storm, _) = watch::channel(false);
        let server = Self {
            inner: Arc::new(Inner {
                resource: scenario.resource.clone(),
                spec: scenario.server.clone(),
                wire: Wire::new(&scenario.resource, recorder.epoch()),
                metadata_wire: Wire::metadata(recorder.epoch()),
                recorder,
                state: Mutex::new(State {
                    store: Store::default(),
                    rules: FaultRules::default(),
                    rng: fastrand::Rng::with_seed(scenario.seed),
                    fanout: Fanout::default(),
                    remaining: RemainingCounts::default(),
                    requests: 0,
                }),
                revision,
                expiry,
                restarts,
                instant,
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
                if let Some(after) = &change.after {
                    self.inner.wire.prepare(after);
                }
                state.fanout.dispatch(&change);
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
            Fault::Restart { restart } => {
                let (changes, revision) = {
                    let mut state = self.inner.lock();
                    let changes = state.store.restart(*restart, now);
                    // Revisions are reused: what was counted at them no longer holds.
                    state.remaining.clear();
                    (changes, state.store.revision())
                };
                for change in &changes {
                    self.record_change(change);
                }
                // Every open watch is reset, as when the apiserver process goes away.
                self.inner.restarts.send_modify(|epoch| *epoch += 1);
                self.inner.revision.send_replace(revision);
            }
            Fault::CutStream { .. } | Fault::StallStream { .. } => {
                let id = self.install(fault, now);
                // Every open watch holds a receiver and claims it once.
                let open = self.inner.instant.receiver_count();
                self.inner.lock().rules.await_claims(id, open);
                // Watches open now get to claim it; later ones meet it in `on_watch_start`.
                self.inner.instant.send_modify(|ids| ids.push(id));
            }
            _ => {
                self.install(fault, now);
            }
        }
    }

    fn install(&self, fault: &Fault, now: Duration) -> usize {
        let mut state = self.inner.lock();
        let revision = state.store.revision();
        state.rules.install(fault, now, revision)
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
        let mut query = Query::parse(Some(&raw_query));
        query.metadata_only = request
            .headers()
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("as=PartialObjectMetadata"));
        let route = Route::of(&path, &self.inner.resource);
        let verb = verb_of(&route, &query);
        let info = RequestInfo {
            verb,
            path: &path,
            query: &raw_query,
        };
        let faults = if verb == Verb::Other || method != Method::GET {
            RequestFaults::default()
        } else {
            let now = self.now();
            self.inner.lock().rules.on_request(now, &info)
        };
        if let Some(delay) = faults.delay {
            let recorder = &self.inner.recorder;
            recorder.sleep_until(recorder.now() + delay).await;
        }
        let response = if head_bytes > MAX_HEADER_BYTES {
            Status::header_too_large(MAX_HEADER_BYTES).into_response()
        } else if let Some(answer) = faults.answer {
            match answer::respond(&self.inner, id, &route, &query, &info, answer).await {
                Some(response) => response,
                None => {
                    // `hang_headers`: the request is logged, and its answer never comes.
                    self.log(id, &method, &info, 0);
                    return futures::future::pending().await;
                }
            }
        } else {
            self.dispatch(id, &method, route, &query, &info).await
        };
        self.log(id, &method, &info, response.status().as_u16());
        response
    }

    fn log(&self, id: u64, method: &Method, info: &RequestInfo<'_>, status: u16) {
        self.inner
            .recorder
            .record(TraceKind::Request(RequestRecord {
                id,
                method: method.to_string(),
                path: info.path.to_owned(),
                query: info.query.to_owned(),
                status,
                verb: info.verb,
            }));
    }

    async fn dispatch(
        &self,
        id: u64,
        method: &Method,
        route: Route,
        query: &Query,
        info: &RequestInfo<'_>,
    ) -> Response<Body> {
        if route == Route::NotFound {
            return Status::not_found_path().into_response();
        }
        if method != Method::GET {
            return Status::method_not_allowed().into_response();
        }
        match route {
            Route::Version => json(discovery::version()),
            Route::CoreVersions => json(discovery::core_versions()),
            Route::Groups => json(discovery::groups(&self.inner.resource)),
            Route::GroupVersion { group, version } => {
                match discovery::resources(&self.inner.resource, &group, &version) {
                    Some(body) => json(body),
                    None => Status::not_found_path().into_response(),
                }
            }
            Route::Collection { namespace, .. } if info.verb == Verb::Watch => watch_stream::start(
                Arc::clone(&self.inner),
                id,
                namespace,
                query,
                info,
                Opening::Normal,
            ),
            Route::Collection { namespace, .. } => {
                list::list(&self.inner, namespace.as_deref(), query, false).await
            }
            Route::Object { namespace, name } => self.get(namespace.as_deref(), &name, query),
            Route::NotFound => unreachable!("handled above"),
        }
    }

    fn get(&self, namespace: Option<&str>, name: &str, query: &Query) -> Response<Body> {
        let state = self.inner.lock();
        match state.store.get(&key_of(namespace, name)) {
            Some(object) => json(self.inner.wire(query).object(object)),
            None => Status::not_found_object(
                &self.inner.resource.plural,
                &self.inner.resource.group,
                name,
            )
            .into_response(),
        }
    }
}

/// What the server takes a request for, from its route and query.
fn verb_of(route: &Route, query: &Query) -> Verb {
    match route {
        Route::Collection { forced_watch, .. } if *forced_watch || query.flag("watch") => {
            Verb::Watch
        }
        Route::Collection { .. } if query.get("continue").is_some_and(|c| !c.is_empty()) => {
            Verb::ListPage
        }
        Route::Collection { .. } => Verb::List,
        Route::Object { .. } => Verb::Get,
        _ => Verb::Other,
    }
}

impl Inner {
    /// How to render answers to `query`: the resource's own form, or metadata only.
    pub(super) fn wire(&self, query: &Query) -> &Wire {
        self.wire_for(query.metadata_only)
    }

    /// The resource's own form, or metadata only.
    pub(super) fn wire_for(&self, metadata_only: bool) -> &Wire {
        if metadata_only {
            &self.metadata_wire
        } else {
            &self.wire
        }
    }

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
