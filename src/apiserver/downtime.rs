//! A restart as a client sees it, phase by phase, as measured on kube-apiserver 1.37.2 (the
//! anchor control plane; README "The real thing beside the simulation"):
//!
//! 1. SIGTERM: the listener closes at once (a new connection is refused) and idle connections
//!    are closed; requests in flight, watches included, go on. genericapiserver.go stops the
//!    HTTP server once it no longer accepts requests, and net/http's `Shutdown` waits for
//!    active connections until the shutdown timeout (60 s) runs out.
//! 2. The process exits (`drain` after SIGTERM; at once when it is killed): every connection
//!    goes with it.
//! 3. The new process listens [`Fault::RESTART_LISTENS_AFTER`] after the exit: until then a
//!    connection is refused; from then on it is taken, and its request waits.
//! 4. It serves `down` after the exit.

use std::time::Duration;

use crate::fault::Fault;

/// Where the server is in a restart; the default is a server that has never restarted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Downtime {
    /// When the old process exits, taking its connections with it.
    pub(crate) exits_at: Duration,
    /// Connections are refused until then.
    refused_until: Duration,
    /// Requests wait for their answer until then.
    serves_from: Duration,
}

impl Downtime {
    /// A restart signalled at `at`, whose process exits `drain` later and whose new process
    /// serves `down` after that.
    pub(crate) fn of(at: Duration, drain: Duration, down: Duration) -> Self {
        let exits_at = at + drain;
        Self {
            exits_at,
            refused_until: exits_at + down.min(Fault::RESTART_LISTENS_AFTER),
            serves_from: exits_at + down,
        }
    }

    /// Whether a connection made now is taken.
    pub(crate) fn accepting(self, now: Duration) -> bool {
        now >= self.refused_until
    }

    /// When the port is open again: at once, when it is open now.
    pub(crate) fn listening_from(self) -> Duration {
        self.refused_until
    }

    /// When a request that arrives now is answered: now, or once the new process serves.
    pub(crate) fn answered_from(self, now: Duration) -> Duration {
        if (self.exits_at..self.serves_from).contains(&now) {
            self.serves_from
        } else {
            now
        }
    }

    /// When the new process serves (in the past for a server that serves now).
    pub(crate) fn serves_again(self) -> Duration {
        self.serves_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_server_that_never_restarted_takes_and_answers_everything_at_once() {
        let never = Downtime::default();
        assert!(never.accepting(S(0)));
        assert_eq!(never.answered_from(S(5)), S(5));
    }

    #[test]
    fn a_killed_server_refuses_until_the_new_one_listens_then_makes_requests_wait() {
        let killed = Downtime::of(S(10), S(0), S(1));
        assert!(!killed.accepting(S(10)));
        assert!(!killed.accepting(S(10) + MS(59)));
        assert!(killed.accepting(S(10) + MS(60)));
        assert_eq!(killed.answered_from(S(10) + MS(60)), S(11));
        assert_eq!(killed.answered_from(S(11)), S(11));
    }

    #[test]
    fn a_draining_server_refuses_new_connections_but_answers_the_ones_it_has() {
        let draining = Downtime::of(S(10), S(30), S(1));
        assert!(!draining.accepting(S(20)));
        assert_eq!(
            draining.answered_from(S(20)),
            S(20),
            "in flight before the exit"
        );
        assert_eq!(draining.exits_at, S(40));
        assert!(draining.accepting(S(40) + MS(60)));
        assert_eq!(draining.answered_from(S(40) + MS(60)), S(41));
    }

    #[test]
    fn a_restart_without_downtime_never_refuses() {
        let instant = Downtime::of(S(10), S(0), S(0));
        assert!(instant.accepting(S(10)));
        assert_eq!(instant.answered_from(S(10)), S(10));
    }
}
