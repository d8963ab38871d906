//! The rules a run's faults install, and how the server asks them about each bookmark, request
//! and watch: the table of how faults act on what the server serves. First applicable rule wins
//! (as in turmoil's `rule.rs`); counts are used up as rules apply.

use std::time::Duration;

use super::effects::{
    BookmarkAction, OpenWatchHit, RequestFault, RequestFaults, RequestInfo, StreamFaults,
};
use super::faults::Fault;
use super::wire_shape::{ErrorBody, GoneForm, LatencyOn, Malformed};
use crate::trace::Verb;

#[derive(Debug, Clone)]
struct Rule {
    /// Its id, for the open watches that claim it.
    id: usize,
    fault: Fault,
    start: Duration,
    end: Option<Duration>,
    remaining: Option<u64>,
    /// The revision when the rule was installed (`stale_bookmarks` sends it).
    revision: u64,
    /// For a fault that hits only the watches open when it happens: how many of them have yet
    /// to claim it.
    claims_left: Option<usize>,
}

impl Rule {
    fn active(&self, now: Duration) -> bool {
        now >= self.start
            && self.end.is_none_or(|end| now < end)
            && self.remaining.is_none_or(|n| n > 0)
    }

    fn matches(&self, now: Duration, request: &RequestInfo<'_>) -> bool {
        let Some(target) = self.fault.target() else {
            return false;
        };
        let verbs = if target.verbs.is_empty() {
            self.fault.applicable_verbs()
        } else {
            &target.verbs
        };
        self.active(now)
            && verbs.iter().any(|v| v.covers(request.verb))
            && self
                .fault
                .applicable_verbs()
                .iter()
                .any(|v| v.covers(request.verb))
            && target
                .path
                .as_ref()
                .is_none_or(|p| request.path.contains(p))
            && target
                .query
                .as_ref()
                .is_none_or(|q| request.query.contains(q))
    }

    /// A `cut_stream` or `stall_stream` without a window hits the watches open when it
    /// happens, and no later one.
    fn hits_only_open_watches(&self) -> bool {
        matches!(
            self.fault,
            Fault::CutStream { .. } | Fault::StallStream { .. }
        ) && self.fault.target().is_some_and(|t| t.window.is_none())
    }

    /// Whether the rule can never apply again, at `now` or later.
    fn retired(&self, now: Duration) -> bool {
        self.remaining == Some(0)
            || self.end.is_some_and(|end| now >= end)
            || self.claims_left == Some(0)
    }

    fn use_one(&mut self) {
        if let Some(n) = &mut self.remaining {
            *n = n.saturating_sub(1);
        }
    }
}

/// The rules of one run in force, in declaration order. Rules that can no longer apply are
/// dropped as new ones come, so the cost of asking stays with the faults in force and does not
/// grow with every fault a long run has had.
#[derive(Debug, Clone, Default)]
pub struct FaultRules {
    rules: Vec<Rule>,
    next_id: usize,
}

impl FaultRules {
    /// Installs `fault` as a rule starting at `at`, when the server's revision is `revision`.
    /// Returns the rule's id.
    pub fn install(&mut self, fault: &Fault, at: Duration, revision: u64) -> usize {
        self.rules.retain(|rule| !rule.retired(at));
        let (end, remaining) = match (fault.duration(), fault.target()) {
            (window, _) if !window.is_zero() => {
                (Some(at + window), fault.target().and_then(|t| t.count))
            }
            (_, Some(target)) => (None, target.count),
            (_, None) => (Some(at), None),
        };
        let id = self.next_id;
        self.next_id += 1;
        self.rules.push(Rule {
            id,
            fault: fault.clone(),
            start: at,
            end,
            remaining,
            revision,
            claims_left: None,
        });
        id
    }

    /// Rule `id` hits only the watches open now, and `open` of them will claim it: once they
    /// all have, it is retired.
    pub fn await_claims(&mut self, id: usize, open: usize) {
        if let Some(rule) = self.rules.iter_mut().find(|r| r.id == id)
            && rule.hits_only_open_watches()
        {
            rule.claims_left = Some(open);
        }
    }

