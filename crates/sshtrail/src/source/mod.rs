//! Sources: where the daemon reads audit records and sshd's lines from, all of one shape.
//!
//! A [`Source`] hands over [`Batch`]es of items in the order it read them; each item has
//! the event time it can tell without decoding (for merging sources by time), and, when
//! the source can be read again after a restart, the [`Position`] just after it. A source
//! that has nothing more for now says [`Pull::Idle`] (it is caught up: only then may
//! waits for its side end by a wall-clock grace), one still reading a backlog that has
//! not produced anything yet says [`Pull::Pending`], one that will never have more says
//! [`Pull::End`]. The pipeline derives each side's watermark from
//! these, commits positions only once what came of them is durable, and tells the source
//! ([`Source::commit`]).
//!
//! | source | file | side | resumes from |
//! |---|---|---|---|
//! | audit log directory (auditd's `audit.log` and rotations) | [`audit_file`] | audit | (inode, offset) |
//! | auditd plugin (records on stdin) | [`plugin`] | audit | — (backfilled from the log) |
//! | kernel netlink | [`netlink`] | audit | — (backfilled from the log) |
//! | journald (`journalctl --follow`) | [`journald`] | sshd | cursor |
//! | syslog file (`auth.log`, `secure`) and rotations | [`syslog_file`] | sshd | (inode, offset) |
//! | named pipe (`<pid> <message>`) | [`fifo`] | sshd | — |
//! | captured files, for `replay` | [`file`] | either | — |
//!
//! Every one of them reads lines through the one bounded splitter, [`lines`].

pub mod audit_dir;
pub mod audit_file;
pub mod fifo;
pub mod file;
pub mod journald;
pub mod lines;
pub mod netlink;
pub mod plugin;
mod poll;
pub mod syslog_file;
pub mod watch;

pub use crate::track::progress::Side;
use audit_dir::{FilePosition, GapReason};
use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

/// Longest line any source accepts: an audit record's limit (sshd never writes more).
pub const MAX_LINE: usize = sshtrail_audit::parse::MAX_RECORD_LEN;

/// Items a batch holds at most (what one pull reads before handing over).
pub const BATCH_ITEMS: usize = 512;

/// Bytes a new batch has room for (512 records of a typical size).
const BATCH_BYTES: usize = 128 * 1024;

/// Where a source can resume: what a checkpoint commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// A byte offset in a file named by inode and fingerprint.
    File(FilePosition),
    /// A journald cursor.
    Cursor(String),
}

/// How an sshd line is framed.
pub use sshtrail_sshd::Format as LineFormat;

/// What one item is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// One audit log line, text form (`batch.bytes[range]`).
    AuditLine(Range<usize>),
    /// One record from the kernel: its type and payload (`batch.bytes[range]`).
    AuditRecord { msg_type: u16, range: Range<usize> },
    /// One sshd log line in the given format (`batch.bytes[range]`).
    SshdLine {
        format: LineFormat,
        range: Range<usize>,
    },
    /// Something the source must report rather than deliver.
    Notice(Notice),
}

/// What a source reports about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The log could not be read on from `lost`: it went on at `resumed_at`.
    Gap {
        lost: FilePosition,
        resumed_at: FilePosition,
        reason: GapReason,
    },
    /// A line longer than [`MAX_LINE`] was skipped.
    TooLong { len: u64 },
    /// The kernel dropped records on the way (netlink socket overflows).
    Overflow { times: u64 },
    /// Reading failed; the source tries again.
    Failed(String),
}

/// One item of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub payload: Payload,
    /// Event time (ms) read off the item cheaply, for merging sources; `None` when the
    /// item carries none (a notice, a line without a time stamp).
    pub time_ms: Option<u64>,
    /// The position just after this item, for sources that can resume.
    pub end: Option<Position>,
}

/// Items read together, their bytes in one buffer.
#[derive(Default, Debug)]
pub struct Batch {
    pub bytes: Vec<u8>,
    pub items: Vec<Item>,
}

/// Batches whose items were all taken, kept for the readers to fill again: reusing
/// their buffers keeps a busy stream from allocating (and the kernel from zeroing fresh
/// pages) for every batch.
static RECYCLED: Mutex<Vec<Batch>> = Mutex::new(Vec::new());

