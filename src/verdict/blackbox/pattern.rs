//! Shapes in a client's requests: the cycle it repeated and the longest stretch it did
//! nothing.

use std::time::Duration;

use crate::scenario::format_duration as fmt;
use crate::trace::Verb;
use crate::verdict::call::Call;

/// The stretches within `from..to` in which the client had no watch open, no request pending
/// and made no request: time it spent waiting of its own accord (its backoff, its timers, a
/// `Retry-After` it obeyed), which on a timeline played N× faster counts N× in virtual time.
pub(super) fn idle_stretches(
    calls: &[Call<'_>],
    from: Duration,
    to: Duration,
) -> Vec<(Duration, Duration)> {
    let mut busy: Vec<(Duration, Duration)> = calls
        .iter()
        .map(|c| {
            let until = match (c.record.verb, c.record.status, c.ended) {
                (_, 0, _) => to,
                (Verb::Watch, 200, None) => to,
                (_, _, Some((at, _))) => at,
                _ => c.at,
            };
            (c.arrived, until)
        })
        .collect();
    busy.sort();
    let mut stretches = Vec::new();
    let mut free_from = from;
    for (start, until) in busy {
        if start > free_from && start <= to {
            stretches.push((free_from, start));
        }
        free_from = free_from.max(until);
    }
    if to > free_from {
        stretches.push((free_from, to));
    }
    stretches
}

/// The longest of [`idle_stretches`].
pub(super) fn longest_idle(
    calls: &[Call<'_>],
    from: Duration,
    to: Duration,
) -> Option<(Duration, Duration)> {
    idle_stretches(calls, from, to).into_iter().fold(
        None,
        |longest: Option<(Duration, Duration)>, (a, b)| match longest {
            Some((la, lb)) if lb - la >= b - a => Some((la, lb)),
            _ => Some((a, b)),
        },
    )
}

/// The cycle of requests the client repeated most at its end, when it repeated one at least
/// three times: `LIST → 200, WATCH → 410 (×120)`.
pub(super) fn repeated_pattern(calls: &[Call<'_>]) -> Option<String> {
    let words: Vec<String> = calls.iter().map(Call::describe).collect();
    let mut best: Option<(usize, usize, usize)> = None; // (period, start, repeats)
    for period in 1..=4 {
        // The longest run of repeats of one cycle of `period` requests.
        let mut i = 0;
        while i + period <= words.len() {
            let mut repeats = 1;
            while i + (repeats + 1) * period <= words.len()
                && words[i + repeats * period..i + (repeats + 1) * period] == words[i..i + period]
            {
                repeats += 1;
            }
            if repeats >= 3 && best.is_none_or(|(p, _, r)| repeats * period > r * p) {
                best = Some((period, i, repeats));
            }
            i += if repeats > 1 { repeats * period } else { 1 };
        }
    }
    let (period, start, repeats) = best?;
    Some(format!(
        "{} (×{repeats}, from {})",
        words[start..start + period].join(", "),
        fmt(calls[start].at)
    ))
}
