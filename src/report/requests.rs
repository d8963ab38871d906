//! A live server's request log in a few lines: what was asked, how it was answered, how the
//! watches ended, and which faults played. Printed by `harness serve` on exit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::scenario::format_duration;
use crate::trace::{Trace, TraceEvent, TraceKind, Verb, WatchEnd};

/// The summary of `trace`, ended at virtual time `at` (`interrupted` when Ctrl-C stopped it).
#[must_use]
pub fn summary(trace: &Trace, at: Duration, interrupted: bool) -> String {
    let mut tally = Tally::default();
    for event in trace {
        tally.add(event);
    }
    tally.render(at, interrupted)
}

/// The counts a summary is made of, folded one event at a time, so that a live server can
/// summarize a run it did not keep ([`crate::trace::Recorder::start_live_folding`]).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    by_verb: BTreeMap<&'static str, BTreeMap<u16, u64>>,
    ends: BTreeMap<String, u64>,
    faults: Vec<String>,
    total: u64,
}

impl Tally {
    /// Counts `event`.
    pub fn add(&mut self, event: &TraceEvent) {
        match &event.kind {
            TraceKind::Request(request) => {
                self.total += 1;
                *self
                    .by_verb
                    .entry(verb_name(request.verb))
                    .or_default()
                    .entry(request.status)
                    .or_default() += 1;
            }
            TraceKind::WatchEnded { reason, .. } => {
                let name = match reason {
                    WatchEnd::Timeout => "timeout".to_owned(),
                    WatchEnd::Error { code, reason, .. } => format!("ERROR {code} {reason}"),
                    WatchEnd::ClientGone => "closed by the client".to_owned(),
                    WatchEnd::Empty => "empty (fault)".to_owned(),
                    WatchEnd::Cut { how } => format!("cut ({how})"),
                    WatchEnd::Stalled => "stalled, then closed by the client".to_owned(),
                    WatchEnd::Closed { why } => {
                        format!("closed by the server ({})", why.describe())
                    }
                };
                *self.ends.entry(name).or_default() += 1;
            }
            TraceKind::Fault { fault } => {
                self.faults
                    .push(format!("{} at {}", fault, format_duration(event.at)));
            }
            _ => {}
        }
    }

    /// The summary, ended at virtual time `at` (`interrupted` when Ctrl-C stopped it).
    #[must_use]
    pub fn render(&self, at: Duration, interrupted: bool) -> String {
        let Self {
            by_verb,
            ends,
            faults,
            total,
        } = self;
        let mut out = String::new();
        let how = if interrupted {
            "interrupted"
        } else {
            "timeline ended"
        };
        let _ = writeln!(
            out,
            "{how} at {}: {total} request{}",
            format_duration(at),
            plural(*total)
        );
        for (verb, statuses) in by_verb {
            let count: u64 = statuses.values().sum();
            let answers: Vec<String> = statuses
                .iter()
                .map(|(status, n)| format!("{n}× {status}"))
                .collect();
            let _ = writeln!(out, "  {verb:<10} {count:>6}  ({})", answers.join(", "));
        }
        if !ends.is_empty() {
            let list: Vec<String> = ends.iter().map(|(why, n)| format!("{n} {why}")).collect();
            let _ = writeln!(out, "watches ended: {}", list.join(", "));
        }
        if !faults.is_empty() {
            let _ = writeln!(out, "faults played: {}", faults.join(", "));
        }
        out
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::List => "list",
        Verb::ListPage => "list page",
        Verb::Watch => "watch",
        Verb::Get => "get",
        Verb::Other => "discovery",
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RequestRecord;

    fn request(id: u64, verb: Verb, status: u16) -> TraceEvent {
        TraceEvent {
            at: Duration::from_secs(id),
            kind: TraceKind::Request(RequestRecord {
                id,
                method: "GET".into(),
                path: "/api/v1/events".into(),
                query: String::new(),
                status,
                verb,
                agent: String::new(),
                process: None,
            }),
        }
    }

    #[test]
    fn the_summary_counts_answers_per_verb_watch_endings_and_faults() {
        let trace = vec![
            request(1, Verb::Other, 200),
            request(2, Verb::List, 200),
            request(3, Verb::Watch, 200),
            TraceEvent {
                at: Duration::from_secs(240),
                kind: TraceKind::Fault {
                    fault: "compact".into(),
                },
            },
            TraceEvent {
                at: Duration::from_secs(290),
                kind: TraceKind::WatchEnded {
                    request: 3,
                    reason: WatchEnd::Error {
                        code: 410,
                        reason: "Expired".into(),
                        message: "too old".into(),
                    },
                    events: 1,
                },
            },
            request(4, Verb::List, 410),
        ];
        insta::assert_snapshot!(summary(&trace, Duration::from_secs(300), true), @r"
        interrupted at 5m: 4 requests
          discovery       1  (1× 200)
          list            2  (1× 200, 1× 410)
          watch           1  (1× 200)
        watches ended: 1 ERROR 410 Expired
        faults played: compact at 4m
        ");
    }
}
