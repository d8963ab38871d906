//! The kinds of fault, each with the name `kind:` gives it: the one list of them, in the trace's
//! vocabulary because the server records the kind of each fault that plays. The file
//! form's table ([`Fault::walk`](crate::fault::Fault::walk)), the schema editors read, the loader's "expected one of",
//! explore's budget and draws all walk [`FaultKind::ALL`] or match on [`FaultKind`], so a new
//! [`Fault`](crate::fault::Fault) variant does not compile until it has a kind (`Fault::kind_of`), and a new kind does not compile
//! until the form and explore know it.

use std::fmt;

/// Spells the list once: the enum, [`FaultKind::ALL`] in the same order, and each name, so that
/// no kind can be in one and missing from another.
macro_rules! fault_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal,)*) => {
        /// A kind of [`Fault`](crate::fault::Fault), as a scenario's `kind:` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FaultKind {
            $($(#[$doc])* $kind,)*
        }

        impl FaultKind {
            /// Every kind, in the order messages list them and explore draws from them (a
            /// seed's draws depend on it: append, never reorder).
            pub const ALL: &'static [Self] = &[$(Self::$kind,)*];

            /// The name `kind:` gives it.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$kind => $name,)*
                }
            }
        }
    };
}

fault_kinds! {
    /// [`Fault::Idle`](crate::fault::Fault::Idle).
    Idle => "idle",
    /// [`Fault::Compact`](crate::fault::Fault::Compact).
    Compact => "compact",
    /// [`Fault::DropBookmarks`](crate::fault::Fault::DropBookmarks).
    DropBookmarks => "drop_bookmarks",
    /// [`Fault::StaleBookmarks`](crate::fault::Fault::StaleBookmarks).
    StaleBookmarks => "stale_bookmarks",
    /// [`Fault::EmptyBookmarks`](crate::fault::Fault::EmptyBookmarks).
    EmptyBookmarks => "empty_bookmarks",
    /// [`Fault::DropInitialEventsEnd`](crate::fault::Fault::DropInitialEventsEnd).
    DropInitialEventsEnd => "drop_initial_events_end",
    /// [`Fault::ExpireWatches`](crate::fault::Fault::ExpireWatches).
    ExpireWatches => "expire_watches",
    /// [`Fault::Watch410`](crate::fault::Fault::Watch410).
    Watch410 => "watch_410",
    /// [`Fault::EmptyWatch`](crate::fault::Fault::EmptyWatch).
    EmptyWatch => "empty_watch",
    /// [`Fault::CutStream`](crate::fault::Fault::CutStream).
    CutStream => "cut_stream",
    /// [`Fault::StallStream`](crate::fault::Fault::StallStream).
    StallStream => "stall_stream",
    /// [`Fault::HangHeaders`](crate::fault::Fault::HangHeaders).
    HangHeaders => "hang_headers",
    /// [`Fault::HttpError`](crate::fault::Fault::HttpError).
    HttpError => "http_error",
    /// [`Fault::Latency`](crate::fault::Fault::Latency).
    Latency => "latency",
    /// [`Fault::MalformedEvent`](crate::fault::Fault::MalformedEvent).
    MalformedEvent => "malformed_event",
    /// [`Fault::ExpireContinue`](crate::fault::Fault::ExpireContinue).
    ExpireContinue => "expire_continue",
    /// [`Fault::Restart`](crate::fault::Fault::Restart).
    Restart => "restart",
    /// [`Fault::WatchError`](crate::fault::Fault::WatchError).
    WatchError => "watch_error",
    /// [`Fault::EarlyBookmarks`](crate::fault::Fault::EarlyBookmarks).
    EarlyBookmarks => "early_bookmarks",
    /// [`Fault::Failover`](crate::fault::Fault::Failover).
    Failover => "failover",
}

impl FaultKind {
    /// The kind `kind:` names `name`, if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Every name, in [`FaultKind::ALL`]'s order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.iter().map(|k| k.name())
    }
}

/// Its name, as `kind:` writes it (in a trace's JSON too).
impl serde::Serialize for FaultKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Its name, as `kind:` writes it.
impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_kind_is_named_once_and_found_by_its_name() {
        let names: BTreeSet<_> = FaultKind::names().collect();
        assert_eq!(names.len(), FaultKind::ALL.len());
        for &kind in FaultKind::ALL {
            assert_eq!(FaultKind::named(kind.name()), Some(kind));
        }
        assert_eq!(FaultKind::named("expire_watchs"), None);
    }

    /// The README's table is prose no code can walk, so this holds it to the list.
    #[test]
    fn the_readme_s_fault_table_has_a_row_for_every_kind_in_order() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split_once("### Faults")
            .and_then(|(_, after)| after.split_once("\n\n|"))
            .map(|(_, table)| table.split("\n\n").next().unwrap_or_default())
            .expect("README has a fault table under `### Faults`");
        let rows: Vec<&str> = table
            .lines()
            .filter_map(|row| row.strip_prefix("| `")?.split_once('`'))
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(rows, FaultKind::names().collect::<Vec<_>>());
    }
}
