//! The one channel that carries faults to open watches: a restart's exit, a load balancer's
//! failover, history taken away at once (`expire_watches`, `watch_410`), and the `cut_stream` / `stall_stream` rules that hit
//! the watches open when they start. The server raises them; each open watch holds a
//! [`Listener`] and hears them in priority order, a restart first.
//!
//! The channel is an append-only log in a `tokio::sync::watch`, so a watch that was busy hears
//! everything raised meanwhile, and its receiver count is the number of open watches (each
//! `cut_stream` rule waits for that many claims, `FaultRules::await_claims`).

use tokio::sync::watch;

/// One fault for the open watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alarm {
    /// The apiserver process exited: every open watch is reset.
    Restart,
    /// The load balancer sends everything to this replica from now on: a watch another
    /// replica serves is reset.
    Failover(usize),
    /// The history open watches stand on was taken away at once: each checks what is left.
    /// With a replica, only that replica's watch cache re-listed.
    Expiry(Option<usize>),
    /// A `cut_stream` or `stall_stream` rule with this id was installed: each open watch claims
    /// it once.
    Strike(usize),
}

/// The server's end: raises alarms for every watch open now.
#[derive(Debug)]
pub(super) struct Alarms {
    log: watch::Sender<Vec<Alarm>>,
}

impl Default for Alarms {
    fn default() -> Self {
        Self {
            log: watch::channel(Vec::new()).0,
        }
    }
}

impl Alarms {
    /// Tells every open watch.
    pub(super) fn raise(&self, alarm: Alarm) {
        self.log.send_modify(|log| log.push(alarm));
    }

    /// How many watches are open: each holds one listener.
    pub(super) fn listeners(&self) -> usize {
        self.log.receiver_count()
    }

    /// A listener that hears what is raised from now on.
    pub(super) fn listen(&self) -> Listener {
        let log = self.log.subscribe();
        let seen = log.borrow().len();
        Listener {
            log,
            seen,
            heard: Heard::default(),
        }
    }
}

/// What a watch hears next, by priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum News {
    /// The process exited.
    Restart,
    /// The load balancer fails over to this replica (the last one, when more were raised).
    Failover(usize),
    /// History was taken away, once or more: everywhere (`None`) or at these replicas.
    Expiry(Vec<Option<usize>>),
    /// The ids of the rules raised, in the order they were.
    Strikes(Vec<usize>),
}

/// Alarms raised but not yet handed to the watch, coalesced as it hears them.
#[derive(Debug, Default)]
struct Heard {
    restart: bool,
    failover: Option<usize>,
    expiry: Vec<Option<usize>>,
    strikes: Vec<usize>,
}

/// A watch's end of the channel.
#[derive(Debug)]
pub(super) struct Listener {
    log: watch::Receiver<Vec<Alarm>>,
    /// How much of the log it has read.
    seen: usize,
    heard: Heard,
}

impl Listener {
    /// Resolves with what came first by priority: a restart beats a failover, which beats an
    /// expiry, which beats the strikes; what is left stays for the next call. Never resolves once the server is gone.
    ///
    /// Hearing costs a unit of the task's coop budget, news heard earlier included, as a
    /// receiver's `changed` does: a watch yields to the runtime at the same points whatever
    /// reached it, so runs on the paused clock interleave their tasks as they always have.
    pub(super) async fn next(&mut self) -> News {
        if let Some(news) = self.take() {
            tokio::task::coop::consume_budget().await;
            return news;
        }
        loop {
            if self.log.changed().await.is_err() {
                return futures::future::pending().await;
            }
            self.read();
            if let Some(news) = self.take() {
                return news;
            }
        }
    }

    /// Whether a restart was raised that this watch has not heard yet.
    pub(super) fn restart_unheard(&self) -> bool {
        self.heard.restart || self.log.borrow()[self.seen..].contains(&Alarm::Restart)
    }

    fn read(&mut self) {
        let log = self.log.borrow_and_update();
        for alarm in &log[self.seen..] {
            match alarm {
                Alarm::Restart => self.heard.restart = true,
                Alarm::Failover(to) => self.heard.failover = Some(*to),
                Alarm::Expiry(scope) if !self.heard.expiry.contains(scope) => {
                    self.heard.expiry.push(*scope);
                }
                Alarm::Expiry(_) => {}
                Alarm::Strike(id) => self.heard.strikes.push(*id),
            }
        }
        self.seen = log.len();
    }

    fn take(&mut self) -> Option<News> {
        let heard = &mut self.heard;
        if std::mem::take(&mut heard.restart) {
            Some(News::Restart)
        } else if let Some(to) = heard.failover.take() {
            Some(News::Failover(to))
        } else if !heard.expiry.is_empty() {
            Some(News::Expiry(std::mem::take(&mut heard.expiry)))
        } else if heard.strikes.is_empty() {
            None
        } else {
            Some(News::Strikes(std::mem::take(&mut heard.strikes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_restart_is_heard_before_an_expiry_raised_earlier() {
        let alarms = Alarms::default();
        let mut listener = alarms.listen();
        alarms.raise(Alarm::Expiry(None));
        alarms.raise(Alarm::Restart);
        assert_eq!(listener.next().await, News::Restart);
        assert_eq!(listener.next().await, News::Expiry(vec![None]));
    }

    #[tokio::test]
    async fn strikes_raised_together_are_heard_together_and_expiries_once() {
        let alarms = Alarms::default();
        let mut listener = alarms.listen();
        for alarm in [
            Alarm::Strike(3),
            Alarm::Expiry(None),
            Alarm::Strike(5),
            Alarm::Expiry(None),
        ] {
            alarms.raise(alarm);
        }
        assert_eq!(listener.next().await, News::Expiry(vec![None]));
        assert_eq!(listener.next().await, News::Strikes(vec![3, 5]));
    }

    #[tokio::test]
    async fn a_listener_hears_nothing_raised_before_it_listened() {
        let alarms = Alarms::default();
        alarms.raise(Alarm::Restart);
        let mut listener = alarms.listen();
        assert!(!listener.restart_unheard());
        let next = listener.next();
        tokio::pin!(next);
        assert!(futures::poll!(next.as_mut()).is_pending());
        alarms.raise(Alarm::Strike(1));
        assert_eq!(next.await, News::Strikes(vec![1]));
    }

    #[test]
    fn a_restart_not_yet_heard_is_still_known_and_each_listener_counts_as_an_open_watch() {
        let alarms = Alarms::default();
        let listener = alarms.listen();
        let other = alarms.listen();
        assert_eq!(alarms.listeners(), 2);
        alarms.raise(Alarm::Restart);
        assert!(listener.restart_unheard());
        drop(other);
        assert_eq!(alarms.listeners(), 1);
    }
}
