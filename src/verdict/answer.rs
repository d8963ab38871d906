//! How the server answered a request, as a type ([`Answer`]): read off the trace's status and
//! how the watch ended, matched by the rules as a case and worded only for reports.

use std::fmt;

use crate::trace::{Cut, FaultKind, RequestRecord, Verb, WatchEnd};

/// How the server answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// No response head: it hung, or no server was there to answer.
    Never,
    /// 200, then an ERROR event carrying a Status; `code` is 0 when the Status had none.
    InStreamError {
        /// The Status code.
        code: u16,
        /// The Status reason.
        reason: String,
    },
    /// 200 and an immediate end, with no event.
    Empty,
    /// 200, then the stream was cut.
    Cut(Cut),
    /// 200, then nothing: the connection was left half-open.
    HalfOpen,
    /// This HTTP status, and nothing more to say of it.
    Status(u16),
}

impl Answer {
    /// The answer `request` got, given how its watch (if it is one) ended.
    pub(super) fn of(request: &RequestRecord, end: Option<&WatchEnd>) -> Self {
        match end {
            _ if request.status == 0 => Self::Never,
            Some(WatchEnd::Error { code, reason, .. }) if request.status == 200 => {
                Self::InStreamError {
                    code: *code,
                    reason: reason.clone(),
                }
            }
            Some(WatchEnd::Empty) => Self::Empty,
            Some(WatchEnd::Cut { how, .. }) => Self::Cut(*how),
            Some(WatchEnd::Stalled) => Self::HalfOpen,
            _ => Self::Status(request.status),
        }
    }

    /// Whether it was a 410, at connect or in the stream.
    pub(super) fn is_gone(&self) -> bool {
        matches!(
            self,
            Self::Status(410) | Self::InStreamError { code: 410, .. }
        )
    }

    /// The kinds of fault that answer a `verb` request so, most specific first; empty when
    /// no fault kind gives such an answer by itself.
    pub(super) fn faults_that_give_it(&self, verb: Verb) -> &'static [FaultKind] {
        use FaultKind as K;
        match self {
            Self::Status(410) if verb == Verb::ListPage => &[K::ExpireContinue],
            answer if answer.is_gone() => &[
                K::Watch410,
                K::ExpireWatches,
                K::Compact,
                K::Restart,
                K::Idle,
                K::DropBookmarks,
                K::StaleBookmarks,
                K::EmptyBookmarks,
            ],
            Self::Empty => &[K::EmptyWatch],
            Self::Never => &[K::HangHeaders],
            Self::Cut(_) => &[K::CutStream, K::Restart],
            Self::HalfOpen => &[K::StallStream],
            Self::Status(400..=599) => &[K::HttpError],
            // The in-stream ERRORs that are not a 410: the server's own, from its storage.
            Self::InStreamError { code: 500, .. } => &[K::WatchError],
            Self::Status(_) | Self::InStreamError { .. } => &[],
        }
    }
}

/// `200`, `ERROR 410 Expired`, `never (no response head)`.
impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Never => f.write_str("never (no response head)"),
            Self::InStreamError { code: 0, reason } => {
                write!(f, "ERROR {reason} (without a code)")
            }
            Self::InStreamError { code, reason } => write!(f, "ERROR {code} {reason}"),
            Self::Empty => f.write_str("200 and an immediate end, no event"),
            Self::Cut(how) => write!(f, "200, then cut ({how})"),
            Self::HalfOpen => f.write_str("200, then nothing (half-open)"),
            Self::Status(status) => write!(f, "{status}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(verb: Verb, status: u16) -> RequestRecord {
        RequestRecord {
            id: 1,
            method: "GET".into(),
            path: "/api/v1/configmaps".into(),
            query: String::new(),
            status,
            verb,
            agent: String::new(),
            process: None,
            retry_after: None,
            replica: None,
        }
    }

    #[test]
    fn a_continue_answered_410_is_put_down_to_an_expired_continue_and_a_watch_410_to_the_410_faults()
     {
        let page = Answer::of(&request(Verb::ListPage, 410), None);
        assert_eq!(
            page.faults_that_give_it(Verb::ListPage),
            &[FaultKind::ExpireContinue]
        );
        let expired = WatchEnd::Error {
            code: 410,
            reason: "Expired".into(),
            message: "too old resource version: 1 (5)".into(),
        };
        let watch = Answer::of(&request(Verb::Watch, 200), Some(&expired));
        assert_eq!(watch.to_string(), "ERROR 410 Expired");
        assert!(
            watch
                .faults_that_give_it(Verb::Watch)
                .contains(&FaultKind::ExpireWatches)
        );
        assert!(
            !watch
                .faults_that_give_it(Verb::Watch)
                .contains(&FaultKind::ExpireContinue)
        );
    }

    #[test]
    fn a_clean_200_is_given_by_no_fault_kind_and_an_in_stream_500_by_a_watch_error() {
        assert!(
            Answer::Status(200)
                .faults_that_give_it(Verb::Watch)
                .is_empty()
        );
        let error = |code| Answer::InStreamError {
            code,
            reason: "InternalError".into(),
        };
        assert_eq!(
            error(500).faults_that_give_it(Verb::Watch),
            &[FaultKind::WatchError]
        );
        assert!(error(504).faults_that_give_it(Verb::Watch).is_empty());
        assert_eq!(
            Answer::Status(503).faults_that_give_it(Verb::List),
            &[FaultKind::HttpError]
        );
    }

    #[test]
    fn a_cut_is_worded_with_how_it_was_cut_and_put_down_to_a_cut_or_a_restart() {
        let cut = Answer::of(
            &request(Verb::Watch, 200),
            Some(&WatchEnd::Cut {
                how: Cut::MidChunk,
                by: Some(FaultKind::CutStream),
            }),
        );
        assert_eq!(cut.to_string(), "200, then cut (mid_chunk)");
        assert_eq!(
            cut.faults_that_give_it(Verb::Watch),
            &[FaultKind::CutStream, FaultKind::Restart]
        );
    }
}
