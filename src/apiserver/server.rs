//! The server: request dispatch, the request log, and the hooks the timeline drives (writes,
//! churn, compaction, faults). What the handlers share lives in [`super::shared`].

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, header};

use super::alarm::Alarm;
use super::answer;
use super::balancer::Balancer;
use super::body::{Body, json, json_as};
use super::discovery;
use super::downtime::Downtime;
use super::history::Floors;
use super::lagging;
use super::list;
use super::query::{Query, Version, accepts_gzip};
use super::remaining::RemainingCounts;
use super::replicas::{ReplicaId, Replicas};
use super::route::{Route, verb_of};
use super::shared::{Shared, State};
use super::status::{Status, answered};
use super::store::{Change, Store, key_of};
use super::storm::{STORM_BURST, count_start};
use super::watch::{self as watch_stream, Opening};
use super::wire::WallClock;
use crate::fault::{Fault, FaultKind, FaultRules, RequestFaults, RequestInfo, Restart};
use crate::scenario::{Scenario, Write, placeholder};
use crate::trace::{Recorder, RequestRecord, TraceKind, Verb};

/// Largest request line plus headers answered: Go's `DefaultMaxHeaderBytes`, which
/// kube-apiserver keeps (1 MiB). hyper's read buffer is larger, so this answers first.
pub(super) const MAX_HEADER_BYTES: usize = 1 << 20;

/// The local process that opened a request's connection ([`crate::peer`]), as a request
/// extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientProcess(pub(crate) u32);

/// The simulated kube-apiserver for one run. Cheap to clone; clones share one world.
#[derive(Debug, Clone)]
pub struct ApiServer {
    pub(super) shared: Arc<Shared>,
}

impl ApiServer {
    /// A server holding the scenario's initial objects, recording into `recorder`.
    /// Must be called inside the run's tokio runtime.
    #[must_use]
    pub fn new(scenario: &Scenario, recorder: Recorder) -> Self {
        let state = State {
            store: Store::default(),
            replicas: Replicas::new(&scenario.server),
            balancer: Balancer::new(
                scenario.server.load_balancer,
                scenario.server.replicas.len(),
            ),
            rules: FaultRules::default(),
            rng: fastrand::Rng::with_seed(scenario.seed),
            remaining: RemainingCounts::default(),
            requests: 0,
            answered: BTreeMap::new(),
            starts: VecDeque::with_capacity(STORM_BURST),
            downtime: Downtime::default(),
        };
        let server = Self {
            shared: Arc::new(Shared::new(
                scenario.resource.clone(),
                scenario.server.clone(),
                recorder,
                state,
            )),
        };
        for object in &scenario.objects {
            server.write(&Write::Create(object.clone()));
        }
        // The watch cache starts with a list of what etcd holds once the server is up
        // (`Replace` in apiserver `cacher/watch_cache.go`): the initial objects are its list,
        // not its history.
        let spec = &server.shared.spec;
        if spec.watch_cache {
            let now = server.now();
            let mut state = server.shared.lock();
            let revision = state.store.revision();
            state
                .replicas
                .start_caches(revision, now, spec.watch_cache_init);
        }
        if spec.replicas.iter().any(|r| !r.cache_lag.is_zero()) {
            let wake = Arc::clone(&server.shared.lagging);
            tokio::spawn(lagging::hear_when_due(Arc::downgrade(&server.shared), wake));
        }
        server
    }