/// Batches kept for reuse at most, and the largest buffer worth keeping.
const RECYCLED_MAX: usize = 32;
const RECYCLED_MAX_BYTES: usize = 1 << 20;

impl Batch {
    /// An empty batch, with the buffers of one used before if there is one.
    pub fn new() -> Batch {
        let mut batch = RECYCLED
            .lock()
            .ok()
            .and_then(|mut kept| kept.pop())
            .unwrap_or_default();
        // Room for a typical window of records at once, so that filling it does not
        // grow it step by step (a no-op for a batch used before).
        batch.bytes.reserve(BATCH_BYTES);
        batch.items.reserve(BATCH_ITEMS);
        batch
    }

    /// Done with this batch: its buffers go back for [`Batch::new`].
    pub fn recycle(mut self) {
        if self.bytes.capacity() > RECYCLED_MAX_BYTES {
            return;
        }
        self.bytes.clear();
        self.items.clear();
        if let Ok(mut kept) = RECYCLED.lock() {
            if kept.len() < RECYCLED_MAX {
                kept.push(self);
            }
        }
    }

    pub fn bytes_of(&self, range: &Range<usize>) -> &[u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }

    /// Appends a line's bytes, returning where they are.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends `other`'s items after this batch's (`other` is recycled).
    pub fn append(&mut self, mut other: Batch) {
        let shift = self.bytes.len();
        let moved = |range: Range<usize>| range.start + shift..range.end + shift;
        self.bytes.extend_from_slice(&other.bytes);
        self.items.extend(other.items.drain(..).map(|mut item| {
            item.payload = match item.payload {
                Payload::AuditLine(range) => Payload::AuditLine(moved(range)),
                Payload::AuditRecord { msg_type, range } => Payload::AuditRecord {
                    msg_type,
                    range: moved(range),
                },
                Payload::SshdLine { format, range } => Payload::SshdLine {
                    format,
                    range: moved(range),
                },
                notice @ Payload::Notice(_) => notice,
            };
            item
        }));
        other.recycle();
    }

    /// Moves the complete lines `lines` holds into the batch, up to a batch's worth:
    /// `line` turns each into its item (or drops it); an over-long one is a notice.
    pub fn take_lines(
        &mut self,
        lines: &mut lines::LineBuffer,
        mut line: impl FnMut(&[u8], &mut Batch),
    ) {
        while self.items.len() < BATCH_ITEMS {
            match lines.next_line() {
                Some((lines::Line::Text(text), _)) => line(text, self),
                Some((lines::Line::TooLong { len }, _)) => {
                    self.push_notice(Notice::TooLong { len })
                }
                None => return,
            }
        }
    }

    /// Appends one line as an item.
    pub fn push_line(
        &mut self,
        text: &[u8],
        payload: impl FnOnce(Range<usize>) -> Payload,
        time_ms: Option<u64>,
        end: Option<Position>,
    ) {
        let range = self.push_bytes(text);
        self.items.push(Item {
            payload: payload(range),
            time_ms,
            end,
        });
    }

    pub fn push_notice(&mut self, notice: Notice) {
        self.items.push(Item {
            payload: Payload::Notice(notice),
            time_ms: None,
            end: None,
        });
    }
}

/// What one pull gives.
#[derive(Debug)]
pub enum Pull {
    /// Items, in the order read.
    Batch(Batch),
    /// Nothing new now: the source is caught up.
    Idle,
    /// Nothing to hand over yet, but the source is not caught up: it is still reading
    /// a backlog (waits for its side do not end by idleness meanwhile).
    Pending,
    /// Nothing more will ever come.
    End,
}

