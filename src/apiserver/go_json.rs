//! JSON as Go's `encoding/json` writes it (reference §0): what every body and event line the
//! server sends is made of.

use std::cell::RefCell;

use bytes::Bytes;
use serde::Serialize;

/// `value` as Go's `json.NewEncoder(w).Encode` writes it (reference §0): compact, `<`, `>`
/// and `&` escaped as `\u003c`, `\u003e`, `\u0026` (and U+2028/U+2029 as `\u2028`/`\u2029`),
/// and one trailing newline.
pub(crate) fn line(value: &impl Serialize) -> Vec<u8> {
    with_json(value, |json| {
        let mut out = Vec::with_capacity(json.len() + 1);
        out.extend_from_slice(json);
        out.push(b'\n');
        out
    })
}

/// `value` as Go's encoder writes it, without the trailing newline, in an allocation of its
/// exact size: a form kept for as long as its object.
pub(crate) fn encode(value: &impl Serialize) -> Bytes {
    with_json(value, Bytes::copy_from_slice)
}

thread_local! {
    /// Where values are serialized and escaped before they are copied out. A `Vec` grown while
    /// serializing leaves up to twice its length allocated, and a kept form then costs twice
    /// its memory and its page faults: the scratch space is reused instead.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Calls `f` with `value` serialized as Go's encoder writes it, without the trailing newline.
pub(crate) fn with_json<R>(value: &impl Serialize, f: impl FnOnce(&[u8]) -> R) -> R {
    SCRATCH.with_borrow_mut(|(plain, escaped)| {
        plain.clear();
        serde_json::to_writer(&mut *plain, value).expect("wire types always serialize");
        // Most values have nothing to escape. NB: the scan runs over whole blocks without an
        // early exit, so that it vectorizes.
        let needs_escape = plain.chunks(64).any(|block| {
            block.iter().fold(false, |found, b| {
                found | matches!(b, b'<' | b'>' | b'&' | 0xE2)
            })
        });
        if !needs_escape {
            return f(plain);
        }
        go_escape(plain, escaped);
        f(escaped)
    })
}

/// Replaces what Go's encoder escapes and serde_json does not. Those characters can only occur
/// inside JSON strings, so replacing them in the output is exact.
fn go_escape(plain: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut rest = plain;
    while let Some((first, tail)) = rest.split_first() {
        match (first, tail) {
            (b'<', _) => out.extend_from_slice(b"\\u003c"),
            (b'>', _) => out.extend_from_slice(b"\\u003e"),
            (b'&', _) => out.extend_from_slice(b"\\u0026"),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            (0xE2, [0x80, last @ (0xA8 | 0xA9), ..]) => {
                out.extend_from_slice(if *last == 0xA8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                rest = &tail[2..];
                continue;
            }
            _ => out.push(*first),
        }
        rest = tail;
    }
}
