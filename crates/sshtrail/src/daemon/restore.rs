//! The daemon's restart state: what a checkpoint saves, and taking it back.
//!
//! A checkpoint is saved only once the sinks and every open session log have made
//! everything before it durable ([`save`]), and only once it is saved may the remote
//! sinks send on what it covers; the positions in it are where each source
//! resumes so that nothing after them is missed, and the tracker's table and the session
//! logs' states are what the events after them were derived from.

use crate::checkpoint::{self, AuditPosition, Checkpoint, OutputMark, SavedJson};
use crate::pipeline::Pipeline;
use crate::source::wall_ms;
use sshtrail_event::Started;
use std::path::Path;

/// Takes up where the previous run's checkpoint left off. Returns the checkpoint's boot
/// id and save time when that was another boot.
pub fn restore(
    pipeline: &mut Pipeline,
    previous: Checkpoint,
    started: &mut Started,
) -> Option<(String, u64)> {
    let down_ms = wall_ms().saturating_sub(previous.saved_at_ms);
    started.downtime_seconds = Some(down_ms as f64 / 1000.0);
    if let Some(audit) = &previous.audit {
        pipeline.reassembler.restore_high_water(&audit.high_water);
        pipeline.positions.replay_until = Some(audit.read_until);
    } else {
        pipeline
            .reassembler
            .restore_high_water(&previous.audit_high_water);
    }
    pipeline
        .reassembler
        .restore_emitted_times(&previous.audit_emitted_times);
    pipeline.positions.audit_restored = previous.audit;
    pipeline.positions.journald_cursor = previous.journald_cursor;
    pipeline.positions.sshd_file = previous.sshd_file;
    pipeline.outputs.restore_id_window(&previous.event_ids);
    if let Err(e) = pipeline.sftp.restore(previous.sftp) {
        tracing::warn!("sftp-server state in the checkpoint unreadable: {e}");
    }
    if let Err(e) = pipeline.tracker.restore_json(&previous.tracker.0) {
        tracing::error!("session table in the checkpoint unreadable: {e}");
        started.sessions_unreadable = true;
    }
    if let Some(recorder) = pipeline.outputs.recorder.as_mut() {
        match recorder.restore(previous.sessions) {
            Ok(reopened) => started.session_logs_reopened = Some(Some(reopened as u64)),
            Err(e) => {
                tracing::error!("{e}");
                started.session_logs_reopened = Some(None);
            }
        }
    }
    let saved_at = previous.saved_at_ms;
    let this_boot = &pipeline.boot_id;
    previous
        .boot_id
        .filter(|boot| !boot.is_empty() && !this_boot.is_empty() && boot != this_boot)
        .map(|boot| (boot, saved_at))
}

/// Makes the output durable, then saves how far every source is covered by it.
pub fn save(pipeline: &mut Pipeline, state_dir: &Path) -> anyhow::Result<Checkpoint> {
    pipeline.flush_tracker()?;
    pipeline.outputs.sync()?;
    let positions = &pipeline.positions;
    let audit = match (positions.audit_resume(), positions.audit_read) {
        (Some(resume), Some(read_until)) => Some(AuditPosition {
            resume,
            read_until,
            high_water: pipeline.reassembler.high_water(),
        }),
        _ => positions.audit_restored.clone(),
    };
    let mut checkpoint = Checkpoint::new(wall_ms());
    checkpoint.audit = audit;
    checkpoint.audit_high_water = pipeline.reassembler.high_water();
    checkpoint.audit_emitted_times = pipeline.reassembler.emitted_times();
    // The session table belongs to the old boot until its sessions are ended: a crash
    // before then must find them again as the old boot's.
    let boot_id = pipeline
        .previous_boot
        .as_ref()
        .map_or(&pipeline.boot_id, |p| &p.id);
    checkpoint.boot_id = Some(boot_id.clone());
    checkpoint.journald_cursor = positions.journald_cursor.clone();
    checkpoint.sshd_file = positions.sshd_file;
    checkpoint.tracker = SavedJson(pipeline.tracker.snapshot_json());
    checkpoint.sftp = pipeline.sftp.snapshot();
    if let Some(recorder) = pipeline.outputs.recorder.as_mut() {
        checkpoint.sessions = recorder.snapshot();
    }
    for (name, (inode, length)) in pipeline.outputs.marks() {
        let mark = OutputMark { inode, length };
        if name == "output" {
            checkpoint.output = Some(mark);
        } else {
            checkpoint.sinks.push((name, mark));
        }
    }
    checkpoint.event_ids = pipeline.outputs.id_window();
    checkpoint::save(state_dir, &checkpoint)?;
    // Nothing before the marks can be taken back now: remote sinks may send it.
    pipeline.outputs.commit();
    Ok(checkpoint)
}