    /// The virtual time since the run started.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.shared.recorder.now()
    }

    /// The run's recorder, which is also its clock.
    #[must_use]
    pub fn recorder(&self) -> &Recorder {
        &self.shared.recorder
    }

    /// The current global revision.
    #[must_use]
    pub fn revision(&self) -> u64 {
        self.shared.lock().store.revision()
    }

    /// The oldest revisions the server serves now: etcd's compaction, and where watches can
    /// start (the watch cache's window for a cached resource; the first replica's, behind a
    /// load balancer).
    #[must_use]
    pub fn floors(&self) -> Floors {
        self.shared.lock().floors(ReplicaId::default())
    }

    /// Applies a workload write and records the new truth. A write the store refuses (an object
    /// that does not exist) is logged and skipped: the scenario loader already replayed the
    /// timeline, so this only happens on a harness bug.
    pub fn write(&self, write: &Write) {
        let now = self.now();
        let mut state = self.shared.lock();
        let result = match write {
            Write::Create(spec) => state.store.create(spec, now).map(Some),
            Write::Update {
                name,
                namespace,
                labels,
                body,
            } => {
                let body = self.filled_now(body, now);
                state.store.update(
                    &key_of(namespace.as_deref(), name),
                    labels.as_ref(),
                    &body,
                    now,
                )
            }
            Write::Delete { name, namespace } => state
                .store
                .delete(&key_of(namespace.as_deref(), name), now)
                .map(Some),
        };
        match result {
            // An update that changed nothing: no revision, no event, as etcd3's store.
            Ok(None) => {}
            Ok(Some(change)) => {
                if let Some(after) = &change.after {
                    self.shared.wire_for(false).prepare(after);
                }
                if state.replicas.commit(&change, now) {
                    self.shared.lagging.notify_one();
                }
                drop(state);
                self.record_change(&change);
                self.shared.revision.send_replace(change.revision);
            }
            Err(e) => tracing::error!(error = %e, "workload write refused"),
        }
    }

    /// `body` with `{now}` filled in with the time of the write as this server's clock shows it.
    fn filled_now<'b>(
        &self,
        body: &'b BTreeMap<String, serde_json::Value>,
        now: Duration,
    ) -> Cow<'b, BTreeMap<String, serde_json::Value>> {
        if !placeholder::holds(body, placeholder::NOW) {
            return Cow::Borrowed(body);
        }
        let recorder = &self.shared.recorder;
        let clock = WallClock {
            epoch: recorder.epoch(),
            speed: recorder.speed(),
        };
        let time = placeholder::micro_time(clock.wall(now));
        Cow::Owned(placeholder::fill(body, placeholder::NOW, &time))
    }

    fn record_change(&self, change: &Change) {
        let (object, previous) = match (&change.after, &change.before) {
            (Some(after), before) => (after, before.as_deref()),
            (None, Some(before)) => (before, None),
            (None, None) => unreachable!("a change has an object on one side"),
        };
        let resource = &self.shared.resource;
        let read = |body: &_| crate::field_label::values(&resource.group, &resource.kind, body);
        self.shared.recorder.record(TraceKind::Write {
            key: object.key(),
            labels: Arc::clone(&object.labels),
            fields: object.selectable(read, previous),
            resource_version: change.revision,
            exists: change.after.is_some(),
        });
    }

    /// A write to some other resource: the revision moves, the watched resource does not.
    pub fn churn(&self) {
        self.shared.churn();
    }

    /// Compacts etcd's history at `floor` (revisions below it are gone; at most the current
    /// revision) and records the new floor. Watches of a cached resource are served from the
    /// watch cache and do not notice.
    pub fn compact_to(&self, floor: u64) {
        self.shared.compact(floor);
    }

    /// Starts a fault now.
    pub fn inject(&self, fault: &Fault) {
        self.shared.recorder.record(TraceKind::Fault {
            fault: fault.kind_of(),
        });
        let now = self.now();
        match fault {
            Fault::Compact { retain } => {
                let floor = {
                    let state = self.shared.lock();
                    match retain {
                        Some(retain) => state.store.floor_retaining(*retain, now),
                        None => state.store.revision(),
                    }
                };
                self.compact_to(floor);
            }
            Fault::ExpireWatches => {
                let revision = self.revision();
                self.shared.expire_watches_through(revision, None);
            }
            Fault::Restart {
                restart,
                down,
                drain,
            } => {
                let downtime = Downtime::of(now, *drain, *down);
                self.shared.lock().downtime = downtime;
                // SIGTERM: the port closes and idle connections with it (none of that for a
                // restart no client sees at the transport).
                if !drain.is_zero() || !down.is_zero() {
                    self.shared.closing.send_modify(|epoch| *epoch += 1);
                }
                if drain.is_zero() {
                    self.exit(*restart, *down);
                } else {
                    let server = self.clone();
                    let (restart, down) = (*restart, *down);
                    tokio::spawn(async move {
                        server.shared.recorder.sleep_until(downtime.exits_at).await;
                        server.exit(restart, down);
                    });
                }
            }
            Fault::CutStream { .. } | Fault::StallStream { .. } => {
                let id = self.install(fault, now);
                // Every open watch holds a listener and claims it once.
                let open = self.shared.alarms.listeners();
                self.shared.lock().rules.await_claims(id, open);
                // Watches open now get to claim it; later ones meet it in `on_watch_start`.
                self.shared.alarms.raise(Alarm::Strike(id));
            }
            Fault::Failover { to } => {
                let mut state = self.shared.lock();
                let Some(id) = state.replicas.named(to) else {
                    tracing::error!(%to, "failover to no replica: the loader checks names");
                    return;
                };
                state.balancer.fail_over(id);
                drop(state);
                self.shared.alarms.raise(Alarm::Failover(id.0));
                self.shared.failovers.send_modify(|epoch| *epoch += 1);
            }
            _ => {
                self.install(fault, now);
            }
        }
    }

    /// The restarting process exits now: what etcd keeps is `restart`'s to say, and the new
    /// process serves `down` from now.
    fn exit(&self, restart: Restart, down: Duration) {
        let now = self.now();
        let (changes, revision) = {
            let mut state = self.shared.lock();
            let changes = state.store.restart(restart, now);
            // Revisions are reused: what was counted at them no longer holds.
            state.remaining.clear();
            let revision = state.store.revision();
            // The new process builds its watch cache afresh from a list once it is up. NB: its
            // list is taken at the revision of the exit, so writes made while it is down reach
            // the cache as events.
            let init = self.shared.spec.watch_cache_init;
            state
                .replicas
                .reset_caches(None, revision, now + down, init);
            (changes, revision)
        };
        for change in &changes {
            self.record_change(change);
        }
        if self.shared.spec.watch_cache {
            self.shared
                .recorder
                .record(TraceKind::WatchCacheReset { revision });
        }
        // Every open watch is reset and every connection closed, as when the apiserver process
        // goes away.
        self.shared.alarms.raise(Alarm::Restart);
        self.shared.restarts.send_modify(|epoch| *epoch += 1);
        self.shared.revision.send_replace(revision);
    }

    fn install(&self, fault: &Fault, now: Duration) -> usize {
        let mut state = self.shared.lock();
        let revision = state.store.revision();
        state.rules.install(fault, now, revision)
    }

    /// Whether the server takes connections now: not from a restart's SIGTERM until the new
    /// process listens.
    #[must_use]
    pub fn accepting(&self) -> bool {
        self.shared.lock().downtime.accepting(self.now())
    }

    /// Resolves when the server serves again (at once, when it serves now).
    pub async fn up(&self) {
        let until = self.shared.lock().downtime.serves_again();
        self.shared.recorder.sleep_until(until).await;
    }

    /// Resolves when the server's port is open again (at once, when it is open).
    pub async fn listening(&self) {
        let until = self.shared.lock().downtime.listening_from();
        self.shared.recorder.sleep_until(until).await;
    }

    /// Process exits from now on, for [`super::connection::restarted`].
    pub(crate) fn restarts(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.restarts.subscribe()
    }

    /// SIGTERMs from now on, for [`super::connection::restarted`]: the port closes, and idle connections with it.
    pub(crate) fn closings(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.closing.subscribe()
    }

    /// Resolves once the run is a request storm — past `server.max_requests` requests, or
    /// [`STORM_BURST`] lists and watches within [`STORM_SPAN`](super::storm::STORM_SPAN) — with
    /// the requests made by then and, for a burst, the span its lists and watches took.
    pub async fn storm(&self) -> (u64, Option<Duration>) {
        let mut rx = self.shared.storm.subscribe();
        // NB: `wait_for` errs only when the sender is gone, which cannot happen while `self` lives.
        match rx.wait_for(Option::is_some).await {
            Ok(storm) => storm.unwrap_or_default(),
            Err(_) => futures::future::pending().await,
        }
    }

    /// Answers one request. Never panics on any input; everything malformed gets a Status.
    /// A request that reaches a restarted apiserver before it serves waits for it.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Body> {
        let now = self.now();
        let answered_from = self.shared.lock().downtime.answered_from(now);
        if answered_from > now {
            self.shared.recorder.sleep_until(answered_from).await;
        }
        let id = {
            let mut state = self.shared.lock();
            state.requests += 1;
            if state.requests > self.shared.spec.max_requests {
                let requests = state.requests;
                self.shared.storm.send_if_modified(|storm| {
                    storm.get_or_insert((requests, None));
                    true
                });
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
        let agent = request
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let sender = (
            agent,
            request.extensions().get::<ClientProcess>().map(|p| p.0),
        );
        let mut query = Query::parse(Some(&raw_query));
        let bound = request.extensions().get::<ReplicaId>().copied();
        let sender = {
            let mut state = self.shared.lock();
            query.replica = state.balancer.route(bound);
            (
                sender.0,
                sender.1,
                state.replicas.get(query.replica).name.clone(),
            )
        };
        let accept =
            || (request.headers().get_all(header::ACCEPT).iter()).filter_map(|v| v.to_str().ok());
        query.metadata_only = accept().any(|v| v.contains("as=PartialObjectMetadata"));
        query.table = accept().find_map(super::table_printer::Include::from_accept);
        query.aggregated = accept().any(discovery::wants_aggregated);
        query.gzip = accepts_gzip(request.headers().get(header::ACCEPT_ENCODING));
        let table_refused = match (query.table, query.get("includeObject")) {
            (Some(_), Some(value)) => match super::table_printer::Include::from_param(value) {
                Ok(include) => {
                    query.table = Some(include);
                    None
                }
                Err(message) => Some(message),
            },
            _ => None,
        };
        let route = Route::of(&path, &self.shared.resource);
        let verb = verb_of(&route, &query);
        if matches!(verb, Verb::List | Verb::Watch) {
            count_start(&self.shared, id);
        }
        let version = Version::parse(query.get("resourceVersion"));
        let info = RequestInfo {
            verb,
            path: &path,
            query: &raw_query,
            resource_version: match version {
                Ok(Version::At(n)) => Some(n),
                _ => None,
            },
            from_watch_cache: self.served_by_watch_cache(verb, version.ok(), query.replica),
        };
        let faults = if verb == Verb::Other || method != Method::GET {
            RequestFaults::default()
        } else {
            let now = self.now();
            self.shared.lock().rules.on_request(now, &info)
        };
        if let Some(delay) = faults.delay {
            self.shared.recorder.record(TraceKind::FaultHit {
                request: id,
                fault: FaultKind::Latency,
            });
            let recorder = &self.shared.recorder;
            recorder.sleep_until(recorder.now() + delay).await;
        }
        let response = if head_bytes > MAX_HEADER_BYTES {
            Status::header_too_large(MAX_HEADER_BYTES).into_response()
        } else if let Some(message) = table_refused {
            Status::bad_request(message).into_response()
        } else if let Some(answer) = faults.answer {
            match answer::respond(&self.shared, id, &route, &query, &info, answer).await {
                Some(response) => response,
                None => {
                    // `hang_headers`: the request is logged, and its answer never comes.
                    self.log(id, &method, &info, (0, None), sender);
                    return futures::future::pending().await;
                }
            }
        } else {
            self.dispatch(id, &method, route, &query, &info).await
        };
        self.log(id, &method, &info, answered(&response), sender);
        response
    }

    /// Whether the watch cache answers a request without asking etcd: a watch from a revision
    /// or from "0", and a LIST at "0", of a cached resource whose cache is ready. A consistent
    /// read (unset resourceVersion) asks etcd for its current revision first.
    fn served_by_watch_cache(&self, verb: Verb, version: Option<Version>, id: ReplicaId) -> bool {
        let served = matches!(
            (verb, version),
            (Verb::Watch, Some(Version::At(_) | Version::Zero)) | (Verb::List, Some(Version::Zero))
        );
        served && {
            let now = self.now();
            let state = self.shared.lock();
            state.cache(id).is_some_and(|c| c.unready(now).is_none())
        }
    }

    /// Records a request as answered (status, `Retry-After`); `sender` is its User-Agent,
    /// the local process that opened its connection, when known, and the replica it reached.
    fn log(
        &self,
        id: u64,
        method: &Method,
        info: &RequestInfo<'_>,
        (status, retry_after): (u16, Option<u32>),
        (agent, process, replica): (String, Option<u32>, Option<String>),
    ) {
        if status != 0 {
            *self
                .shared
                .lock()
                .answered
                .entry((info.verb, status))
                .or_default() += 1;
        }
        self.shared
            .recorder
            .record(TraceKind::Request(RequestRecord {
                id,
                method: method.to_string(),
                path: info.path.to_owned(),
                query: info.query.to_owned(),
                status,
                verb: info.verb,
                agent,
                process,
                retry_after,
                replica,
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
            Route::Metrics => super::metrics::render(&self.shared, query.replica),
            Route::CoreVersions | Route::Groups if query.aggregated => json_as(
                discovery::aggregated(&self.shared.resource, route == Route::CoreVersions),
                discovery::AGGREGATED,
            ),
            Route::CoreVersions => json(discovery::core_versions()),
            Route::Groups => json(discovery::groups(&self.shared.resource)),
            Route::GroupVersion { group, version } => {
                match discovery::resources(&self.shared.resource, &group, &version) {
                    Some(body) => json(body),
                    None => Status::not_found_path().into_response(),
                }
            }
            Route::Collection { namespace, .. } if info.verb == Verb::Watch => {
                watch_stream::start(
                    Arc::clone(&self.shared),
                    id,
                    namespace,
                    query,
                    info,
                    Opening::Normal,
                )
                .await
            }
            Route::Collection { namespace, .. } => {
                list::list(&self.shared, namespace.as_deref(), query).await
            }
            Route::Object { namespace, name } => self.get(namespace.as_deref(), &name, query),
            Route::NotFound => unreachable!("handled above"),
        }
    }

    fn get(&self, namespace: Option<&str>, name: &str, query: &Query) -> Response<Body> {
        let state = self.shared.lock();
        match state.store.get(&key_of(namespace, name)) {
            Some(object) => match self.shared.printer(query) {
                Some(printer) => {
                    json(printer.table(&[object], object.resource_version, None, None))
                }
                None => json(self.shared.wire(query).object(object)),
            },
            None => Status::not_found_object(
                &self.shared.resource.plural,
                &self.shared.resource.group,
                name,
            )
            .into_response(),
        }
    }
}
