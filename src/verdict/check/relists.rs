//! Relists: how many times the whole state was loaded again, against the scenario's bound. Both
//! judges count alike ([`relists`]); they word the check apart.

use crate::check_name::CheckName;
use crate::trace::RequestRecord;
use crate::verdict::request_log::lists;
use crate::verdict::scorecard::Check;

/// How many requests (re)loaded the whole state after the first.
pub(in crate::verdict) fn relists<'a>(requests: impl Iterator<Item = &'a RequestRecord>) -> u32 {
    u32::try_from(requests.filter(|r| lists(r)).count().saturating_sub(1)).unwrap_or(u32::MAX)
}

/// `3 relists`.
fn count_words(relists: u32) -> String {
    format!("{relists} relist{}", if relists == 1 { "" } else { "s" })
}

/// The kube-rs watcher's relists, when the scenario bounds them.
pub(in crate::verdict) fn relists_within(relists: u32, max: u32) -> Check {
    Check {
        name: CheckName::Relists,
        passed: relists <= max,
        detail: format!("{} (at most {max})", count_words(relists)),
    }
}

/// An exec client's relists, bound or not, and how many of the 410s it was sent it relisted
/// after.
pub(in crate::verdict) fn client_relists(
    relists: u32,
    max: Option<u32>,
    relisted_after_gone: usize,
    gone: usize,
) -> Check {
    Check {
        name: CheckName::Relists,
        passed: max.is_none_or(|m| relists <= m),
        detail: format!(
            "{} ({}); it relisted after {relisted_after_gone} of the {gone} 410s it was sent",
            count_words(relists),
            max.map_or("no bound".to_owned(), |m| format!("bound {m}")),
        ),
    }
}
