//! Driving a server: playing a scenario's timeline in (virtual or real) time, and serving
//! HTTP/1.1 on any byte stream.

use std::convert::Infallible;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::server::ApiServer;
use crate::scenario::{Action, Scenario};

/// hyper's read buffer: above the server's own header limit (`server::MAX_HEADER_BYTES`), which
/// answers with a Status; a head larger than this gets hyper's bare 431 and the connection
/// closes.
const READ_BUFFER_BYTES: usize = 2 * super::server::MAX_HEADER_BYTES;

/// The local process that opened a request's connection ([`crate::peer`]), as a request
/// extension.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientProcess(pub(crate) u32);

/// Headers per request hyper parses (its default is 100; Go has no count limit, only bytes).
const MAX_HEADERS: usize = 1024;

/// Serves HTTP/1.1 on `io` until the client closes it. Errors are the client's (a reset,
/// a malformed request) and are logged, never raised.
pub async fn serve<I>(server: ApiServer, io: I)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_with(server, io, http1::Builder::new(), None).await;
}

/// Serves HTTP/1.1 on a real connection: as [`serve`], and a client that has not sent a whole
/// request head within `header_timeout` of wall time (slowloris) is disconnected. `process`
/// is the local process that opened the connection, when known: each request is recorded as
/// its.
pub async fn serve_live<I>(server: ApiServer, io: I, header_timeout: Duration, process: Option<u32>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    serve_with(server, io, builder, process).await;
}

async fn serve_with<I>(server: ApiServer, io: I, mut builder: http1::Builder, process: Option<u32>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut restarts = server.restarts();
    let mut closings = server.closings();
    let up = server.clone();
    let service = service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
        let server = server.clone();
        if let Some(pid) = process {
            request.extensions_mut().insert(ClientProcess(pid));
        }
        async move { Ok::<_, Infallible>(server.handle(request).await) }
    });
    let connection = builder
        .max_buf_size(READ_BUFFER_BYTES)
        .max_headers(MAX_HEADERS)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    // A restart's SIGTERM closes the connection once what is in flight on it is answered (at
    // once when idle), as net/http's `Shutdown` does; the process's exit closes it whatever it
    // is doing, idle ones in a client's pool included. A restart without downtime
    // (`down: 0s`) only resets the watches.
    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            result = &mut connection => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = super::server::restarted(&mut closings) => {
                connection.as_mut().graceful_shutdown();
            }
            () = super::server::restarted(&mut restarts) => {
                if !up.accepting() {
                    tracing::debug!("connection closed by a restart");
                    return;
                }
            }
        }
    }
}

/// Plays the scenario's timeline, background churn and periodic compaction on `server` until
/// the scenario's duration has passed. Times are relative to the server's recorder start.
///
/// The steps at time zero are applied before this returns, so no request can arrive before
/// them, whichever task the runtime polls first; the rest happens in the returned future.
pub fn play(server: ApiServer, scenario: Scenario) -> impl Future<Output = ()> + Send + 'static {
    let at_start = scenario
        .timeline
        .iter()
        .take_while(|step| step.at.is_zero())
        .count();
    for step in &scenario.timeline[..at_start] {
        apply(&server, &step.action);
    }
    async move {
        let end = scenario.duration;
        tokio::join!(
            steps(&server, &scenario, at_start),
            every(&server, scenario.server.churn_interval, end, |s| s.churn()),
            compaction(&server, scenario.server.compaction_interval, end),
        );
    }
}

fn apply(server: &ApiServer, action: &Action) {
    match action {
        Action::Write(write) => server.write(write),
        Action::Fault(fault) => server.inject(fault),
    }
}

async fn steps(server: &ApiServer, scenario: &Scenario, skip: usize) {
    for step in &scenario.timeline[skip..] {
        sleep_to(server, step.at).await;
        apply(server, &step.action);
    }
}

async fn every(
    server: &ApiServer,
    interval: Option<Duration>,
    end: Duration,
    tick: impl Fn(&ApiServer),
) {
    let Some(interval) = interval else { return };
    let mut at = interval;
    while at <= end {
        sleep_to(server, at).await;
        tick(server);
        at += interval;
    }
}

/// etcd's compactor: each run compacts at the revision recorded at the previous run, so 5 to
/// 10 minutes of history survive (apiserver `storage/etcd3/compact.go`).
async fn compaction(server: &ApiServer, interval: Option<Duration>, end: Duration) {
    let Some(interval) = interval else { return };
    let mut recorded = server.revision();
    let mut at = interval;
    while at <= end {
        sleep_to(server, at).await;
        server.compact_to(recorded);
        recorded = server.revision();
        at += interval;
    }
}

async fn sleep_to(server: &ApiServer, at: Duration) {
    server.recorder().sleep_until(at).await;
}
