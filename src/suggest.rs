//! "Did you mean": the name closest to a misspelt one, when one is close enough to be meant.

/// The name of `names` closest to `wrong` by Damerau-Levenshtein distance, if it is within a
/// third of its length (at least 2 edits).
#[must_use]
pub fn closest<'a>(wrong: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|name| (strsim::damerau_levenshtein(wrong, name), name))
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(2))
        .min()
        .map(|(_, name)| name)
}