    /// What to do with a bookmark due at virtual time `now`.
    #[must_use]
    pub fn bookmark(&self, now: Duration) -> BookmarkAction {
        self.rules
            .iter()
            .filter(|r| r.active(now))
            .find_map(|r| match r.fault {
                // Named by its kind, spelled where every kind is.
                Fault::Idle { .. } | Fault::DropBookmarks { .. } => {
                    Some(BookmarkAction::Drop(r.fault.kind()))
                }
                Fault::StaleBookmarks { .. } => Some(BookmarkAction::Stale(r.revision)),
                Fault::EmptyBookmarks { .. } => Some(BookmarkAction::Empty),
                Fault::EarlyBookmarks { .. } => Some(BookmarkAction::Early),
                _ => None,
            })
            .unwrap_or(BookmarkAction::Pass)
    }

    /// What happens to a request arriving at `now`; uses up the counts of the rules that apply.
    pub fn on_request(&mut self, now: Duration, request: &RequestInfo<'_>) -> RequestFaults {
        let mut faults = RequestFaults::default();
        for rule in &mut self.rules {
            if !rule.matches(now, request) {
                continue;
            }
            let answer = match rule.fault {
                Fault::Latency {
                    delay,
                    on: LatencyOn::Requests,
                    ..
                } if faults.delay.is_none() => {
                    faults.delay = Some(delay);
                    rule.use_one();
                    continue;
                }
                // The apiserver's own 410 is only ever true of a watch from a resourceVersion:
                // one from "now" cannot be too old.
                Fault::Watch410 {
                    form: GoneForm::Event,
                    ..
                } if request.resource_version.is_none() => continue,
                Fault::Watch410 {
                    form,
                    message,
                    code,
                    ..
                } => RequestFault::Gone {
                    form,
                    message,
                    code,
                },
                Fault::EmptyWatch { .. } => RequestFault::EmptyWatch,
                Fault::HangHeaders { .. } => RequestFault::HangHeaders,
                // The apiserver's 500 is etcd's ("etcdserver: leader changed"): a request the
                // watch cache answers never reaches etcd, so it never sees it (apiserver
                // `cacher.go`: `Watch` and a LIST at "0" are served from memory).
                Fault::HttpError {
                    status: 500,
                    body: ErrorBody::Status,
                    ..
                } if request.from_watch_cache => continue,
                Fault::HttpError {
                    status,
                    body,
                    retry_after,
                    ..
                } => RequestFault::HttpError {
                    status,
                    body,
                    retry_after,
                },
                Fault::ExpireContinue { .. } if request.verb == Verb::ListPage => {
                    RequestFault::ExpireContinue
                }
                _ => continue,
            };
            if faults.answer.is_none() {
                faults.answer = Some(answer);
                rule.use_one();
            }
        }
        faults
    }

    /// What happens to a watch starting at `now` (after [`FaultRules::on_request`] let it
    /// through); uses up the counts of the rules that apply. `list_watch`: it is a streaming
    /// list the watch cache serves (`sendInitialEvents=true` with bookmarks allowed: the
    /// apiserver's `isListWatchRequest`), which a `watch_error` hits and no other watch.
    pub fn on_watch_start(
        &mut self,
        now: Duration,
        request: &RequestInfo<'_>,
        list_watch: bool,
    ) -> StreamFaults {
        // The watch cache turns a streaming list away before it serves anything, so nothing
        // else happens to it, and no other rule's count is used up on it.
        if list_watch
            && let Some((rule, error)) = self.rules.iter_mut().find_map(|r| match r.fault {
                Fault::WatchError { error, .. } if r.matches(now, request) => Some((r, error)),
                _ => None,
            })
        {
            rule.use_one();
            return StreamFaults {
                error: Some(error),
                ..StreamFaults::default()
            };
        }
        let mut faults = StreamFaults::default();
        for rule in &mut self.rules {
            if !rule.matches(now, request) || rule.hits_only_open_watches() {
                continue;
            }
            let applied = match rule.fault {
                Fault::CutStream { how, .. } if faults.cut.is_none() && !faults.stall => {
                    faults.cut = Some(how);
                    true
                }
                Fault::StallStream { .. } if faults.cut.is_none() && !faults.stall => {
                    faults.stall = true;
                    true
                }
                Fault::DropInitialEventsEnd { .. } if !faults.drop_end_marker => {
                    faults.drop_end_marker = true;
                    true
                }
                _ => false,
            };
            if applied {
                rule.use_one();
            }
        }
        faults
    }

