//! The in-memory connection between a kube `Client` and an [`ApiServer`]: every connect makes a
//! `tokio::io::duplex` pair and serves its far end with hyper, so the whole HTTP/1.1 and chunked
//! watch path is real code, yet no socket exists and paused virtual time stays safe
//! (tokio#4522: a paused clock jumps while bytes sit in a kernel buffer).
//!
//! [`client`] builds the `Client` the way kube's `ClientBuilder::try_from(Config)` does — base
//! URI, client retry of 429/503/504, auth and extra headers, hyper-timeout's read/write
//! timeouts — with only the connector swapped.

use std::future::{Ready, ready};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tower::ServiceBuilder;
use tower::retry::RetryLayer;

use crate::apiserver::{ApiServer, serve};

/// Bytes buffered each way on an in-memory connection: the writer waits when it is full, as on
/// a socket.
const PIPE_BYTES: usize = 256 * 1024;

/// The base URI the simulated client talks to; it never resolves, nothing listens there.
pub const SIMULATED_URL: &str = "http://kube-watch-harness.sim";

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// kube refused the configuration's layers (auth or headers).
    #[error("failed to build the kube client stack")]
    Kube(#[from] kube::Error),
}

/// The client end of one in-memory connection.
#[derive(Debug)]
pub struct MemoryStream(DuplexStream);

impl AsyncRead for MemoryStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Connection for MemoryStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// A connector whose every connection is served by one [`ApiServer`] in this runtime.
#[derive(Debug, Clone)]
pub struct MemoryConnector {
    server: ApiServer,
}

impl MemoryConnector {
    /// A connector to `server`.
    #[must_use]
    pub fn new(server: ApiServer) -> Self {
        Self { server }
    }
}

impl tower::Service<http::Uri> for MemoryConnector {
    type Response = TokioIo<MemoryStream>;
    type Error = io::Error;
    type Future = Ready<io::Result<Self::Response>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let (client, server_end) = tokio::io::duplex(PIPE_BYTES);
        tokio::spawn(serve(self.server.clone(), server_end));
        ready(Ok(TokioIo::new(MemoryStream(client))))
    }
}

/// A kube `Config` for the simulated server: kube's defaults, plain HTTP, namespace `default`.
#[must_use]
pub fn config() -> kube::Config {
    kube::Config::new(SIMULATED_URL.parse().expect("the simulated URL is valid"))
}

/// A kube `Client` over in-memory connections to `server`, with the layers kube builds from
/// `config`. Must be called inside the run's tokio runtime.
///
/// # Errors
/// [`Error::Kube`] when `config`'s auth or header settings are invalid.
pub fn client(server: ApiServer, config: &kube::Config) -> Result<kube::Client, Error> {
    let mut connector = TimeoutConnector::new(MemoryConnector::new(server));
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http = hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}
