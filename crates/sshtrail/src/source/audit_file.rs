//! auditd's log directory as a source: `audit.log` and its rotations, followed by inode
//! (see [`super::audit_dir`]), each line with the position just after it.

use super::audit_dir::{AuditDirTailer, RawItem};
use super::{
    audit_line_time, Batch, Item, Notice, Payload, Position, Pull, Side, Source, BATCH_ITEMS,
};
use std::time::Duration;

pub struct AuditFileSource {
    tailer: AuditDirTailer,
}

impl AuditFileSource {
    pub fn new(tailer: AuditDirTailer) -> AuditFileSource {
        AuditFileSource { tailer }
    }
}

impl Source for AuditFileSource {
    fn name(&self) -> &'static str {
        "audit-file"
    }

    fn side(&self) -> Side {
        Side::Audit
    }

    fn rewindable(&self) -> bool {
        true
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let batch = tail_batch(&mut self.tailer, |line, range| {
            (Payload::AuditLine(range), audit_line_time(line))
        });
        match batch {
            Some(batch) => Pull::Batch(batch),
            None => {
                // auditd writes as records come: look again shortly.
                std::thread::sleep(timeout.min(Duration::from_millis(50)));
                Pull::Idle
            }
        }
    }
}

/// Up to [`BATCH_ITEMS`] lines (and notices) from a tailer; `None` when it had nothing.
/// `make` turns a line (and where its bytes went in the batch) into a payload and time.
pub(super) fn tail_batch(
    tailer: &mut AuditDirTailer,
    mut make: impl FnMut(&[u8], std::ops::Range<usize>) -> (Payload, Option<u64>),
) -> Option<Batch> {
    let mut batch = Batch::new();
    while batch.items.len() < BATCH_ITEMS {
        match tailer.next_raw() {
            Ok(RawItem::Line(line, end)) => {
                let range = batch.push_bytes(line);
                let (payload, time_ms) = make(line, range);
                batch.items.push(Item {
                    payload,
                    time_ms,
                    end: Some(Position::File(end)),
                });
            }
            Ok(RawItem::TooLong { len, end }) => batch.items.push(Item {
                payload: Payload::Notice(Notice::TooLong { len }),
                time_ms: None,
                end: Some(Position::File(end)),
            }),
            Ok(RawItem::Gap {
                lost,
                resumed_at,
                reason,
            }) => batch.push_notice(Notice::Gap {
                lost,
                resumed_at,
                reason,
            }),
            Ok(RawItem::Idle) => break,
            Err(e) => {
                batch.push_notice(Notice::Failed(e.to_string()));
                // Do not spin on a failing read.
                std::thread::sleep(Duration::from_secs(1));
                break;
            }
        }
    }
    (!batch.is_empty()).then_some(batch)
}
