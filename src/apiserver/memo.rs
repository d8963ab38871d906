//! [`Memo`]: a value worked out from an object once and kept beside it, which a copy of the
//! object does not take along.

use std::sync::OnceLock;

/// A value derived from the object that holds it, made at most once. A clone starts empty:
/// clones of an object are made to be edited (an update, a restart's restamp), and what was
/// derived from the original would be stale. Two memos always compare equal: they say nothing
/// about the object that the object itself does not.
#[derive(Debug)]
pub(crate) struct Memo<T>(OnceLock<T>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(OnceLock::new())
    }
}

impl<T> Clone for Memo<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Memo<T> {
    /// The cell: made with `get_or_init`, read with `get`.
    pub(crate) fn cell(&self) -> &OnceLock<T> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_starts_empty_and_memos_always_compare_equal() {
        let memo = Memo::default();
        assert_eq!(memo.cell().get_or_init(|| 7), &7);
        assert_eq!(memo.clone().cell().get(), None);
        assert_eq!(memo, Memo::default());
    }
}
