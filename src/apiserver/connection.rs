//! Serving HTTP/1.1 on any byte stream: hyper's limits, the request extensions naming the local
//! process behind a connection and the replica a layer-4 load balancer bound it to, and how a
//! restart's SIGTERM and exit, and a failover, close connections.

use std::convert::Infallible;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::server::{ApiServer, ClientProcess, MAX_HEADER_BYTES};

/// hyper's read buffer: above the server's own header limit (`server::MAX_HEADER_BYTES`), which
/// answers with a Status; a head larger than this gets hyper's bare 431 and the connection
/// closes.
const READ_BUFFER_BYTES: usize = 2 * MAX_HEADER_BYTES;

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
    let mut failovers = server.shared.failovers.subscribe();
    // Behind a layer-4 load balancer the connection goes to one replica for its life.
    let bound = server.shared.lock().balancer.connect();
    let up = server.clone();
    let service = service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
        let server = server.clone();
        if let Some(pid) = process {
            request.extensions_mut().insert(ClientProcess(pid));
        }
        if let Some(replica) = bound {
            request.extensions_mut().insert(replica);
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
            () = restarted(&mut closings) => {
                connection.as_mut().graceful_shutdown();
            }
            () = restarted(&mut restarts) => {
                if !up.accepting() {
                    tracing::debug!("connection closed by a restart");
                    return;
                }
            }
            () = restarted(&mut failovers) => {
                // The balancer resets what it held to a replica it no longer sends to.
                let only = up.shared.lock().balancer.only();
                if bound.is_some() && only.is_some() && bound != only {
                    tracing::debug!("connection reset by a failover");
                    return;
                }
            }
        }
    }
}

/// Resolves at the next restart `restarts` sees.
pub(crate) async fn restarted(restarts: &mut tokio::sync::watch::Receiver<u64>) {
    // NB: errs only when the sender is gone, which cannot happen while its server lives.
    if restarts.changed().await.is_err() {
        futures::future::pending::<()>().await;
    }
}
