//! Kept up: an exec client's open watch was sent every write it selects, up to a deadline
//! before the end. The kube-rs judge has no such check: its view's gaps say as much.

use crate::check_name::CheckName;
use crate::verdict::scorecard::Check;

/// `behind`: the write its open watch was never sent, in words, if any.
pub(in crate::verdict) fn open_watch_kept_up(behind: Option<&str>) -> Check {
    Check {
        name: CheckName::KeptUp,
        passed: behind.is_none(),
        detail: match behind {
            None => "its open watch, if any, was sent every write it selects".to_owned(),
            Some(words) => words.to_owned(),
        },
    }
}
