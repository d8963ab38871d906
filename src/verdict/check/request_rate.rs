//! Request rate: the most requests in any minute, against the scenario's bound; a client the
//! run stopped as a request storm fails it whatever the bound. Both judges read it off the
//! requests alike, and say how the client paced its retries.

use std::fmt::Write as _;
use std::time::Duration;

use crate::check_name::CheckName;
use crate::scenario::format_duration as fmt;
use crate::verdict::call::Call;
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

/// A client's peak against the scenario's bound, if it sets one; `stormed` when the run
/// stopped it as a request storm, `backoff` how it paced its retries, in words.
pub(in crate::verdict) fn rate_within(
    peak: u32,
    bound: Option<u32>,
    stormed: bool,
    backoff: Option<String>,
) -> Check {
    let mut detail = match bound {
        Some(b) => format!("peak {peak} requests in a minute (bound {b})"),
        None => format!("peak {peak} requests in a minute (no bound)"),
    };
    if stormed {
        // The survived check tells the storm's numbers.
        detail.push_str("; the run stopped it as a request storm");
    }
    if let Some(backoff) = backoff {
        let _ = write!(detail, "; {backoff}");
    }
    Check {
        name: CheckName::RequestRate,
        passed: !stormed && bound.is_none_or(|b| peak <= b),
        detail,
    }
}

/// How the client paced its retries after failures, in words, when it retried at least three
/// times in a row.
pub(in crate::verdict) fn pacing(calls: &[Call<'_>]) -> Option<String> {
    let mut longest: &[Call<'_>] = &[];
    let mut start = 0;
    for i in 0..=calls.len() {
        if i == calls.len() || !calls[i].failed() {
            if i - start > longest.len() {
                longest = &calls[start..i];
            }
            start = i + 1;
        }
    }
    if longest.len() < 3 {
        return None;
    }
    let gaps: Vec<Duration> = longest.windows(2).map(|w| w[1].at - w[0].at).collect();
    let (first, last) = (gaps[0], gaps[gaps.len() - 1]);
    let growing = last >= first * 2 && last > Duration::ZERO;
    Some(format!(
        "{} failed requests in a row from {}, {} apart at first and {} at last: {}",
        longest.len(),
        fmt(longest[0].at),
        fmt(first),
        fmt(last),
        if growing {
            "it backs off"
        } else {
            "it does not back off"
        }
    ))
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

    #[test]
    fn the_rate_passes_within_the_bound_and_fails_beyond_it_or_in_a_storm() {
        assert!(rate_within(10, Some(10), false, None).passed);
        assert!(rate_within(99, None, false, None).passed);
        let over = rate_within(11, Some(10), false, None);
        assert!(!over.passed);
        assert_eq!(over.detail, "peak 11 requests in a minute (bound 10)");
        assert!(!rate_within(3, None, true, None).passed);
    }
}
