//! Shrinking a failing timeline to one where every fault is needed: drop faults, then make the
//! rest simpler (earlier, shorter, fewer hits, plainer targets), keeping each change only while
//! the set-up still fails the same way.

use std::time::Duration;

use super::failure::Failure;
use super::timeline::Timeline;
use crate::fault::{ErrorBody, Fault, Restart};
use crate::outcome::Outcome;
use crate::scenario::ServerSettings;

/// What shrinking found.
pub(super) struct Shrunk {
    pub(super) faults: Timeline,
    /// Whether removing any one fault was tried and made the failure go away.
    pub(super) minimal: bool,
    /// The run of the shrunk timeline.
    pub(super) outcome: Outcome,
}

/// Shrinks `faults`, which fail as `failure` says, moving none before `earliest`; `run` runs a
/// timeline. At most `attempts` runs go into making it simpler; proving it minimal takes one
/// run per fault more.
pub(super) fn shrink(
    faults: Timeline,
    outcome: Outcome,
    failure: &Failure,
    earliest: Duration,
    attempts: usize,
    run: &mut dyn FnMut(&Timeline) -> Option<Outcome>,
) -> Shrunk {
    let (mut faults, mut outcome) = (faults, outcome);
    let mut left = attempts;
    let mut still = |candidate: &Timeline, left: &mut usize| -> Option<Outcome> {
        *left = left.saturating_sub(1);
        run(candidate).filter(|o| failure.is(o))
    };
    'simpler: while left > 0 {
        for i in 0..faults.len() {
            let mut fewer = faults.clone();
            fewer.remove(i);
            if let Some(o) = still(&fewer, &mut left) {
                (faults, outcome) = (fewer, o);
                continue 'simpler;
            }
            if left == 0 {
                break 'simpler;
            }
        }
        for i in 0..faults.len() {
            for simpler in simpler(&faults[i], earliest) {
                let mut candidate = faults.clone();
                candidate[i] = simpler;
                candidate.sort_by_key(|(at, _)| *at);
                if let Some(o) = still(&candidate, &mut left) {
                    (faults, outcome) = (candidate, o);
                    continue 'simpler;
                }
                if left == 0 {
                    break 'simpler;
                }
            }
        }
        break;
    }
    // Minimal: without any one of its faults, the set-up no longer fails this way.
    let mut minimal = true;
    for i in 0..faults.len() {
        let mut fewer = faults.clone();
        fewer.remove(i);
        if run(&fewer).is_some_and(|o| failure.is(&o)) {
            minimal = false;
            break;
        }
    }
    Shrunk {
        faults,
        minimal,
        outcome,
    }
}

/// Gives the scenario back its own server settings, one drawn setting at a time, keeping each
/// change only while the set-up still fails the same way; `run` runs the drawn timeline under
/// settings. Each run takes one of `attempts`.
pub(super) fn shrink_server(
    settings: ServerSettings,
    outcome: Outcome,
    failure: &Failure,
    attempts: &mut usize,
    run: &mut dyn FnMut(&ServerSettings) -> Option<Outcome>,
) -> (ServerSettings, Outcome) {
    let (mut settings, mut outcome) = (settings, outcome);
    'fewer: while *attempts > 0 {
        for fewer in settings.each_without_one() {
            *attempts = attempts.saturating_sub(1);
            if let Some(o) = run(&fewer).filter(|o| failure.is(o)) {
                (settings, outcome) = (fewer, o);
                continue 'fewer;
            }
            if *attempts == 0 {
                break 'fewer;
            }
        }
        break;
    }
    (settings, outcome)
}

/// Simpler versions of one fault, simplest first: earlier (halfway to `earliest`, on whole
/// seconds), a shorter window, fewer hits, a plainer target, plainer parameters.
fn simpler((at, fault): &(Duration, Fault), earliest: Duration) -> Vec<(Duration, Fault)> {
    let mut out = Vec::new();
    let halfway = Duration::from_secs((earliest.as_secs() + at.as_secs()) / 2);
    if halfway < *at {
        out.push((halfway, fault.clone()));
    }
    let halve = |d: Duration| Duration::from_secs(d.as_secs() / 2).max(Duration::from_secs(1));
    let mut with = |change: &dyn Fn(&mut Fault) -> bool| {
        let mut simpler = fault.clone();
        if change(&mut simpler) && simpler != *fault {
            out.push((*at, simpler));
        }
    };
    with(&|f| match f {
        Fault::Idle { duration }
        | Fault::DropBookmarks { duration }
        | Fault::StaleBookmarks { duration }
        | Fault::EmptyBookmarks { duration }
        | Fault::EarlyBookmarks { duration, .. } => {
            *duration = halve(*duration);
            true
        }
        _ => false,
    });
    with(&|f| match f.target_mut() {
        Some(t) if t.count.is_some() && t.window.is_some() => {
            t.window = None;
            true
        }
        Some(t) => t.window.as_mut().is_some_and(|w| {
            *w = halve(*w);
            true
        }),
        None => false,
    });
    with(&|f| {
        f.target_mut().is_some_and(|t| match t.count {
            Some(n) if n > 1 => {
                t.count = Some(n / 2);
                true
            }
            _ => false,
        })
    });
    with(&|f| {
        f.target_mut().is_some_and(|t| {
            let plain = t.verbs.is_empty() && t.path.is_none() && t.query.is_none();
            t.verbs.clear();
            (t.path, t.query) = (None, None);
            !plain
        })
    });
    with(&|f| match f {
        Fault::HttpError {
            retry_after, body, ..
        } => {
            *retry_after = None;
            *body = ErrorBody::Status;
            true
        }
        Fault::Latency { delay, .. } => {
            *delay = (*delay / 2).max(Duration::from_millis(100));
            true
        }
        Fault::Restart {
            restart: Restart::Regress { by },
            ..
        } if *by > 1 => {
            *by /= 2;
            true
        }
        _ => false,
    });
    out
}
