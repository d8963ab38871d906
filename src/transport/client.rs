//! Building the kube `Client`: kube's own layers over a connector of ours (in memory or TCP),
//! with kube's retry policy replaced by the seeded, speed-scaled replica in `retry.rs`.

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use tower::ServiceBuilder;
use tower::retry::RetryLayer;

use super::memory::MemoryConnector;
use super::retry;
use crate::apiserver::ApiServer;

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

/// A kube `Config` for the simulated server: kube's defaults, plain HTTP, namespace `default`.
#[must_use]
pub fn config() -> kube::Config {
    kube::Config::new(SIMULATED_URL.parse().expect("the simulated URL is valid"))
}

/// A kube `Client` over in-memory connections to `server`, with the layers kube builds from
/// `config` and the retry jitter seeded with `seed`. Must be called inside the run's tokio
/// runtime.
///
/// # Errors
/// [`Error::Kube`] when `config`'s auth or header settings are invalid.
pub fn client(server: ApiServer, config: &kube::Config, seed: u64) -> Result<kube::Client, Error> {
    let speed = server.recorder().speed();
    build(MemoryConnector::new(server), config, seed, speed)
}

/// A kube `Client` over TCP to `config`'s cluster URL (plain HTTP), as [`client`] builds it;
/// the retry delays are divided by `speed`.
///
/// # Errors
/// [`Error::Kube`] when `config`'s auth or header settings are invalid.
pub fn tcp_client(config: &kube::Config, seed: u64, speed: u32) -> Result<kube::Client, Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    build(http, config, seed, speed)
}

fn build<C>(
    connector: C,
    config: &kube::Config,
    seed: u64,
    speed: u32,
) -> Result<kube::Client, Error>
where
    C: tower::Service<http::Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send + 'static,
    C::Future: Send + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connector = TimeoutConnector::new(connector);
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
                .then(|| RetryLayer::new(retry::SeededRetry::new(seed, speed))),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}
