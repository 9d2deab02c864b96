//! Telling a file from another one that was given the same inode number.
//!
//! A position is saved as an inode and an offset, but once a file is deleted (rotated
//! past auditd's `num_logs`, say) ext4 and tmpfs hand its inode number to the next new
//! file readily. A position therefore also carries a fingerprint of the start of the file
//! it points into: a hash of its first bytes, and how many bytes that was.
//!
//! Logs only grow at the end, so bytes that were there when the fingerprint was taken stay
//! the same: a fingerprint of the first `len` bytes still matches while the file grows.
//! Only up to [`HEAD_MAX`] bytes are hashed, read once when a file is opened (and, for a
//! file shorter than that, collected from the tailer's own reads as it grows), never per
//! line. Both auditd's records and syslog lines begin with a timestamp (auditd's with the
//! event serial), so even a fingerprint of a single line tells two logs apart.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The most bytes at the start of a file that a fingerprint covers.
pub const HEAD_MAX: usize = 4096;

/// The first `len` bytes of a file, hashed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many bytes from the start of the file were hashed (at most [`HEAD_MAX`]).
    pub len: u32,
    /// FNV-1a (64 bit) of those bytes.
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `head`, the first bytes of a file (only the first [`HEAD_MAX`]
    /// count).
    pub fn of(head: &[u8]) -> Fingerprint {
        let head = &head[..head.len().min(HEAD_MAX)];
        Fingerprint {
            // At most HEAD_MAX, which fits.
            len: head.len() as u32,
            hash: fnv1a(head),
        }
    }

    /// Whether a file that begins with `head` is the file this fingerprint was taken of.
    /// A file shorter than the fingerprint is not (or was truncated: either way, not the
    /// bytes the position pointed into).
    pub fn matches(&self, head: &[u8]) -> bool {
        usize::try_from(self.len)
            .ok()
            .and_then(|len| head.get(..len))
            .is_some_and(|prefix| fnv1a(prefix) == self.hash)
    }
}

/// FNV-1a, 64 bit: written here rather than taken from `std`, whose `DefaultHasher` may
/// change between Rust releases, while a fingerprint saved in a checkpoint must still match
/// after the daemon is rebuilt. Not collision resistant against someone choosing the bytes,
/// but whoever can write auditd's log directory needs no collision to fool the trail.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The first bytes of the file a tailer has open, and their fingerprint.
#[derive(Debug)]
pub(super) struct Head {
    bytes: Vec<u8>,
    fingerprint: Fingerprint,
}

impl Head {
    /// Reads the first bytes of `file` (up to [`HEAD_MAX`], or its whole length when
    /// shorter) without moving its read position.
    pub(super) fn read(file: &File) -> io::Result<Head> {
        let mut bytes = vec![0u8; HEAD_MAX];
        let mut filled = 0;
        while filled < HEAD_MAX {
            match file.read_at(&mut bytes[filled..], filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        bytes.truncate(filled);
        let fingerprint = Fingerprint::of(&bytes);
        Ok(Head { bytes, fingerprint })
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(super) fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Takes note of `chunk`, read from the file at offset `at`: while the file was shorter
    /// than [`HEAD_MAX`] when opened, the head grows with it, so that a position never
    /// points past what its fingerprint covers (up to [`HEAD_MAX`]).
    pub(super) fn saw(&mut self, at: u64, chunk: &[u8]) {
        let have = self.bytes.len();
        let Ok(skip) = usize::try_from((have as u64).saturating_sub(at)) else {
            return;
        };
        if have >= HEAD_MAX || at > have as u64 || skip >= chunk.len() {
            return;
        }
        let take = (HEAD_MAX - have).min(chunk.len() - skip);
        self.bytes.extend_from_slice(&chunk[skip..skip + take]);
        self.fingerprint = Fingerprint::of(&self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_fingerprint_matches_its_file_as_it_grows_and_no_other() {
        let first = b"type=DAEMON_START msg=audit(1700000000.001:1): op=start\n";
        let fp = Fingerprint::of(first);
        assert_eq!(fp.len as usize, first.len());
        let mut grown = first.to_vec();
        grown.extend_from_slice(b"type=SYSCALL msg=audit(1700000000.002:2): x\n");
        assert!(fp.matches(first));
        assert!(fp.matches(&grown));
        assert!(!fp.matches(&first[..first.len() - 1]), "shorter: truncated");
        let other = b"type=DAEMON_START msg=audit(1700000999.001:1): op=start\n";
        assert!(!fp.matches(other));
        // Only the first HEAD_MAX bytes are hashed.
        let big = vec![b'x'; HEAD_MAX + 10];
        assert_eq!(Fingerprint::of(&big).len as usize, HEAD_MAX);
        assert!(Fingerprint::of(&big).matches(&big[..HEAD_MAX]));
    }

    #[test]
    fn the_head_grows_with_reads_up_to_its_limit() {
        let mut head = Head {
            bytes: b"abc".to_vec(),
            fingerprint: Fingerprint::of(b"abc"),
        };
        // A read that starts inside what the head has already.
        head.saw(1, b"bcdef");
        assert_eq!(head.bytes(), b"abcdef");
        // A read past the head's end (cannot happen in the tailer) is ignored.
        head.saw(100, b"zzz");
        assert_eq!(head.bytes(), b"abcdef");
        let rest = vec![b'y'; 2 * HEAD_MAX];
        head.saw(6, &rest);
        assert_eq!(head.bytes().len(), HEAD_MAX);
        assert_eq!(head.fingerprint(), Fingerprint::of(head.bytes()));
        head.saw(HEAD_MAX as u64, b"more");
        assert_eq!(head.bytes().len(), HEAD_MAX);
    }
}
