//! Request rate: the most requests in any minute, against the scenario's bound. Both judges
//! count the peak alike ([`peak_per_minute`]); the exec-client judge also fails a client the
//! run stopped as a storm, and says how it paced its retries.

use std::fmt::Write as _;
use std::time::Duration;

use crate::apiserver::storm_words;
use crate::check_name::CheckName;
use crate::verdict::scorecard::Check;

const MINUTE: Duration = Duration::from_secs(60);

/// The most requests in any window of one minute.
pub(in crate::verdict) fn peak_per_minute(times: &[Duration]) -> u32 {
    let mut peak = 0;
    let mut start = 0;
    for (end, at) in times.iter().enumerate() {
        while *at - times[start] >= MINUTE {
            start += 1;
        }
        peak = peak.max(end - start + 1);
    }
    u32::try_from(peak).unwrap_or(u32::MAX)
}

/// The kube-rs watcher's peak, when the scenario bounds it.
pub(in crate::verdict) fn rate_within(peak: u32, max: u32) -> Check {
    Check {
        name: CheckName::RequestRate,
        passed: peak <= max,
        detail: format!("at most {peak} requests in any minute (bound {max})"),
    }
}

/// An exec client's peak, bound or not; `storm` when the run stopped it as a request storm
/// (`max_requests` the server's bound), `backoff` how it paced its retries, in words.
pub(in crate::verdict) fn client_rate(
    peak: u32,
    bound: Option<u32>,
    storm: Option<(Duration, u64, Option<Duration>)>,
    max_requests: u64,
    backoff: Option<String>,
) -> Check {
    let mut detail = match bound {
        Some(b) => format!("peak {peak} requests in a minute (bound {b})"),
        None => format!("peak {peak} requests in a minute (no bound)"),
    };
    if let Some((_, requests, burst)) = storm {
        let _ = write!(
            detail,
            "; stopped as a request storm: {}",
            storm_words(requests, burst, max_requests)
        );
    }
    if let Some(backoff) = backoff {
        let _ = write!(detail, "; {backoff}");
    }
    Check {
        name: CheckName::RequestRate,
        passed: storm.is_none() && bound.is_none_or(|b| peak <= b),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_counts_requests_in_the_busiest_sliding_minute() {
        let s = |v: &[u64]| {
            v.iter()
                .map(|s| Duration::from_secs(*s))
                .collect::<Vec<_>>()
        };
        assert_eq!(peak_per_minute(&[]), 0);
        assert_eq!(peak_per_minute(&s(&[0, 30, 59, 60, 61, 200])), 4);
        assert_eq!(peak_per_minute(&s(&[0, 60, 120])), 1);
    }
}
