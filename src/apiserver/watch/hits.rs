//! The stream faults that have hit one watch — a cut (`cut_stream`, or a restart's reset) and a
//! stall (`stall_stream`) — and what they make it do next, by priority.

use crate::fault::{Cut, OpenWatchHit, StreamFaults};
use crate::trace::WatchEnd;

/// What the faults that hit a watch make it do before anything else, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Blow {
    /// Close the connection at once, without the final chunk.
    Reset,
    /// End the stream cleanly at once, dropping what is queued.
    Clean,
    /// Send nothing more, ever, and keep the connection open.
    Stall,
    /// Cut the next line in half, then close the connection.
    MidChunk,
}

/// The cut and stall that hit one watch.
#[derive(Debug, Default)]
pub(super) struct Hits {
    cut: Option<Cut>,
    stalled: bool,
}

impl Hits {
    /// What the rules did to the watch as it started (at most one of a cut or a stall).
    pub(super) fn at_start(faults: &StreamFaults) -> Self {
        Self {
            cut: faults.cut,
            stalled: faults.stall,
        }
    }

    /// A restart resets the watch, whatever else hit it.
    pub(super) fn restart(&mut self) {
        self.cut = Some(Cut::Reset);
    }

    /// A `cut_stream` or `stall_stream` rule it claimed hit it; a later cut does not replace
    /// the first.
    pub(super) fn hit(&mut self, hit: OpenWatchHit) {
        match hit {
            OpenWatchHit::Cut(how) => {
                self.cut.get_or_insert(how);
            }
            OpenWatchHit::Stall => self.stalled = true,
        }
    }

    /// The connection was cut: nothing is left to do.
    pub(super) fn spent(&mut self) {
        self.cut = None;
    }

    /// What comes first: a reset, a clean cut, a stall, then a cut that waits for a line.
    pub(super) fn blow(&self) -> Option<Blow> {
        match (self.cut, self.stalled) {
            (Some(Cut::Reset), _) => Some(Blow::Reset),
            (Some(Cut::Clean), _) => Some(Blow::Clean),
            (_, true) => Some(Blow::Stall),
            (Some(Cut::MidChunk), false) => Some(Blow::MidChunk),
            (None, false) => None,
        }
    }

    /// Why a watch dropped before it ended ended: stalled, reset by a restart (`restarted`: one
    /// it has not heard yet), or its client went away.
    pub(super) fn end_when_dropped(&self, restarted: bool) -> WatchEnd {
        if self.stalled {
            WatchEnd::Stalled
        } else if restarted || self.cut == Some(Cut::Reset) {
            WatchEnd::Cut {
                how: "reset".into(),
            }
        } else {
            WatchEnd::ClientGone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_beats_a_stall_and_a_stall_beats_a_cut_waiting_for_a_line() {
        let mut hits = Hits::default();
        hits.hit(OpenWatchHit::Cut(Cut::MidChunk));
        assert_eq!(hits.blow(), Some(Blow::MidChunk));
        hits.hit(OpenWatchHit::Stall);
        assert_eq!(hits.blow(), Some(Blow::Stall));
        hits.restart();
        assert_eq!(hits.blow(), Some(Blow::Reset));
    }

    #[test]
    fn a_second_cut_does_not_replace_the_first_but_a_clean_cut_beats_a_stall() {
        let mut hits = Hits::default();
        hits.hit(OpenWatchHit::Stall);
        hits.hit(OpenWatchHit::Cut(Cut::Clean));
        hits.hit(OpenWatchHit::Cut(Cut::Reset));
        assert_eq!(hits.blow(), Some(Blow::Clean));
    }

    #[test]
    fn a_watch_dropped_while_stalled_ended_stalled_even_if_a_restart_came() {
        let mut hits = Hits::default();
        assert_eq!(hits.end_when_dropped(false), WatchEnd::ClientGone);
        assert_eq!(
            hits.end_when_dropped(true),
            WatchEnd::Cut {
                how: "reset".into()
            }
        );
        hits.hit(OpenWatchHit::Stall);
        assert_eq!(hits.end_when_dropped(true), WatchEnd::Stalled);
    }

    #[test]
    fn a_spent_cut_leaves_nothing_to_do() {
        let mut hits = Hits::at_start(&StreamFaults {
            cut: Some(Cut::Reset),
            ..StreamFaults::default()
        });
        hits.spent();
        assert_eq!(hits.blow(), None);
    }
}
