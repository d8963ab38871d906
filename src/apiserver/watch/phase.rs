//! Where a watch is in its life. The order a watch's next line is chosen in follows from it:
//! a connection being cut, then a stall, then lines owed, then the end it is heading for.

use crate::trace::{Cut, FaultKind, WatchEnd};

/// A watch's phase: exactly one at a time, where flags once allowed any mix.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// Sending what it owes and waiting for more.
    Streaming,
    /// Half-open: it sends nothing more, ever, and the connection stays up (`stall_stream`).
    Stalled,
    /// It ends this way once the lines it owes have gone out.
    Ending(WatchEnd),
    /// Half a line went out (`cut_stream` `mid_chunk`): the connection is reset next.
    Cutting,
    /// Over, and recorded as over.
    Ended,
}

impl Phase {
    /// Heads for `end` once what is owed is sent. A stalled watch never sends again, so it
    /// stays stalled; a watch already ending keeps its first reason only if it has ended.
    pub(super) fn end_with(&mut self, end: WatchEnd) {
        if matches!(self, Self::Streaming | Self::Ending(_)) {
            *self = Self::Ending(end);
        }
    }

    /// A stall takes hold of a watch that has not ended yet.
    pub(super) fn stall(&mut self) {
        if !self.is_over() {
            *self = Self::Stalled;
        }
    }

    /// Its end has been recorded (a reset may still have to be sent).
    pub(super) fn is_over(&self) -> bool {
        matches!(self, Self::Cutting | Self::Ended)
    }

    /// How a watch whose body was dropped ended: by a restart that closed its connection
    /// (`restarted`), half-open, or with its client gone.
    pub(super) fn end_when_dropped(&self, restarted: bool) -> WatchEnd {
        if restarted {
            WatchEnd::Cut {
                how: Cut::Reset,
                by: Some(FaultKind::Restart),
            }
        } else if *self == Self::Stalled {
            WatchEnd::Stalled
        } else {
            WatchEnd::ClientGone
        }
    }

    /// The end it is heading for, taken: the watch is about to finish with it.
    pub(super) fn take_end(&mut self) -> Option<WatchEnd> {
        match std::mem::replace(self, Self::Streaming) {
            Self::Ending(end) => Some(end),
            other => {
                *self = other;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streaming_watch_heads_for_the_end_it_is_given() {
        let mut phase = Phase::Streaming;
        phase.end_with(WatchEnd::Timeout);
        assert_eq!(phase.take_end(), Some(WatchEnd::Timeout));
    }

    #[test]
    fn a_stalled_watch_stays_stalled_whatever_end_comes() {
        let mut phase = Phase::Stalled;
        phase.end_with(WatchEnd::Empty);
        assert_eq!(phase, Phase::Stalled);
        assert_eq!(phase.take_end(), None);
    }

    #[test]
    fn a_stall_does_not_reopen_a_watch_that_is_over() {
        for over in [Phase::Cutting, Phase::Ended] {
            let mut phase = over.clone();
            phase.stall();
            assert_eq!(phase, over);
        }
        let mut ending = Phase::Ending(WatchEnd::Timeout);
        ending.stall();
        assert_eq!(
            ending,
            Phase::Stalled,
            "a stall wins over an end not yet reached"
        );
    }

    #[test]
    fn a_dropped_watch_ended_by_the_restart_half_open_or_with_its_client_gone() {
        assert!(matches!(
            Phase::Streaming.end_when_dropped(true),
            WatchEnd::Cut {
                how: Cut::Reset,
                by: Some(FaultKind::Restart)
            }
        ));
        assert_eq!(Phase::Stalled.end_when_dropped(false), WatchEnd::Stalled);
        assert_eq!(
            Phase::Streaming.end_when_dropped(false),
            WatchEnd::ClientGone
        );
    }

    #[test]
    fn taking_the_end_of_a_watch_with_none_leaves_it_as_it_was() {
        let mut phase = Phase::Cutting;
        assert_eq!(phase.take_end(), None);
        assert_eq!(phase, Phase::Cutting);
    }
}
