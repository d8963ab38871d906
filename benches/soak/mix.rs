//! Well-formed traffic: every verb the server serves, in a fixed mix, on keep-alive
//! connections, with watches that the server ends (a short `timeoutSeconds`), that the load
//! cuts mid-stream, and streaming lists read to their initial-events-end bookmark.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::counts::Counts;

/// How long a request may take to answer, or a whole answer to arrive, before it counts as
/// unanswered: far past anything the scenario delays.
const PATIENCE: Duration = Duration::from_secs(30);

/// Table and metadata-only `Accept` headers as kubectl and kube-rs send them.
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const METADATA: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// One kind of request in the mix, with its weight (of [`TOTAL_WEIGHT`]).
#[derive(Debug, Clone, Copy)]
enum Kind {
    List,
    ListSelected,
    ListPaged,
    ListTable,
    ListMetadata,
    ListExact,
    ListRefused,
    Get,
    GetMissing,
    Discovery,
    WrongMethod,
    UnknownPath,
    WatchUntilTimeout,
    WatchCut,
    StreamingList,
}

const MIX: &[(Kind, u32)] = &[
    (Kind::List, 14),
    (Kind::ListSelected, 10),
    (Kind::ListPaged, 8),
    (Kind::ListTable, 6),
    (Kind::ListMetadata, 6),
    (Kind::ListExact, 6),
    (Kind::ListRefused, 6),
    (Kind::Get, 12),
    (Kind::GetMissing, 6),
    (Kind::Discovery, 12),
    (Kind::WrongMethod, 5),
    (Kind::UnknownPath, 5),
    (Kind::WatchUntilTimeout, 2),
    (Kind::WatchCut, 1),
    (Kind::StreamingList, 1),
];

/// What a request left the connection fit for.
enum After {
    Keep,
    /// The load cut a watch, or the server closed: a new connection for the next request.
    Reconnect,
}

/// One connection's worth of load: sends requests from `budget` until it is spent, over
/// keep-alive connections to `addr`, opening a new one after every cut; at most one a `pace`
/// when given.
pub(crate) async fn worker(
    addr: SocketAddr,
    seed: u64,
    pace: Option<Duration>,
    budget: Arc<AtomicI64>,
    counts: Arc<Counts>,
) {
    let mut next = tokio::time::Instant::now();
    let mut rng = fastrand::Rng::with_seed(seed);
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut version = String::from("1");
    'connections: loop {
        let Some(mut sender) = connect(addr, &counts).await else {
            if budget.load(Ordering::Relaxed) <= 0 {
                return;
            }
            continue;
        };
        loop {
            if budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
                return;
            }
            if let Some(pace) = pace {
                // NB: no catching up after a slow answer: a burst of the requests a worker
                // owes would be a storm by itself.
                next = (next + pace).max(tokio::time::Instant::now());
                tokio::time::sleep_until(next).await;
            }
            let mut pick = rng.u32(..total);
            let kind = MIX
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        return true;
                    }
                    pick -= w;
                    false
                })
                .map_or(Kind::List, |(k, _)| *k);
            match one(&mut sender, kind, &mut rng, &mut version, &counts).await {
                After::Keep => {}
                After::Reconnect => continue 'connections,
            }
        }
    }
}

async fn connect(addr: SocketAddr, counts: &Counts) -> Option<SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(connection);
    counts
        .connections
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Some(sender)
}

fn get(path: &str) -> http::request::Builder {
    Request::get(path)
        .header("host", "soak")
        .header("user-agent", "kwh-soak")
}

async fn one(
    sender: &mut SendRequest<Empty<Bytes>>,
    kind: Kind,
    rng: &mut fastrand::Rng,
    version: &mut String,
    counts: &Counts,
) -> After {
    let base = "/api/v1/configmaps";
    let request = match kind {
        Kind::List => get(&format!("{base}?limit=500")),
        Kind::ListSelected => get(
            "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb%2Cenv%21%3Dprod&fieldSelector=metadata.name%21%3Dnope",
        ),
        Kind::ListPaged => {
            let (after, body) = whole(sender, get(&format!("{base}?limit=1")), counts).await;
            let Some(body) = body else { return after };
            let token = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["metadata"]["continue"].as_str().map(str::to_owned));
            match token {
                Some(token) => get(&format!("{base}?limit=1&continue={token}")),
                None => return after,
            }
        }
        Kind::ListTable => {
            get(&format!("{base}?resourceVersion=0&limit=500")).header("accept", TABLE)
        }
        Kind::ListMetadata => get(&format!("{base}?limit=500")).header("accept", METADATA),
        Kind::ListExact => get(&format!(
            "{base}?resourceVersion={version}&resourceVersionMatch=Exact&limit=500"
        )),
        Kind::ListRefused => match rng.u8(..3) {
            0 => get(&format!("{base}?limit=ten")),
            1 => get(&format!("{base}?resourceVersionMatch=Exact")),
            _ => get(&format!("{base}?labelSelector=app%3D%3D%3Dweb")),
        },
        Kind::Get => get("/api/v1/namespaces/default/configmaps/app-config"),
        Kind::GetMissing => get("/api/v1/namespaces/default/configmaps/nope"),
        Kind::Discovery => match rng.u8(..5) {
            0 => get("/api"),
            1 => get("/apis"),
            2 => get("/api/v1"),
            3 => get("/version"),
            _ => get("/apis").header("accept", AGGREGATED),
        },
        Kind::WrongMethod => {
            let method =
                [Method::POST, Method::PUT, Method::PATCH, Method::DELETE][rng.usize(..4)].clone();
            get(base).method(method)
        }
        Kind::UnknownPath => get("/apis/apps/v1/namespaces/default/deployments"),
        Kind::WatchUntilTimeout => {
            return watch(
                sender,
                get(&format!(
                    "{base}?watch=true&resourceVersion={version}&timeoutSeconds=1&allowWatchBookmarks=true"
                )),
                Until::End,
                version,
                counts,
            )
            .await;
        }
        Kind::WatchCut => {
            return watch(
                sender,
                get(&format!("{base}?watch=true&resourceVersion=0")),
                Until::Lines(1),
                version,
                counts,
            )
            .await;
        }
        Kind::StreamingList => {
            return watch(
                sender,
                get(&format!(
                    "{base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
                )),
                Until::InitialEventsEnd,
                version,
                counts,
            )
            .await;
        }
    };
    let (after, body) = whole(sender, request, counts).await;
    if let (Kind::List, Some(body)) = (kind, body)
        && let Ok(list) = serde_json::from_slice::<serde_json::Value>(&body)
        && let Some(rv) = list["metadata"]["resourceVersion"].as_str()
    {
        rv.clone_into(version);
    }
    after
}