    /// How late the changes reaching a watch of `request` at `now` are delivered, when a
    /// `latency` fault on events (whose count it uses up) or `early_bookmarks` is in force.
    pub fn event_delay(&mut self, now: Duration, request: &RequestInfo<'_>) -> Option<Duration> {
        self.rules.iter_mut().find_map(|rule| match rule.fault {
            Fault::EarlyBookmarks { lag, .. } if rule.active(now) => Some(lag),
            Fault::Latency {
                delay,
                on: LatencyOn::Events,
                ..
            } if rule.matches(now, request) => {
                rule.use_one();
                Some(delay)
            }
            _ => None,
        })
    }

    /// What rule `id` (a `cut_stream` or `stall_stream` injected just now) does to an open
    /// watch of `request`, if it hits it; uses up one of its count when it does.
    pub fn claim_open_watch(
        &mut self,
        id: usize,
        now: Duration,
        request: &RequestInfo<'_>,
    ) -> Option<OpenWatchHit> {
        let rule = self.rules.iter_mut().find(|r| r.id == id)?;
        if let Some(left) = &mut rule.claims_left {
            *left = left.saturating_sub(1);
        }
        if !rule.matches(now, request) {
            return None;
        }
        let hit = match rule.fault {
            Fault::CutStream { how, .. } => OpenWatchHit::Cut(how),
            Fault::StallStream { .. } => OpenWatchHit::Stall,
            _ => return None,
        };
        rule.use_one();
        Some(hit)
    }

