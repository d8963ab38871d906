//! The YAML side of reading a scenario: serde-saphyr's options (no snippets, a node budget),
//! the key path of an error as the file spells it, and serde's messages reworded for people.

use std::cell::RefCell;

use super::error::{Error, Location, Result};
use super::file::ScenarioFile;

/// The YAML node budget: stops alias bombs in milliseconds (serde-saphyr's budget). A large
/// collection is written with `generate`, not a line per object.
const MAX_NODES: usize = 200_000;

/// The segment serde-saphyr's `Spanned<T>` adds to a key path: it is read as a mapping of
/// `value` and its places, which the file does not spell.
const SPAN_SEGMENT: &str = "value";

/// Keys whose values are mappings of the user's own keys, where a `value` key is the user's:
/// an object's fields and labels (everything below them), and `expect.fail`'s set-up names
/// (the one segment after it).
const USER_MAPS: [&str; 2] = ["body", "labels"];
const USER_NAMES: [&str; 1] = ["fail"];

/// Parses `text` into the raw file; errors name `file`, the line and column, and the key path.
pub(super) fn deserialize(text: &str, file: &str) -> Result<ScenarioFile> {
    let path = RefCell::new(String::new());
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = MAX_NODES;
    options.budget = Some(budget);
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            *path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let location = e.location();
        let text = e.without_snippet().to_string();
        let key = without_span_segments_for(&path.into_inner(), &text);
        Error::Parse {
            location: Location {
                file: file.to_owned(),
                line: location.map(|l| l.line()),
                column: location.map(|l| l.column()),
                // The path of a duplicate key ends in `?`: serde never got to name it, the
                // message does.
                key: match key.as_str() {
                    "." => String::new(),
                    "?" => text
                        .strip_prefix("duplicate mapping key: ")
                        .and_then(|rest| rest.split(',').next())
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    _ => key,
                },
            },
            message: message_of(&e),
        }
    })
}

/// The key path as the file spells it: fields parsed as `Spanned<T>` add a `value` segment
/// that is not in the file. Every `value` segment is a span's, but where the user names keys.
#[cfg(test)]
fn without_span_segments(path: &str) -> String {
    without_span_segments_for(path, "")
}

/// As [`without_span_segments`], for the error `message` the path came with: an unknown
/// field's path ends in the unknown key, which is the user's even when it is `value`.
fn without_span_segments_for(path: &str, message: &str) -> String {
    if path == "." {
        return path.to_owned();
    }
    let unknown = message.starts_with(&format!("unknown field `{SPAN_SEGMENT}`"));
    let segments = segments(path);
    let last = segments.len().saturating_sub(1);
    let mut out = String::with_capacity(path.len());
    let mut users = false;
    let mut named = false;
    for (i, segment) in segments.into_iter().enumerate() {
        let key = segment.strip_prefix('.').unwrap_or(segment);
        let span = key == SPAN_SEGMENT && !segment.starts_with('[') && !(unknown && i == last);
        if !(span && !users && !named) {
            out.push_str(if out.is_empty() { key } else { segment });
        }
        named = !users && !named && USER_NAMES.contains(&key);
        users = users || USER_MAPS.contains(&key);
    }
    out
}

/// A key path's segments, each with the separator before it: `a`, `.b`, `[0]`.
fn segments(path: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = path
        .char_indices()
        .filter(|&(i, c)| i > 0 && (c == '.' || c == '['))
        .map(|(i, _)| i)
        .collect();
    starts.insert(0, 0);
    starts.push(path.len());
    starts.windows(2).map(|w| &path[w[0]..w[1]]).collect()
}

/// serde-saphyr's message without its own "at line X, column Y" suffix, which
/// [`Location`] already says.
fn message_of(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    if text.contains("budget breached") {
        return format!(
            "the document expands to more than {MAX_NODES} YAML nodes (an alias bomb?); refused before it could"
        );
    }
    if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let name = rest.split(',').next().unwrap_or(rest).trim();
        return format!("the key `{name}` appears twice in one mapping");
    }
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    with_suggestion(text)
}

/// serde's "unknown field `colr`, expected one of a, b" (or "unknown variant"), with the
/// closest expected name when one is close: "; did you mean `color`?".
pub(super) fn with_suggestion(message: String) -> String {
    let Some((unknown, expected)) = message
        .split_once("unknown field `")
        .or_else(|| message.split_once("unknown variant `"))
        .and_then(|(_, rest)| rest.split_once('`'))
        .and_then(|(unknown, rest)| {
            rest.split_once("expected one of ")
                .or_else(|| rest.split_once("expected "))
                .map(|(_, expected)| (unknown, expected))
        })
    else {
        return message;
    };
    let names = expected
        .split(", ")
        .map(|name| name.trim_matches(|c| c == '`' || c == ' '));
    match crate::suggest::closest(unknown, names) {
        Some(name) => format!("{message}; did you mean `{name}`?"),
        None => message,
    }
}

#[cfg(test)]
mod path_tests {
    use super::without_span_segments;

    #[test]
    fn span_segments_are_left_out_of_key_paths() {
        assert_eq!(without_span_segments("duration.value"), "duration");
        assert_eq!(
            without_span_segments("watchers.value[1].name.value"),
            "watchers[1].name"
        );
        assert_eq!(
            without_span_segments("expect.checkpoints[0].value"),
            "expect.checkpoints[0]"
        );
        assert_eq!(
            without_span_segments("resource.objects[0].body.value"),
            "resource.objects[0].body.value"
        );
    }

    #[test]
    fn a_key_the_user_names_value_is_kept_and_every_span_segment_is_left_out() {
        assert_eq!(
            without_span_segments("timeline[2].every.value"),
            "timeline[2].every"
        );
        assert_eq!(
            without_span_segments("expect.fail.value.value"),
            "expect.fail.value"
        );
        assert_eq!(
            without_span_segments("resource.generate[0].labels.value"),
            "resource.generate[0].labels.value"
        );
        assert_eq!(
            super::without_span_segments_for("server.value", "unknown field `value`, expected"),
            "server.value"
        );
    }
}

#[cfg(test)]
mod suggestion_tests {
    use super::with_suggestion;

    #[test]
    fn a_near_miss_gets_the_closest_name_and_a_far_one_gets_none() {
        assert_eq!(
            with_suggestion(
                "unknown variant `cut_strem`, expected one of idle, cut_stream, stall_stream"
                    .into()
            ),
            "unknown variant `cut_strem`, expected one of idle, cut_stream, stall_stream; did you mean `cut_stream`?"
        );
        assert_eq!(
            with_suggestion("unknown field `seeed`, expected one of `name`, `seed`".into()),
            "unknown field `seeed`, expected one of `name`, `seed`; did you mean `seed`?"
        );
        let far = "unknown variant `explode`, expected one of idle, compact";
        assert_eq!(with_suggestion(far.into()), far);
    }
}