/// Sends `request` and reads its whole answer; the body of a 200.
async fn whole(
    sender: &mut SendRequest<Empty<Bytes>>,
    request: http::request::Builder,
    counts: &Counts,
) -> (After, Option<Bytes>) {
    let Some(response) = send(sender, request, counts).await else {
        return (After::Reconnect, None);
    };
    let ok = response.status() == StatusCode::OK;
    match tokio::time::timeout(PATIENCE, response.into_body().collect()).await {
        Ok(Ok(body)) => (After::Keep, ok.then(|| body.to_bytes())),
        _ => (After::Reconnect, None),
    }
}

async fn send(
    sender: &mut SendRequest<Empty<Bytes>>,
    request: http::request::Builder,
    counts: &Counts,
) -> Option<http::Response<Incoming>> {
    let request = request.body(Empty::new()).ok()?;
    if tokio::time::timeout(PATIENCE, sender.ready())
        .await
        .ok()?
        .is_err()
    {
        return None;
    }
    match tokio::time::timeout(PATIENCE, sender.send_request(request)).await {
        Ok(Ok(response)) => {
            counts.answered(response.status().as_u16());
            Some(response)
        }
        Ok(Err(_)) => None,
        Err(_) => {
            counts.unanswered.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// How far a watch is read.
#[derive(Clone, Copy)]
enum Until {
    /// To the server's end of it.
    End,
    /// This many event lines, then the load cuts it.
    Lines(u64),
    /// To the `k8s.io/initial-events-end` bookmark, then the load cuts it.
    InitialEventsEnd,
}

async fn watch(
    sender: &mut SendRequest<Empty<Bytes>>,
    request: http::request::Builder,
    until: Until,
    version: &mut String,
    counts: &Counts,
) -> After {
    let Some(response) = send(sender, request, counts).await else {
        return After::Reconnect;
    };
    if response.status() != StatusCode::OK {
        return match tokio::time::timeout(PATIENCE, response.into_body().collect()).await {
            Ok(Ok(_)) => After::Keep,
            _ => After::Reconnect,
        };
    }
    let mut body = response.into_body();
    let mut pending = Vec::new();
    let mut lines = 0;
    loop {
        let frame = match tokio::time::timeout(PATIENCE, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => {
                counts.watches_ended.fetch_add(1, Ordering::Relaxed);
                return After::Keep;
            }
            Ok(Some(Err(_))) | Err(_) => return After::Reconnect,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            lines += 1;
            counts.events.fetch_add(1, Ordering::Relaxed);
            let initial_end = line
                .windows(b"initial-events-end".len())
                .any(|w| w == b"initial-events-end");
            if let Ok(event) = serde_json::from_slice::<serde_json::Value>(&line)
                && let Some(rv) = event["object"]["metadata"]["resourceVersion"].as_str()
                && event["type"] != "ERROR"
            {
                rv.clone_into(version);
            }
            let done = match until {
                Until::End => false,
                Until::Lines(n) => lines >= n,
                Until::InitialEventsEnd => initial_end,
            };
            if done {
                counts.watches_cut.fetch_add(1, Ordering::Relaxed);
                return After::Reconnect;
            }
        }
    }
}

/// A watch held open for the whole soak, re-opened from where it was whenever the server ends
/// it (from the start after an ERROR), until the task is aborted. A watch that ends within a
/// second (an error answer, an ERROR event) is re-opened a second later, as a client backs
/// off: eight watches re-opened at once for as long as a fault answers them would be a
/// request storm of the load's own.
pub(crate) async fn held(addr: SocketAddr, counts: Arc<Counts>) {
    let mut version = String::from("0");
    loop {
        let Some(mut sender) = connect(addr, &counts).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        loop {
            let request = get(&format!(
                "/api/v1/configmaps?watch=true&resourceVersion={version}&allowWatchBookmarks=true&timeoutSeconds=60"
            ));
            let before = version.clone();
            let started = tokio::time::Instant::now();
            let after = watch(&mut sender, request, Until::End, &mut version, &counts).await;
            tokio::time::sleep_until(started + Duration::from_secs(1)).await;
            if let After::Reconnect = after {
                break;
            }
            if version == before {
                // Ended without progress (an ERROR, most likely 410): start over.
                "0".clone_into(&mut version);
            }
        }
    }
}