/// A reader of one input, all with the same contract.
pub trait Source: Send {
    /// A short name for logs and metrics (`audit-file`, `journald`, …).
    fn name(&self) -> &'static str;
    /// Which side of the join it feeds.
    fn side(&self) -> Side;
    /// Whether it can read again what it delivered (a file, the journal), so that the
    /// pipeline may make it wait; a stream (stdin, the kernel) must always be read.
    fn rewindable(&self) -> bool;
    /// The next items, waiting at most about `timeout` for some.
    fn pull(&mut self, timeout: Duration) -> Pull;
    /// How long its reader goes on gathering once a batch has begun, before handing it
    /// over (see [`crate::pipeline::inputs`]): for streams that deliver record by record.
    /// Sources that read a file on a schedule gather by themselves (zero).
    fn batch_wait(&self) -> Duration {
        Duration::ZERO
    }
    /// Everything up to `position` is durable downstream. Sources that keep their place
    /// themselves (none do yet: the checkpoint keeps it for them) act on it.
    fn commit(&mut self, _position: &Position) {}
    /// The daemon is stopping: let go of what must be let go of (a unicast netlink
    /// registration).
    fn stop(&mut self) {}
}

/// The time stamp of an audit log line (`msg=audit(1700000000.123:45)`), in ms, found
/// without parsing the record. `None` for a line without one.
pub fn audit_line_time(line: &[u8]) -> Option<u64> {
    // The first `(` that follows `audit` (`type=X msg=audit(`, or a netlink payload's
    // leading `audit(`): a byte search for `(` is a few times cheaper than a substring
    // search in a header this short, and this runs for every record a source reads.
    let head = line.get(..256).unwrap_or(line);
    let mut from = 0;
    let at = loop {
        let open = from + memchr::memchr(b'(', head.get(from..)?)?;
        if open >= 5 && head.get(open - 5..open) == Some(b"audit".as_slice()) {
            break open + 1;
        }
        from = open + 1;
    };
    let rest = line.get(at..)?;
    let mut seconds: u64 = 0;
    let mut i = 0;
    while let Some(&b) = rest.get(i).filter(|b| b.is_ascii_digit()) {
        seconds = seconds.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        i += 1;
    }
    if i == 0 || rest.get(i) != Some(&b'.') {
        return None;
    }
    let mut millis: u64 = 0;
    for &b in rest.get(i + 1..i + 4)? {
        if !b.is_ascii_digit() {
            return None;
        }
        millis = millis * 10 + u64::from(b - b'0');
    }
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// Wall-clock ms now.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_batches_keep_each_items_bytes() {
        let mut first = Batch::default();
        first.push_line(b"one", Payload::AuditLine, Some(1), None);
        let mut second = Batch::default();
        second.push_line(b"two", Payload::AuditLine, Some(2), None);
        second.push_notice(Notice::TooLong { len: 9 });
        second.push_line(
            b"three",
            |range| Payload::SshdLine {
                format: LineFormat::Syslog,
                range,
            },
            None,
            None,
        );
        first.append(second);
        let texts: Vec<&[u8]> = first
            .items
            .iter()
            .filter_map(|item| match &item.payload {
                Payload::AuditLine(range) | Payload::SshdLine { range, .. } => {
                    Some(first.bytes_of(range))
                }
                Payload::AuditRecord { range, .. } => Some(first.bytes_of(range)),
                Payload::Notice(_) => None,
            })
            .collect();
        assert_eq!(texts, [&b"one"[..], b"two", b"three"]);
        assert_eq!(first.items.len(), 4);
        assert_eq!(first.items[1].time_ms, Some(2));
    }

    #[test]
    fn audit_line_times_are_read_off_the_header() {
        let line = b"type=SYSCALL msg=audit(1795431100.841:4242): arch=c000003e";
        assert_eq!(audit_line_time(line), Some(1_795_431_100_841));
        let enriched = b"node=web-1 type=LOGIN msg=audit(1.002:1): pid=1";
        assert_eq!(audit_line_time(enriched), Some(1_002));
        let netlink = b"audit(1700000000.005:7): pid=1";
        assert_eq!(audit_line_time(netlink), Some(1_700_000_000_005));
        // A `(` before the header (an ENRICHED node name cannot hold one, but a line
        // may) is passed over.
        let paren = b"x=(y) type=X msg=audit(3.004:1): a=1";
        assert_eq!(audit_line_time(paren), Some(3_004));
        for bad in [
            &b"type=X msg=audit(abc.123:1):"[..],
            b"type=X msg=audit(12.1:1)",
            b"no header at all",
            b"msg=audit(99999999999999999999999.000:1)",
            b"(audit(",
            b"audit",
            b"",
        ] {
            assert_eq!(
                audit_line_time(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
