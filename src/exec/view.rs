//! The cache a client may write for the verdict: JSON lines in the file named by
//! [`VIEW_ENV`], one object per line, `{"key":"default/app-config","resourceVersion":"37"}`
//! (`key` is `namespace/name`, or `name` for a cluster-scoped object). The last line for a key
//! wins, so a client may append as it goes or write the whole cache once at the end.

use std::path::Path;

use serde::Deserialize;

use super::error::Error;
use crate::verdict::Objects;

/// The environment variable that names the file a client may write its cache to.
pub const VIEW_ENV: &str = "KWH_VIEW_FILE";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: String,
    #[serde(rename = "resourceVersion")]
    resource_version: String,
}

/// Reads the cache the client wrote; `None` when it wrote none.
///
/// # Errors
/// [`Error::View`] naming the file, the line and what is wrong with it.
pub fn read(path: &Path) -> Result<Option<Objects>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::View {
                path: path.to_owned(),
                line: 0,
                message: e.to_string(),
            });
        }
    };
    parse(&text, path).map(Some)
}

/// Reads the cache from the text of the file at `path` (named in errors).
///
/// # Errors
/// [`Error::View`] naming the file, the line and what is wrong with it.
pub fn parse(text: &str, path: &Path) -> Result<Objects, Error> {
    let mut objects = Objects::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |message: String| Error::View {
            path: path.to_owned(),
            line: i + 1,
            message,
        };
        let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let rv = parsed.resource_version.parse::<u64>().map_err(|_| {
            at(format!(
                "`resourceVersion` must be the object's resourceVersion as the server sent it, found {:?}",
                parsed.resource_version
            ))
        })?;
        objects.insert(parsed.key, rv);
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> Result<Option<Objects>, Error> {
        let dir = std::env::temp_dir().join(format!("kwh-view-test-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("view.jsonl");
        std::fs::write(&path, text).unwrap();
        let read = read(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        read
    }

    #[test]
    fn the_last_line_for_a_key_wins_and_blank_lines_are_skipped() {
        let view = written(
            "{\"key\":\"default/a\",\"resourceVersion\":\"3\"}\n\n\
             {\"key\":\"default/a\",\"resourceVersion\":\"7\"}\n\
             {\"key\":\"node-1\",\"resourceVersion\":\"5\"}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(view.get("default/a"), Some(&7));
        assert_eq!(view.get("node-1"), Some(&5));
    }

    #[test]
    fn a_bad_line_is_named_with_the_file_and_its_number() {
        let error = written("{\"key\":\"default/a\",\"resourceVersion\":\"3\"}\n{\"key\":1}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("view.jsonl:2:"), "{error}");
        let error = written("{\"key\":\"default/a\",\"resourceVersion\":\"abc\"}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":1: `resourceVersion` must be"), "{error}");
    }

    #[test]
    fn no_file_is_no_view() {
        assert!(
            read(Path::new("/nonexistent/kwh/view.jsonl"))
                .unwrap()
                .is_none()
        );
    }
}
