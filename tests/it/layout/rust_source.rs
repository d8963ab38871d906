//! Rust source read as text, just enough to measure it: comments and literals blanked out (so
//! that a brace or a `use` inside a string is not taken for code), functions found with their
//! extent, and the `use` declarations of a file with the inline modules they stand in.

use std::ops::Range;

/// The source with every comment, string, byte string and char literal replaced by spaces;
/// newlines are kept, so line numbers and byte offsets stay those of the file.
pub(crate) fn blank_literals(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |range: Range<usize>, out: &mut Vec<u8>| {
        for i in range {
            if out[i] != b'\n' {
                out[i] = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let after_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let end = if rest.starts_with(b"//") {
            Some(find(bytes, i, b"\n").unwrap_or(bytes.len()))
        } else if rest.starts_with(b"/*") {
            Some(block_comment_end(bytes, i))
        } else if !after_ident && let Some(end) = raw_string_end(bytes, i) {
            Some(end)
        } else if rest[0] == b'"' || (!after_ident && rest.starts_with(b"b\"")) {
            Some(string_end(bytes, i + usize::from(rest[0] == b'b') + 1))
        } else if rest[0] == b'\'' || (!after_ident && rest.starts_with(b"b'")) {
            char_end(bytes, i + usize::from(rest[0] == b'b'))
        } else {
            None
        };
        match end {
            Some(end) => {
                blank(i..end, &mut out);
                i = end;
            }
            None => i += 1,
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced, by ASCII spaces")
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Block comments nest in Rust.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let (mut depth, mut i) = (0, start);
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"/*" => (depth, i) = (depth + 1, i + 2),
            b"*/" => {
                (depth, i) = (depth - 1, i + 2);
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `r"…"`, `r#"…"#`, `br#"…"#`: the end after the closing quote and hashes.
fn raw_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + usize::from(bytes[start] == b'b');
    if bytes.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
    if bytes.get(i + hashes) != Some(&b'"') {
        return None;
    }
    let mut closing = vec![b'"'];
    closing.extend(std::iter::repeat_n(b'#', hashes));
    find(bytes, i + hashes + 1, &closing).map(|p| p + closing.len())
}

/// From just inside the opening quote to just past the closing one.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// A char literal's end, or `None` for a lifetime or a label (`'a`, `'outer:`).
fn char_end(bytes: &[u8], quote: usize) -> Option<usize> {
    let body = bytes.get(quote + 1)?;
    let close = if *body == b'\\' {
        quote + 1 + bytes[quote + 1..].iter().position(|&b| b == b'\'')?
    } else {
        let width = std::str::from_utf8(&bytes[quote + 1..(quote + 5).min(bytes.len())])
            .or_else(|e| std::str::from_utf8(&bytes[quote + 1..quote + 1 + e.valid_up_to()]))
            .ok()?
            .chars()
            .next()?
            .len_utf8();
        quote + 1 + width
    };
    (bytes.get(close) == Some(&b'\'')).then_some(close + 1)
}

/// A function with a body: its name and the lines it spans, signature to closing brace.
pub(crate) struct Function {
    pub(crate) name: String,
    pub(crate) first_line: usize,
    pub(crate) lines: usize,
}

/// Every function with a body in blanked source.
pub(crate) fn functions(code: &str) -> Vec<Function> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("fn ") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let name: String = code[at + 3..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = code[at..].find(['{', ';']).map(|p| at + p) else {
            continue;
        };
        if name.is_empty() || bytes[open] == b';' {
            continue;
        }
        let close = matching_brace(bytes, open);
        found.push(Function {
            name,
            first_line: line_of(code, at),
            lines: line_of(code, close) - line_of(code, at) + 1,
        });
    }
    found
}

pub(crate) fn line_of(code: &str, at: usize) -> usize {
    code[..at].matches('\n').count() + 1
}

fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    bytes.len() - 1
}

/// One path a `use` declaration names, e.g. `super::wire::EventType` out of
/// `use super::{wire::EventType, …};`, with how many inline modules (`mod tests { … }`) the
/// declaration stands in: their `super`s do not leave the file.
pub(crate) struct UsePath {
    pub(crate) segments: Vec<String>,
    pub(crate) inline_depth: usize,
    pub(crate) public: bool,
}

/// Every path of every `use` declaration in blanked source.
pub(crate) fn use_paths(code: &str) -> Vec<UsePath> {
    let inline = inline_modules(code);
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("use ") {
        let before = code[..at].trim_end();
        let statement_start = before.is_empty() || before.ends_with([';', '{', '}', ']', ')']);
        let public = ["pub", "pub(crate)", "pub(super)"]
            .iter()
            .any(|p| before.ends_with(p));
        if !(statement_start || public) {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            continue;
        };
        let tree = tidy(&code[at + 4..at + end]);
        let inline_depth = inline.iter().filter(|r| r.contains(&at)).count();
        for segments in expand(&tree) {
            paths.push(UsePath {
                segments,
                inline_depth,
                public,
            });
        }
    }
    paths
}

/// The byte ranges of `mod name { … }` blocks.
fn inline_modules(code: &str) -> Vec<Range<usize>> {
    let bytes = code.as_bytes();
    let mut ranges = Vec::new();
    for (at, _) in code.match_indices("mod ") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let Some(open) = code[at..].find(['{', ';']).map(|p| at + p) else {
            continue;
        };
        if bytes[open] == b'{' {
            ranges.push(open..matching_brace(bytes, open));
        }
    }
    ranges
}

/// A use tree on one line, with single spaces and none around `::`, braces and commas.
fn tidy(tree: &str) -> String {
    let mut tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    for (spaced, tight) in [
        (" ::", "::"),
        (":: ", "::"),
        ("{ ", "{"),
        (" {", "{"),
        (" }", "}"),
    ] {
        tree = tree.replace(spaced, tight);
    }
    tree.replace(" ,", ",").replace(", ", ",")
}

/// `a::{b, c::{d, e as f}}` into `a::b`, `a::c::d`, `a::c::e` (a rename keeps the name it
/// imports; `self` in a group names the group's module).
fn expand(tree: &str) -> Vec<Vec<String>> {
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        let segments: Vec<String> = path
            .split("::")
            .filter(|s| !s.is_empty() && *s != "self")
            .map(str::to_owned)
            .collect();
        return vec![segments];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let part = inner[start..i].trim();
                if !part.is_empty() {
                    out.extend(expand(&format!("{prefix}{part}")));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}
