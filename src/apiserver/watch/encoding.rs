//! How a watch's body is encoded on the wire: as it is, or gzipped one member per flush
//! (`WatchListCompression`, beta and on in 1.37; apiserver `endpoints/handlers/watch.go`).
//!
//! The apiserver gzips only a watch-list response (`sendInitialEvents` with bookmarks, asked
//! or defaulted: `isWatchListRequest`) to a client whose `Accept-Encoding` names `gzip`. Its
//! `perFlushGzipWriter` takes a pooled `gzip.Writer` (level 1) at the first write after a
//! flush, and at each flush (after an event when no other waits, and after the
//! initial-events-end bookmark) flushes it, closes it (the deflate end and the gzip trailer)
//! and gives it back. So the body is complete gzip members, one per flush, each ending on an
//! event's newline. Here a flush is one chunk of the session (`outbox.rs`). The deflate bytes
//! are flate2's, not Go's: they decode to the same lines, and the header (no name, no time,
//! `XFL` 4 for the fastest level, OS 255) is the same.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::options::WatchOptions;
use crate::apiserver::query::Query;
use crate::apiserver::shared::Shared;

/// A watch body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// The lines as they are.
    Identity,
    /// One gzip member per flush.
    Gzip,
}

impl Encoding {
    /// The encoding the server gives a watch asking `query`; identity for one it refuses.
    pub(super) fn of(inner: &Shared, query: &Query) -> Self {
        let watch_list = WatchOptions::parse(inner, query)
            .is_ok_and(|options| options.send_initial && options.allow_bookmarks);
        if watch_list && query.gzip && inner.spec.watch_list_compression {
            Self::Gzip
        } else {
            Self::Identity
        }
    }

    /// `chunk`, one flush of lines, as it goes on the wire. A chunk that does not end on a
    /// newline is half a line a cut is about to end: its member is cut short too, after the
    /// flush (Go's `gw.Flush()`) and before the end the close would have written.
    pub(super) fn frame(self, chunk: Bytes) -> Bytes {
        match self {
            Self::Identity => chunk,
            Self::Gzip => gzip_member(&chunk),
        }
    }
}

fn gzip_member(chunk: &[u8]) -> Bytes {
    let mut member = GzEncoder::new(Vec::new(), Compression::new(1));
    // NB: writing to a Vec cannot fail.
    let _ = member.write_all(chunk);
    let _ = member.flush();
    if chunk.ends_with(b"\n") {
        Bytes::from(member.finish().unwrap_or_default())
    } else {
        Bytes::copy_from_slice(member.get_ref())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn decoded(member: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(member)
            .read_to_string(&mut text)
            .expect("a whole member decodes");
        text
    }

    #[test]
    fn each_flush_is_one_whole_gzip_member_of_its_lines() {
        let lines = Bytes::from_static(b"{\"type\":\"ADDED\"}\n{\"type\":\"BOOKMARK\"}\n");
        let member = Encoding::Gzip.frame(lines.clone());
        assert_eq!(&member[..4], [0x1f, 0x8b, 8, 0], "gzip, deflate, no flags");
        assert_eq!(member[8], 4, "XFL: the fastest level, as Go's level 1");
        assert_eq!(decoded(&member), String::from_utf8_lossy(&lines));
    }

    #[test]
    fn two_flushes_are_two_members_that_decode_one_after_the_other() {
        let a = Encoding::Gzip.frame(Bytes::from_static(b"a\n"));
        let b = Encoding::Gzip.frame(Bytes::from_static(b"b\n"));
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&[a, b].concat()[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "a\nb\n");
    }

    #[test]
    fn half_a_line_is_a_member_cut_short_and_identity_leaves_lines_alone() {
        let cut = Encoding::Gzip.frame(Bytes::from_static(b"{\"type\":"));
        let mut text = String::new();
        let read = flate2::read::GzDecoder::new(&cut[..]).read_to_string(&mut text);
        assert!(read.is_err(), "no trailer: the member never ended");
        assert_eq!(text, "{\"type\":", "what was flushed still decodes");
        let line = Bytes::from_static(b"x\n");
        assert_eq!(Encoding::Identity.frame(line.clone()), line);
    }
}
