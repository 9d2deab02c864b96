//! What a stream source missed while the daemon was down, read back from auditd's log.
//!
//! The plugin and netlink sources cannot rewind. At start, auditd's log directory is
//! read (oldest file first) for events above the checkpoint's high-water mark; serials
//! that are in neither are reported as lost by the reassembler, and a log that cannot be
//! read at all is reported with the time span.

use crate::pipeline::Pipeline;
use crate::source::audit_dir::{AuditDirTailer, TailItem};
use crate::source::{wall_ms, MAX_LINE};
use sshtrail_audit::parse_line;
use sshtrail_event::{Backfill, Outcome, SystemKind};
use std::path::Path;
use std::time::{Duration, Instant};

/// In a backfill, a record this much older than the last event written is taken for one
/// of an earlier boot (the log keeps several) rather than one the stream missed.
const EARLIER_BOOT_MS: u64 = 3_600_000;

/// How long after a backfill the stream's repeats of it are dropped.
const DEDUP_WINDOW: Duration = Duration::from_secs(60);

/// How long before the checkpoint a record may be stamped and still be one the stream
/// missed, for a node none of whose events was written yet.
const IN_FLIGHT_MARGIN_MS: u64 = 60_000;

/// Reads the log (oldest file first) into `pipeline`. `stop` is asked now and then: a
/// stop meanwhile (SIGTERM, the plugin's stdin closed) ends it early, and what it did not
/// read is read again at the next start (the high-water marks say what was written).
pub fn backfill(
    pipeline: &mut Pipeline,
    dir: &Path,
    since_ms: u64,
    stop: &mut dyn FnMut() -> bool,
) -> anyhow::Result<()> {
    let mut report = Backfill {
        since_ms,
        until_ms: wall_ms(),
        audit_log_dir: dir.display().to_string(),
        records_read: None,
        records_backfilled: None,
        error: None,
    };
    let mut tailer = match AuditDirTailer::open(dir, "audit.log", None, true, MAX_LINE) {
        Ok(tailer) => tailer,
        Err(e) => {
            tracing::error!("backfill from {}: {e}", dir.display());
            report.error = Some(e.to_string());
            let kind = SystemKind::AuditBackfillFailed(report);
            pipeline.system(wall_ms(), Outcome::Failed, kind)?;
            return Ok(());
        }
    };
    let (mut read, mut added) = (0u64, 0u64);
    loop {
        if read % 4096 == 0 && stop() {
            report.error = Some("stopped before the end of the log".into());
            break;
        }
        match tailer.next_item() {
            Ok(TailItem::Line(line, _)) => {
                read += 1;
                let Ok(record) = parse_line(&line) else {
                    continue;
                };
                let time_ms = record.timestamp().as_millis();
                let reassembler = &pipeline.reassembler;
                if reassembler.already_emitted_at(record.node(), record.serial(), time_ms) {
                    continue;
                }
                // The log also holds earlier boots, whose serials may stand above the
                // mark: a record an hour older than the last event written is one of
                // theirs (or long written), never one the stream missed. With no event
                // written yet, what came well before the checkpoint is the log's
                // history, from before sshtrail ran.
                let latest = reassembler.latest_emitted_ms(record.node());
                let old = match latest {
                    Some(t) => time_ms.saturating_add(EARLIER_BOOT_MS) < t,
                    None => time_ms.saturating_add(IN_FLIGHT_MARGIN_MS) < since_ms,
                };
                if old {
                    continue;
                }
                added += 1;
                pipeline.push_record(record)?;
            }
            Ok(TailItem::Idle) => break,
            Ok(TailItem::TooLong { .. } | TailItem::Gap { .. }) => {}
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        }
    }
    // Events the log holds only the beginning of (auditd was writing them as we read)
    // are completed now; their remaining records on the stream are repeats.
    let mut outputs = Vec::new();
    pipeline.reassembler.finish(&mut |o| outputs.push(o));
    for output in outputs {
        pipeline.audit_output(output)?;
    }
    pipeline.flush_tracker()?;
    pipeline.positions.stream_dedup_until = Some(Instant::now() + DEDUP_WINDOW);
    report.records_read = Some(read);
    report.records_backfilled = Some(added);
    tracing::info!(read, added, "backfilled from the audit log");
    let outcome = if report.error.is_some() {
        Outcome::Failed
    } else {
        Outcome::Succeeded
    };
    pipeline.system(wall_ms(), outcome, SystemKind::AuditBackfilled(report))?;
    Ok(())
}
