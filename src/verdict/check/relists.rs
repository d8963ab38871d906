//! Relists: how many times the whole state was loaded again, against the scenario's bound, and
//! after how many of the 410s it was sent a relist came next. Both judges read it off the
//! requests alike.

use std::fmt::Write as _;
use std::time::Duration;

use crate::check_name::CheckName;
use crate::trace::RequestRecord;
use crate::verdict::call::Call;
use crate::verdict::reaction::{Reaction, relisted};
use crate::verdict::request_log::lists;
use crate::verdict::scorecard::Check;

/// How many requests (re)loaded the whole state after the first.
fn relists<'a>(requests: impl Iterator<Item = &'a RequestRecord>) -> u32 {
    u32::try_from(requests.filter(|r| lists(r)).count().saturating_sub(1)).unwrap_or(u32::MAX)
}

/// `3 relists`.
fn count_words(relists: u32) -> String {
    format!("{relists} relist{}", if relists == 1 { "" } else { "s" })
}

/// How a client relisted: how many times, and after how many of the 410s it was sent.
pub(in crate::verdict) struct Relisting {
    pub(in crate::verdict) relists: u32,
    /// The 410s it was sent, and after how many of them a relist came next.
    pub(in crate::verdict) after_gone: (usize, usize),
}

impl Relisting {
    /// Read off a client's calls and what it did after each 410 among them (`after_gone`,
    /// which the exec judge also tells its story from, so it is made once).
    pub(in crate::verdict) fn of(
        calls: &[Call<'_>],
        after_gone: &[(Duration, &Call<'_>, Reaction)],
    ) -> Self {
        Self {
            relists: relists(calls.iter().map(|c| c.record)),
            after_gone: (after_gone.len(), relisted(after_gone)),
        }
    }
}

/// Its relists against the scenario's bound, if it sets one.
pub(in crate::verdict) fn relists_within(seen: &Relisting, max: Option<u32>) -> Check {
    let (gone, relisted) = seen.after_gone;
    let mut detail = format!(
        "{} ({})",
        count_words(seen.relists),
        max.map_or("no bound".to_owned(), |m| format!("at most {m}")),
    );
    if gone > 0 {
        let _ = write!(
            detail,
            "; it relisted after {relisted} of the {gone} 410s it was sent"
        );
    }
    Check {
        name: CheckName::Relists,
        passed: max.is_none_or(|m| seen.relists <= m),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relists_pass_within_the_bound_fail_beyond_it_and_pass_without_one() {
        let seen = |relists| Relisting {
            relists,
            after_gone: (0, 0),
        };
        assert!(relists_within(&seen(2), Some(2)).passed);
        let over = relists_within(&seen(3), Some(2));
        assert!(!over.passed);
        assert_eq!(over.detail, "3 relists (at most 2)");
        assert!(relists_within(&seen(30), None).passed);
    }

    #[test]
    fn the_relists_say_after_how_many_410s_one_came_when_any_was_sent() {
        let seen = Relisting {
            relists: 1,
            after_gone: (2, 1),
        };
        assert_eq!(
            relists_within(&seen, None).detail,
            "1 relist (no bound); it relisted after 1 of the 2 410s it was sent"
        );
    }
}
