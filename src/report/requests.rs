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
    let ending = if interrupted {
        Ending::Interrupted
    } else {
        Ending::TimelineEnded
    };
    tally.render(at, &ending)
}

/// Why a live run ended, as its summary's first line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The timeline played to its end.
    TimelineEnded,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// A request storm stopped it (`harness proxy` spares a real cluster one); why, in words.
    Storm(String),
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
                    WatchEnd::Cut { how, .. } => format!("cut ({how})"),
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

    /// The summary of a run that ended at virtual time `at` as `ending` says.
    #[must_use]
    pub fn render(&self, at: Duration, ending: &Ending) -> String {
        let Self {
            by_verb,
            ends,
            faults,
            total,
        } = self;
        let mut out = String::new();
        let how = match ending {
            Ending::TimelineEnded => "timeline ended".to_owned(),
            Ending::Interrupted => "interrupted".to_owned(),
            Ending::Storm(why) => format!("stopped as a request storm ({why})"),
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
                retry_after: None,
                replica: None,
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
                    fault: crate::trace::FaultKind::Compact,
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

    #[tokio::test]
    async fn a_folding_recorder_counts_every_event_and_keeps_only_what_it_is_told() {
        let tally = std::sync::Arc::new(std::sync::Mutex::new(Tally::default()));
        let fold = std::sync::Arc::clone(&tally);
        let recorder = crate::trace::Recorder::start_live_folding(
            1,
            |kind| matches!(kind, TraceKind::Fault { .. }),
            move |event| fold.lock().unwrap().add(event),
        );
        for id in 1..=3 {
            recorder.record(request(id, Verb::List, 200).kind);
        }
        recorder.record(TraceKind::Fault {
            fault: crate::trace::FaultKind::Compact,
        });
        let kept = recorder.snapshot();
        assert!(
            matches!(kept.as_slice(), [e] if matches!(e.kind, TraceKind::Fault { .. })),
            "{kept:?}"
        );
        let said = tally
            .lock()
            .unwrap()
            .render(Duration::from_secs(60), &Ending::Storm("1000 lists".into()));
        assert!(
            said.starts_with("stopped as a request storm (1000 lists) at 1m: 3 requests"),
            "{said}"
        );
        assert!(said.contains("list            3  (3× 200)"), "{said}");
    }
}