    /// Whether the event line a watch of `request` is about to send at `now` is malformed, and
    /// how; uses up one of the rule's count when it is.
    pub fn malform(&mut self, now: Duration, request: &RequestInfo<'_>) -> Option<Malformed> {
        self.rules.iter_mut().find_map(|rule| match rule.fault {
            Fault::MalformedEvent { shape, .. } if rule.matches(now, request) => {
                rule.use_one();
                Some(shape)
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::target::{Target, TargetVerb};
    use crate::fault::wire_shape::Cut;
    use crate::fault::wire_shape::StreamError;

    /// A target from its parts, for tests.
    fn target(verbs: &[TargetVerb], window: Option<u64>, count: Option<u64>) -> Target {
        Target {
            verbs: verbs.to_vec(),
            window: window.map(Duration::from_secs),
            count,
            path: None,
            query: None,
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn watch() -> RequestInfo<'static> {
        RequestInfo {
            verb: Verb::Watch,
            path: "/api/v1/pods",
            query: "watch=true",
            resource_version: None,
            from_watch_cache: false,
        }
    }

    #[test]
    fn a_window_drops_bookmarks_only_inside_its_half_open_range() {
        let mut rules = FaultRules::default();
        rules.install(&Fault::DropBookmarks { duration: S(60) }, S(60), 1);
        assert_eq!(rules.bookmark(S(59)), BookmarkAction::Pass);
        assert_eq!(
            rules.bookmark(S(60)),
            BookmarkAction::Drop("drop_bookmarks")
        );
        assert_eq!(
            rules.bookmark(S(119)),
            BookmarkAction::Drop("drop_bookmarks")
        );
        assert_eq!(rules.bookmark(S(120)), BookmarkAction::Pass);
    }

    #[test]
    fn the_first_bookmark_rule_that_applies_wins_and_stale_ones_carry_the_old_revision() {
        let mut rules = FaultRules::default();
        rules.install(&Fault::StaleBookmarks { duration: S(100) }, S(0), 42);
        rules.install(&Fault::Idle { duration: S(100) }, S(0), 50);
        assert_eq!(rules.bookmark(S(10)), BookmarkAction::Stale(42));
    }

    #[test]
    fn a_counted_request_fault_hits_exactly_that_many_matching_requests() {
        let mut rules = FaultRules::default();
        let fault = Fault::HttpError {
            status: 503,
            body: ErrorBody::Status,
            retry_after: None,
            target: target(&[TargetVerb::Watch], None, Some(2)),
        };
        rules.install(&fault, S(10), 1);
        let list = RequestInfo {
            verb: Verb::List,
            ..watch()
        };
        assert_eq!(rules.on_request(S(5), &watch()).answer, None, "not yet");
        assert_eq!(rules.on_request(S(10), &list).answer, None, "not a watch");
        assert!(rules.on_request(S(10), &watch()).answer.is_some());
        assert!(rules.on_request(S(11), &watch()).answer.is_some());
        assert_eq!(rules.on_request(S(12), &watch()).answer, None, "used up");
    }

    #[test]
    fn early_bookmarks_send_bookmarks_ahead_and_events_late_only_in_their_window() {
        let mut rules = FaultRules::default();
        let fault = Fault::EarlyBookmarks {
            duration: S(60),
            lag: S(5),
        };
        rules.install(&fault, S(60), 1);
        assert_eq!(rules.bookmark(S(59)), BookmarkAction::Pass);
        assert_eq!(rules.event_delay(S(59), &watch()), None);
        assert_eq!(rules.bookmark(S(60)), BookmarkAction::Early);
        assert_eq!(rules.event_delay(S(60), &watch()), Some(S(5)));
        assert_eq!(rules.bookmark(S(120)), BookmarkAction::Pass);
        assert_eq!(rules.event_delay(S(120), &watch()), None);
    }

    #[test]
    fn a_watch_error_turns_away_only_streaming_lists_which_nothing_else_then_hits_or_counts() {
        let mut rules = FaultRules::default();
        let error = Fault::WatchError {
            error: StreamError::WatchProgressUnsupported,
            target: target(&[], None, Some(1)),
        };
        let cut = Fault::CutStream {
            how: Cut::Clean,
            target: target(&[], Some(60), Some(2)),
        };
        rules.install(&error, S(0), 1);
        rules.install(&cut, S(0), 1);
        let mut start = |at, list_watch| {
            let faults = rules.on_watch_start(S(at), &watch(), list_watch);
            (faults.error, faults.cut)
        };
        let turned_away = Some(StreamError::WatchProgressUnsupported);
        assert_eq!(start(1, false), (None, Some(Cut::Clean)), "a plain watch");
        assert_eq!(start(2, true), (turned_away, None));
        assert_eq!(
            start(3, true),
            (None, Some(Cut::Clean)),
            "the error's count is used up, and the cut's second is still there"
        );
    }

    #[test]
    fn etcd_s_500_misses_what_the_watch_cache_answers_and_a_proxy_s_text_500_does_not() {
        let mut rules = FaultRules::default();
        let etcd = Fault::HttpError {
            status: 500,
            body: ErrorBody::Status,
            retry_after: None,
            target: target(&[], Some(60), None),
        };
        rules.install(&etcd, S(0), 1);
        let cached = RequestInfo {
            from_watch_cache: true,
            ..watch()
        };
        assert_eq!(
            rules.on_request(S(1), &cached).answer,
            None,
            "the cache answers"
        );
        assert!(
            rules.on_request(S(1), &watch()).answer.is_some(),
            "etcd answers"
        );
        let mut rules = FaultRules::default();
        let proxy = Fault::HttpError {
            status: 500,
            body: ErrorBody::Text,
            retry_after: None,
            target: target(&[], Some(60), None),
        };
        rules.install(&proxy, S(0), 1);
        assert!(
            rules.on_request(S(1), &cached).answer.is_some(),
            "in front of the cache"
        );
    }

    #[test]
    fn a_windowed_request_fault_matches_path_and_query_substrings_inside_its_window() {
        let mut rules = FaultRules::default();
        let mut t = target(&[], Some(60), None);
        t.path = Some("/namespaces/shop/".into());
        t.query = Some("resourceVersion=0".into());
        rules.install(&Fault::EmptyWatch { target: t }, S(0), 1);
        let shop = RequestInfo {
            verb: Verb::Watch,
            path: "/api/v1/namespaces/shop/pods",
            query: "watch=1&resourceVersion=0",
            resource_version: None,
            from_watch_cache: false,
        };
        assert_eq!(
            rules.on_request(S(1), &shop).answer,
            Some(RequestFault::EmptyWatch)
        );
        assert_eq!(rules.on_request(S(1), &watch()).answer, None, "other path");
        assert_eq!(rules.on_request(S(60), &shop).answer, None, "window over");
    }

    #[test]
    fn request_latency_adds_to_a_fault_answer_and_stream_rules_count_watches() {
        let mut rules = FaultRules::default();
        rules.install(
            &Fault::Latency {
                delay: S(2),
                on: LatencyOn::Requests,
                target: target(&[], None, None),
            },
            S(0),
            1,
        );
        rules.install(
            &Fault::CutStream {
                how: Cut::Reset,
                target: target(&[], None, Some(1)),
            },
            S(0),
            1,
        );
        let faults = rules.on_request(S(1), &watch());
        assert_eq!(faults.delay, Some(S(2)));
        assert_eq!(faults.answer, None);
        assert_eq!(
            rules.on_watch_start(S(1), &watch(), false).cut,
            None,
            "no window: open watches only"
        );
        assert!(rules.claim_open_watch(1, S(0), &watch()).is_some());
        assert!(
            rules.claim_open_watch(1, S(0), &watch()).is_none(),
            "count 1"
        );
    }

    #[test]
    fn rules_that_can_no_longer_apply_are_dropped_and_ids_stay_stable() {
        let mut rules = FaultRules::default();
        let windowed = rules.install(&Fault::DropBookmarks { duration: S(10) }, S(0), 1);
        let counted = rules.install(
            &Fault::EmptyWatch {
                target: target(&[], None, Some(1)),
            },
            S(0),
            1,
        );
        let cut = Fault::CutStream {
            how: Cut::Reset,
            target: target(&[], None, None),
        };
        let instant = rules.install(&cut, S(0), 1);
        rules.await_claims(instant, 2);
        assert!(rules.on_request(S(1), &watch()).answer.is_some());
        assert!(rules.claim_open_watch(instant, S(1), &watch()).is_some());
        let later = rules.install(&cut, S(20), 1);
        assert_eq!(
            rules.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            [instant, later],
            "the window is over and the count used up; one open watch has yet to claim"
        );
        assert!(rules.claim_open_watch(instant, S(20), &watch()).is_some());
        rules.install(&Fault::DropBookmarks { duration: S(10) }, S(21), 1);
        assert!(
            rules.rules.iter().all(|r| r.id != instant),
            "claimed by every watch that was open"
        );
        assert!(windowed < counted && counted < instant && instant < later);
    }

    #[test]
    fn a_cut_with_a_window_also_hits_watches_that_start_inside_it() {
        let mut rules = FaultRules::default();
        rules.install(
            &Fault::CutStream {
                how: Cut::Clean,
                target: target(&[], Some(60), None),
            },
            S(0),
            1,
        );
        assert_eq!(
            rules.on_watch_start(S(30), &watch(), false).cut,
            Some(Cut::Clean)
        );
        assert_eq!(rules.on_watch_start(S(60), &watch(), false).cut, None);
    }
}
