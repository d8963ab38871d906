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

/// The replica against kube's own `RetryPolicy::server_retry()`: the same statuses retried, the
/// same number of times, after delays drawn from the same ranges, and `Retry-After` honoured
/// the same way. A kube upgrade that changes any of it fails here.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kube::client::retry::RetryPolicy;
    use tower::retry::Policy;

    use super::*;

    type Res = Response<()>;

    fn response(status: u16, retry_after: Option<&str>) -> Result<Res, BoxError> {
        let mut builder = Response::builder().status(status);
        if let Some(seconds) = retry_after {
            builder = builder.header(http::header::RETRY_AFTER, seconds);
        }
        Ok(builder.body(()).unwrap())
    }

    fn request() -> Request<kube::client::Body> {
        Request::get("/api/v1/pods")
            .body(kube::client::Body::empty())
            .unwrap()
    }

    /// The delays a policy waits before each retry of a request answered `status` every time,
    /// until it gives up.
    fn delays<P>(mut policy: P, status: u16, retry_after: Option<&str>) -> Vec<Duration>
    where
        P: Policy<Request<kube::client::Body>, Res, BoxError, Future = tokio::time::Sleep>,
    {
        let mut out = Vec::new();
        while let Some(sleep) = policy.retry(&mut request(), &mut response(status, retry_after)) {
            out.push(sleep.deadline() - Instant::now());
            assert!(out.len() <= 100, "a retry policy gives up");
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_retry_retries_what_kube_retries_as_often() {
        for status in [429, 503, 504] {
            let kube = delays(RetryPolicy::server_retry(), status, None).len();
            let ours = delays(SeededRetry::new(1, 1), status, None).len();
            assert_eq!(ours, kube, "retries of a {status}");
            assert_eq!(kube, 15, "kube 5.0 retries 15 times");
        }
        for status in [200, 400, 403, 410, 500] {
            assert!(delays(RetryPolicy::server_retry(), status, None).is_empty());
            assert!(delays(SeededRetry::new(1, 1), status, None).is_empty());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_retry_draws_its_delays_from_the_same_ranges_as_kube() {
        // Per attempt, the smallest and largest delay over many draws. kube's jitter is
        // unseeded, so its draws differ run to run. The jitter is uniform over the attempt's
        // range, so the chance that the extreme of 400 draws falls more than 5% of the range's
        // width short of its bound is 0.95^400 ≈ 1e-9; two extremes that agree within that much
        // come from the same range. A changed base or jitter factor moves them by far more.
        let range = |draws: Vec<Vec<Duration>>| -> Vec<(Duration, Duration)> {
            (0..draws[0].len())
                .map(|i| {
                    let column = draws.iter().map(|d| d[i]);
                    (column.clone().min().unwrap(), column.max().unwrap())
                })
                .collect()
        };
        let kube = range(
            (0..400)
                .map(|_| delays(RetryPolicy::server_retry(), 503, None))
                .collect(),
        );
        let ours = range(
            (0..400)
                .map(|seed| delays(SeededRetry::new(seed, 1), 503, None))
                .collect(),
        );
        for (attempt, ((kube_min, kube_max), (our_min, our_max))) in
            kube.iter().zip(&ours).enumerate()
        {
            let width = (*kube_max).max(*our_max) - (*kube_min).min(*our_min);
            let close = |a: Duration, b: Duration| a.abs_diff(b) <= width / 20;
            assert!(
                close(*kube_min, *our_min) && close(*kube_max, *our_max),
                "attempt {attempt}: kube waits {kube_min:?}..{kube_max:?}, the replica {our_min:?}..{our_max:?}"
            );
        }
        assert!(ours[0].0 >= Duration::from_millis(5), "from 5 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_retry_waits_for_retry_after_when_it_is_longer_as_kube_does() {
        let kube = delays(RetryPolicy::server_retry(), 429, Some("10"));
        let ours = delays(SeededRetry::new(7, 1), 429, Some("10"));
        assert_eq!(kube[..5], [Duration::from_secs(10); 5]);
        assert_eq!(ours[..5], kube[..5]);
        // Once the backoff outgrows it, the backoff wins in both.
        assert!(kube.last().unwrap() > &Duration::from_secs(10));
        assert!(ours.last().unwrap() > &Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_seeded_retry_repeats_for_a_seed_and_scales_with_the_speed() {
        assert_eq!(
            delays(SeededRetry::new(3, 1), 503, None),
            delays(SeededRetry::new(3, 1), 503, None)
        );
        // tower truncates the jitter's whole seconds apart from its fraction, so a scaled delay
        // is not exactly a tenth; it is the same draw, about a tenth.
        let live = delays(SeededRetry::new(3, 10), 503, None);
        let simulated = delays(SeededRetry::new(3, 1), 503, None);
        for (fast, slow) in live.iter().zip(&simulated) {
            let ratio = (*fast * 10).as_secs_f64() / slow.as_secs_f64();
            assert!(
                (0.5..=2.0).contains(&ratio),
                "{fast:?} live for {slow:?} simulated"
            );
        }
    }
}
