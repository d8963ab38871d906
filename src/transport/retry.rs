//! kube's client retry policy (`kube::client::retry::RetryPolicy::server_retry()`: 429, 503
//! and 504 retried up to 15 times, exponential from 5 ms to 1000 s, `Retry-After` honoured when
//! it is longer) with two changes the harness needs: the jitter is seeded, so runs repeat
//! exactly (kube seeds tower's `HasherRng` from `RandomState`), and every delay is divided by
//! the run's speed, so a live run sped up N× waits the same virtual time.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use tokio::time::Instant;
use tower::BoxError;
use tower::retry::Policy;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::Rng;

/// A deterministic `tower` RNG.
#[derive(Debug, Clone)]
struct SeededRng(fastrand::Rng);

impl Rng for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }
}

/// The retry policy; see the module docs.
#[derive(Clone)]
pub(super) struct SeededRetry {
    backoff: ExponentialBackoff<SeededRng>,
    attempt: u32,
    speed: u32,
}

/// kube's `server_retry()` parameters (kube-client `client/retry.rs`).
const MIN_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(1000);
const MAX_RETRIES: u32 = 15;

impl SeededRetry {
    pub(super) fn new(seed: u64, speed: u32) -> Self {
        let speed = speed.max(1);
        let backoff = ExponentialBackoffMaker::new(
            MIN_DELAY / speed,
            MAX_DELAY / speed,
            2.0,
            SeededRng(fastrand::Rng::with_seed(seed)),
        )
        .expect("kube's retry parameters are valid")
        .make_backoff();
        Self {
            backoff,
            attempt: 0,
            speed,
        }
    }
}

impl<Res> Policy<Request<kube::client::Body>, Response<Res>, BoxError> for SeededRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _request: &mut Request<kube::client::Body>,
        result: &mut Result<Response<Res>, BoxError>,
    ) -> Option<Self::Future> {
        let Ok(response) = result else { return None };
        let retryable = matches!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        );
        if !retryable || self.attempt >= MAX_RETRIES {
            return None;
        }
        self.attempt += 1;
        // As kube does: tick the backoff anyway, and wait for Retry-After only when it is
        // longer than the backoff.
        let backoff = self.backoff.next_backoff();
        let server_delay = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds) / self.speed);
        if let Some(delay) = server_delay
            && Instant::now()
                .checked_add(delay)
                .is_some_and(|after| backoff.deadline() <= after)
        {
            return Some(tokio::time::sleep(delay));
        }
        Some(backoff)
    }

    fn clone_request(
        &mut self,
        request: &Request<kube::client::Body>,
    ) -> Option<Request<kube::client::Body>> {
        let body = request.body().try_clone()?;
        let mut clone = Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone())
            .version(request.version())
            .body(body)
            .ok()?;
        clone.headers_mut().extend(request.headers().clone());
        *clone.extensions_mut() = request.extensions().clone();
        Some(clone)
    }
}
