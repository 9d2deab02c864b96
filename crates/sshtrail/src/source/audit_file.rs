//! auditd's log directory as a source: `audit.log` and its rotations, followed by inode
//! (see [`super::audit_dir`]), each line with the position just after it.

use super::audit_dir::{AuditDirTailer, RawItem};
use super::watch::DirWatch;
use super::{
    audit_line_time, Batch, Item, Notice, Payload, Position, Pull, Side, Source, BATCH_ITEMS,
};
use std::time::Duration;

/// How long a file tail gathers once it found new lines: a writer that appends record
/// by record (auditd) is then read a window at a time.
pub const FILE_BATCH_WAIT: Duration = Duration::from_millis(50);

/// How often a tail without inotify looks at its file.
const POLL_EVERY: Duration = Duration::from_millis(50);

pub struct AuditFileSource {
    tail: FileTail,
}

impl AuditFileSource {
    pub fn new(tailer: AuditDirTailer) -> AuditFileSource {
        AuditFileSource {
            tail: FileTail::new(tailer),
        }
    }
}

/// A tailer and what tells it the file changed: a quiet file costs no wake-ups.
pub(super) struct FileTail {
    pub tailer: AuditDirTailer,
    watch: Option<DirWatch>,
}

impl FileTail {
    pub fn new(tailer: AuditDirTailer) -> FileTail {
        let (dir, base) = tailer.family();
        let watch = match DirWatch::new(dir, base) {
            Ok(watch) => Some(watch),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "no inotify ({e}): polling every {POLL_EVERY:?}");
                None
            }
        };
        FileTail { tailer, watch }
    }

    /// New lines, waiting up to `timeout` for the file to change if there are none.
    pub fn pull(
        &mut self,
        timeout: Duration,
        mut make: impl FnMut(&[u8], std::ops::Range<usize>) -> (Payload, Option<u64>),
    ) -> Pull {
        if let Some(batch) = tail_batch(&mut self.tailer, &mut make) {
            return Pull::Batch(batch);
        }
        if timeout.is_zero() {
            return Pull::Idle;
        }
        let changed = match self.watch.as_mut().map(|watch| watch.wait(timeout)) {
            Some(Ok(changed)) => changed,
            Some(Err(e)) => {
                tracing::warn!("inotify failed ({e}): polling every {POLL_EVERY:?}");
                self.watch = None;
                true
            }
            None => {
                std::thread::sleep(timeout.min(POLL_EVERY));
                true
            }
        };
        if self.watch.as_ref().is_some_and(DirWatch::is_lost) {
            tracing::warn!("the watched directory is gone: polling every {POLL_EVERY:?}");
            self.watch = None;
        }
        match changed
            .then(|| tail_batch(&mut self.tailer, &mut make))
            .flatten()
        {
            Some(batch) => Pull::Batch(batch),
            None => Pull::Idle,
        }
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
        self.tail.pull(timeout, |line, range| {
            (Payload::AuditLine(range), audit_line_time(line))
        })
    }

    fn batch_wait(&self) -> Duration {
        FILE_BATCH_WAIT
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MAX_LINE;
    use std::fs;
    use std::io::Write;

    fn append(path: &std::path::Path, text: &str) {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn lines(pull: Pull) -> Vec<String> {
        let Pull::Batch(batch) = pull else {
            return Vec::new();
        };
        batch
            .items
            .iter()
            .filter_map(|item| match &item.payload {
                Payload::AuditLine(range) => {
                    Some(String::from_utf8_lossy(batch.bytes_of(range)).into_owned())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_quiet_log_is_waited_on_not_polled_and_rotation_wakes_it() {
        let dir = std::env::temp_dir().join(format!("sshtrail-filetail-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("audit.log");
        append(&log, "type=EOE msg=audit(1700000000.000:1): \n");
        let tailer = AuditDirTailer::open(&dir, "audit.log", None, false, MAX_LINE).unwrap();
        let mut source = AuditFileSource::new(tailer);
        assert!(matches!(source.pull(Duration::ZERO), Pull::Idle));
        // One pull, waiting on the directory: it returns with the line written while it
        // waited (a polling tail would have come back idle after its 50 ms).
        let writer = {
            let log = log.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                append(&log, "type=EOE msg=audit(1700000001.000:2): \n");
            })
        };
        let got = lines(source.pull(Duration::from_secs(10)));
        writer.join().unwrap();
        assert_eq!(got, vec!["type=EOE msg=audit(1700000001.000:2): "]);
        // auditd's rotation: the file renamed, a new one created and written.
        let rotated = dir.join("audit.log.1");
        let writer = {
            let (log, rotated) = (log.clone(), rotated.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                fs::rename(&log, &rotated).unwrap();
                append(&log, "type=EOE msg=audit(1700000002.000:3): \n");
            })
        };
        let mut got = Vec::new();
        for _ in 0..5 {
            got.extend(lines(source.pull(Duration::from_secs(10))));
            if !got.is_empty() {
                break;
            }
        }
        writer.join().unwrap();
        assert_eq!(got, vec!["type=EOE msg=audit(1700000002.000:3): "]);
        let _ = fs::remove_dir_all(&dir);
    }
}
