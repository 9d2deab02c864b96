//! The one pipeline `run` and `replay` share: sources → decode → tracker → outputs, with
//! positions kept for the checkpoint.
//!
//! ```text
//!  sources (threads)        decode                     join            outputs
//!  audit file/plugin/  ─┐   parse → reassemble →  ─┐
//!  netlink             ─┼─► coalesce → AuditFact  ─┼─► Tracker ──► GeoIP → session logs → sink
//!  journald/syslog/    ─┤   frame → SshdFact      ─┘      ▲
//!  fifo, or files      ─┘                                  └── watermarks of both sides
//! ```
//!
//! [`inputs::Inputs`] runs the sources and merges their items by time; [`Pipeline`] takes
//! them one at a time ([`Pipeline::handle`]). Before each fact reaches the tracker, the
//! tracker is told how far both sides have delivered, so that its waits end by what the
//! sources have shown, never by a clock. Time is injected ([`Timing`]): the wall clock
//! for the daemon, a count of records for a replay, so a replay gives the same events in
//! the same order every time. [`drive`] is the loop both commands run; the daemon adds
//! its checkpoints and signals through [`Control`].

pub mod inputs;
pub mod outputs;
pub mod positions;

use crate::metrics::Metrics;
use crate::source::audit_dir::FilePosition;
use crate::source::{wall_ms, Batch, Item, LineFormat, Notice, Payload, Position, Side};
use crate::track::build;
use crate::track::facts::{AuditFact, SshdFact};
use crate::track::from_audit::{audit_fact, redact_fact};
use crate::track::from_sftp::SftpLog;
use crate::track::from_sshd::sshd_fact;
use crate::track::progress::{Progress, SideProgress};
use crate::track::redact::Redactor;
use crate::track::system::audit_system_action;
use crate::track::Tracker;
use inputs::{Inputs, SideState, Step};
use outputs::Outputs;
use positions::Positions;
use sshtrail_audit::interpret::NameResolver;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_audit::{parse_line, Record};
use sshtrail_event::sink::SinkError;
use sshtrail_event::{Host, LogGap, LogName, Lost, Outcome, SystemKind};
use sshtrail_sshd::framing::SyslogFramer;
use sshtrail_sshd::{Framer, TimeZone, Timestamp};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where time comes from.
#[derive(Clone, Copy, Debug)]
pub enum Timing {
    /// The wall clock: a live daemon.
    Live,
    /// Records read so far, for the reassembler's waits: a replay at full speed, immune
    /// to jumps in the records' own time stamps. Never idle, so no wall-clock grace.
    Replay { records: u64 },
}

impl Timing {
    /// "Now" for the reassembler.
    fn tick(&mut self) -> u64 {
        match self {
            Timing::Live => wall_ms(),
            Timing::Replay { records } => {
                *records += 1;
                *records
            }
        }
    }

    fn wall_ms(&self) -> u64 {
        match self {
            Timing::Live => wall_ms(),
            Timing::Replay { .. } => 0,
        }
    }
}

/// Whose host the events are about.
pub enum Identity {
    /// This machine's (the daemon).
    Local(Host),
    /// Whatever the logs say (`node=`, journald's `_HOSTNAME`, `_MACHINE_ID`, `_BOOT_ID`,
    /// syslog's host): a replay of another machine's logs.
    FromLogs,
}

/// A boot that ended while sshtrail was down (see [`Pipeline::end_previous_boot`]).
pub struct PreviousBoot {
    pub id: String,
    /// The latest moment the old boot is known to have been alive: the checkpoint's
    /// save, then the time of any of its records read since.
    pub alive_ms: u64,
    /// When this boot began: audit records from then on are this boot's.
    pub this_boot_started_ms: u64,
    /// If the audit source gives nothing of this boot by then, the old boot's sessions
    /// end anyway.
    pub deadline: Instant,
}

pub struct Pipeline {
    pub reassembler: Reassembler,
    pub tracker: Tracker,
    pub outputs: Outputs,
    pub positions: Positions,
    pub host: Host,
    pub metrics: Arc<Metrics>,
    /// The checkpoint was another boot's: its sessions end once the audit source has
    /// given what that boot still logged.
    pub previous_boot: Option<PreviousBoot>,
    /// This boot's id (the daemon), or the logs' latest (replay).
    pub boot_id: String,
    learn_identity: bool,
    names: Box<dyn NameResolver>,
    redactor: Option<Redactor>,
    sshd_programs: Vec<String>,
    sftp_programs: Vec<String>,
    /// What sftp-server's lines said so far, per process (in the checkpoint).
    pub sftp: SftpLog,
    framers: [Framer; 3],
    timing: Timing,
    /// The wall clock as read for the batch being handled (a live daemon): the records
    /// of a batch were read together, so the clock is read once for them, not for each
    /// record and fact.
    batch_clock_ms: Option<u64>,
    /// The latest fact time each side gave the tracker.
    audit_watermark: u64,
    sshd_watermark: u64,
    audit_state: SideState,
    sshd_state: SideState,
    /// The audit side ended and the reassembler was emptied.
    audit_finished: bool,
    /// The latest audit record time: when records found lost were missed.
    latest_audit_ms: u64,
    /// Items and side changes handled so far (whether a checkpoint has news).
    pub handled: u64,
}

/// What a pipeline is made of.
pub struct Parts {
    pub tracker: Tracker,
    pub outputs: Outputs,
    pub identity: Identity,
    pub boot_id: String,
    pub names: Box<dyn NameResolver>,
    pub redactor: Option<Redactor>,
    pub sshd_programs: Vec<String>,
    pub sftp_programs: Vec<String>,
    pub tz: TimeZone,
    /// The instant RFC 3164 syslog stamps (no year) are read relative to: `None`, the
    /// clock at each line (live logs); a replay of a captured file uses its last
    /// modification.
    pub syslog_reference: Option<Timestamp>,
    pub timing: Timing,
    pub metrics: Arc<Metrics>,
}

/// A framer for `format` in zone `tz`, reading syslog years relative to `reference`.
pub fn framer(format: LineFormat, tz: &TimeZone, reference: Option<Timestamp>) -> Framer {
    let framer = Framer::new(format, tz.clone());
    match reference {
        Some(at) => framer.with_syslog(SyslogFramer::with_reference(tz.clone(), at)),
        None => framer,
    }
}

impl Pipeline {
    pub fn new(parts: Parts) -> Pipeline {
        let (host, learn_identity) = match parts.identity {
            Identity::Local(host) => (host, false),
            Identity::FromLogs => (Host::default(), true),
        };
        let framer = |format| framer(format, &parts.tz, parts.syslog_reference);
        Pipeline {
            reassembler: Reassembler::default(),
            tracker: parts.tracker,
            outputs: parts.outputs,
            positions: Positions::default(),
            host,
            metrics: parts.metrics,
            previous_boot: None,
            boot_id: parts.boot_id,
            learn_identity,
            names: parts.names,
            redactor: parts.redactor,
            sshd_programs: parts.sshd_programs,
            sftp_programs: parts.sftp_programs,
            sftp: SftpLog::default(),
            framers: [
                framer(LineFormat::JournalJson),
                framer(LineFormat::Syslog),
                framer(LineFormat::Fifo),
            ],
            timing: parts.timing,
            batch_clock_ms: None,
            audit_watermark: 0,
            sshd_watermark: 0,
            audit_state: SideState::default(),
            sshd_state: SideState::default(),
            audit_finished: false,
            latest_audit_ms: 0,
            handled: 0,
        }
    }

    /// One item from a source.
    pub fn handle(&mut self, side: Side, batch: &Batch, item: &Item) -> anyhow::Result<()> {
        self.handled += 1;
        match &item.payload {
            Payload::AuditLine(range) => {
                let end = match &item.end {
                    Some(Position::File(end)) => Some(*end),
                    _ => None,
                };
                self.audit_line(batch.bytes_of(range), end)?;
            }
            Payload::AuditRecord { msg_type, range } => {
                self.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
                match sshtrail_audit::parse_netlink(*msg_type, batch.bytes_of(range)) {
                    Ok(record) => self.audit_record(record, 0, None)?,
                    Err(e) => self.metrics.parse_error(e.kind()),
                }
            }
            Payload::SshdLine { format, range } => self.sshd_line(
                *format,
                batch.bytes_of(range),
                item.end.as_ref(),
                item.time_ms,
            )?,
            Payload::Notice(notice) => self.notice(side, notice, item.end.as_ref())?,
        }
        Ok(())
    }

    /// A side's sources fell idle, woke up or ended.
    pub fn side_changed(&mut self, side: Side, state: SideState) -> anyhow::Result<()> {
        self.handled += 1;
        if side == Side::Audit && state.ended && !self.audit_finished {
            // Every record is in: what the reassembler holds is complete now, and goes to
            // the tracker before it hears that the audit side has ended.
            self.audit_finished = true;
            let mut outputs = Vec::new();
            self.reassembler.finish(&mut |o| outputs.push(o));
            for output in outputs {
                self.audit_output(output)?;
            }
        }
        match side {
            Side::Audit => self.audit_state = state,
            Side::Sshd => self.sshd_state = state,
        }
        self.tracker.advance(self.progress());
        self.flush_tracker()?;
        Ok(())
    }

    /// Lets time pass (the daemon, between items): incomplete audit events that waited
    /// long enough leave, idle graces end, and the old boot's deadline is looked at.
    pub fn tick(&mut self) -> anyhow::Result<()> {
        let now = self.timing.wall_ms();
        let mut outputs = Vec::new();
        self.reassembler.tick(now, &mut |o| outputs.push(o));
        for output in outputs {
            self.audit_output(output)?;
        }
        if self
            .previous_boot
            .as_ref()
            .is_some_and(|p| Instant::now() >= p.deadline)
        {
            self.end_previous_boot()?;
        }
        self.tracker.advance(self.progress());
        self.flush_tracker()?;
        Ok(())
    }

    /// End of all input (a replay): every wait ends, each event written as it is made.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        if !self.audit_finished {
            self.side_changed(
                Side::Audit,
                SideState {
                    idle_since_ms: None,
                    ended: true,
                },
            )?;
        }
        let host = &self.host;
        let outputs = &mut self.outputs;
        self.tracker
            .finish_with(|event| outputs.emit(event, host))?;
        self.outputs.sync()
    }

    /// Whether something waits on the clock: an incomplete audit event, a join's grace,
    /// the old boot's deadline. Only then does the daemon need frequent ticks.
    pub fn waiting(&self) -> bool {
        self.reassembler.oldest_pending_ms().is_some()
            || self.tracker.waiting()
            || self.previous_boot.is_some()
    }

    /// How far both sides have delivered, as the tracker needs it.
    pub fn progress(&self) -> Progress {
        let side = |watermark: u64, state: &SideState| SideProgress {
            watermark_ms: if state.ended { u64::MAX } else { watermark },
            idle_since_ms: state.idle_since_ms,
            ended: state.ended,
        };
        Progress {
            audit: side(self.audit_watermark, &self.audit_state),
            sshd: side(self.sshd_watermark, &self.sshd_state),
            wall_ms: self.batch_clock_ms.unwrap_or_else(|| self.timing.wall_ms()),
        }
    }

    fn audit_line(&mut self, line: &[u8], end: Option<FilePosition>) -> anyhow::Result<()> {
        self.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
        match parse_line(line) {
            Ok(record) => self.audit_record(record, line.len(), end)?,
            Err(e) => {
                self.metrics.parse_error(e.kind());
                tracing::debug!(kind = e.kind(), "audit line skipped: {e}");
            }
        }
        if end.is_some() {
            self.positions.audit_read = end;
        }
        Ok(())
    }

    /// One record from the audit source, with the position just after its line.
    fn audit_record(
        &mut self,
        record: Record,
        line_len: usize,
        end: Option<FilePosition>,
    ) -> anyhow::Result<()> {
        let time_ms = record.timestamp().as_millis();
        self.metrics
            .last_event_time_ms
            .fetch_max(time_ms, Ordering::Relaxed);
        let positions = &mut self.positions;
        match end {
            None => {
                if let Some(until) = positions.stream_dedup_until {
                    // Right after a backfill the stream repeats what the log already gave.
                    // An event still in flight is always above the high-water mark, so
                    // only repeats (and records late beyond the reorder wait) go here.
                    if Instant::now() > until {
                        positions.stream_dedup_until = None;
                    } else if self.reassembler.already_emitted_at(
                        record.node(),
                        record.serial(),
                        time_ms,
                    ) {
                        positions.replay_skipped += 1;
                        return Ok(());
                    }
                }
            }
            Some(end) => {
                if let Some(until) = positions.replay_until {
                    if end.inode == until.inode && end.offset >= until.offset {
                        positions.replay_until = None;
                    }
                    if self
                        .reassembler
                        .already_emitted_at(record.node(), record.serial(), time_ms)
                    {
                        positions.replay_skipped += 1;
                        return Ok(());
                    }
                }
                positions.record_read(record.node(), record.serial(), line_len, end);
            }
        }
        self.push_record(record)
    }

    /// Into the reassembler, and on with what comes out.
    pub fn push_record(&mut self, record: Record) -> anyhow::Result<()> {
        let time_ms = record.timestamp().as_millis();
        self.latest_audit_ms = self.latest_audit_ms.max(time_ms);
        if let Some(previous) = self.previous_boot.as_mut() {
            if time_ms >= previous.this_boot_started_ms {
                self.end_previous_boot()?;
            } else {
                previous.alive_ms = previous.alive_ms.max(time_ms);
            }
        }
        let now = match self.timing {
            Timing::Live => *self.batch_clock_ms.get_or_insert_with(wall_ms),
            Timing::Replay { .. } => self.timing.tick(),
        };
        let mut outputs = Vec::new();
        self.reassembler.push(record, now, &mut |o| outputs.push(o));
        for output in outputs {
            self.audit_output(output)?;
        }
        Ok(())
    }

    pub fn audit_output(&mut self, output: Output) -> anyhow::Result<()> {
        match output {
            Output::Event(event) => {
                self.positions.event_done(event.node(), event.id().serial);
                if self.learn_identity && self.host.name.is_empty() {
                    if let Some(node) = event.node() {
                        self.host.name = node.to_string();
                    }
                }
                if let Some(kind) = audit_system_action(event.records()) {
                    let time_ms = event.id().timestamp.as_millis();
                    self.system(time_ms, Outcome::Succeeded, kind)?;
                }
                let fact = audit_fact(event.records(), self.names.as_ref());
                self.feed_audit(fact)?;
            }
            Output::Lost {
                after_serial,
                count,
                ..
            } => {
                let kind = SystemKind::AuditRecordsLost(Lost::Serials {
                    count,
                    after_sequence: after_serial,
                });
                self.system(self.latest_audit_ms, Outcome::Failed, kind)?;
            }
            Output::Late(record) | Output::Overflow(record) => {
                let fact = audit_fact(&[record], self.names.as_ref());
                self.feed_audit(fact)?;
            }
        }
        Ok(())
    }

    fn feed_audit(&mut self, mut fact: AuditFact) -> Result<(), SinkError> {
        if fact.ses.is_none() {
            return Ok(());
        }
        if let Some(redactor) = &self.redactor {
            redact_fact(&mut fact, redactor);
        }
        self.audit_watermark = self.audit_watermark.max(fact.time_ms);
        self.tracker.advance(self.progress());
        self.tracker.on_audit(fact);
        self.flush_tracker()
    }

    fn sshd_line(
        &mut self,
        format: LineFormat,
        line: &[u8],
        end: Option<&Position>,
        received_ms: Option<u64>,
    ) -> anyhow::Result<()> {
        match end {
            Some(Position::Cursor(cursor)) => self.positions.journald_cursor = Some(cursor.clone()),
            Some(Position::File(position)) => self.positions.sshd_file = Some(*position),
            None => {}
        }
        self.metrics.sshd_lines.fetch_add(1, Ordering::Relaxed);
        let framer = match format {
            LineFormat::JournalJson => &self.framers[0],
            LineFormat::Syslog => &self.framers[1],
            LineFormat::Fifo => &self.framers[2],
        };
        let Ok(framed) = framer.frame_bytes(line) else {
            self.metrics
                .sshd_lines_unframed
                .fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        let fact = if framed.is_from(&self.sshd_programs) {
            sshd_fact(&framed, received_ms)
        } else if framed.program.is_some() && framed.is_from(&self.sftp_programs) {
            self.sftp.fact(&framed, received_ms)
        } else {
            return Ok(());
        };
        if self.learn_identity {
            if self.host.name.is_empty() {
                if let Some(name) = &framed.host {
                    self.host.name = name.to_string();
                }
            }
            if self.host.machine_id.is_empty() {
                if let Some(id) = &framed.machine_id {
                    self.host.machine_id = id.to_string();
                }
            }
            if let Some(boot) = framed.boot_id.as_deref().filter(|b| *b != self.boot_id) {
                // A later boot in the same journal: its sessions' logs carry its boot.
                self.boot_id = boot.to_string();
                if let Some(recorder) = self.outputs.recorder.as_mut() {
                    recorder.set_boot_id(boot);
                }
            }
        }
        match fact {
            Some(fact) => Ok(self.feed_sshd(fact)?),
            None => Ok(()),
        }
    }

    fn feed_sshd(&mut self, fact: SshdFact) -> Result<(), SinkError> {
        self.sshd_watermark = self.sshd_watermark.max(fact.time_ms);
        self.tracker.advance(self.progress());
        self.tracker.on_sshd(fact);
        self.flush_tracker()
    }

    fn notice(
        &mut self,
        side: Side,
        notice: &Notice,
        end: Option<&Position>,
    ) -> anyhow::Result<()> {
        // About the reading itself, now (also in a replay: when it read the file).
        let now = wall_ms();
        match notice {
            Notice::Gap {
                lost,
                resumed_at,
                reason,
            } => {
                let kind = SystemKind::LogGap(LogGap {
                    log: match side {
                        Side::Audit => LogName::Audit,
                        Side::Sshd => LogName::Sshd,
                    },
                    reason: reason.as_str(),
                    lost_inode: lost.inode,
                    lost_offset: lost.offset,
                    resumed_inode: resumed_at.inode,
                });
                self.system(now, Outcome::Failed, kind)?;
            }
            Notice::TooLong { len } => {
                if side == Side::Audit {
                    self.metrics.parse_error("too_long");
                    tracing::warn!(len, "over-long audit line skipped");
                }
                if let (Side::Audit, Some(Position::File(end))) = (side, end) {
                    self.positions.audit_read = Some(*end);
                }
            }
            Notice::Overflow { times } => {
                let kind = SystemKind::AuditRecordsLost(Lost::SocketOverflows(*times));
                self.system(now, Outcome::Failed, kind)?;
            }
            Notice::Failed(error) => {
                tracing::error!("{error}");
                let kind = SystemKind::SourceFailed {
                    error: error.clone(),
                };
                self.system(now, Outcome::Failed, kind)?;
            }
        }
        Ok(())
    }

    /// The batch is handled: the next reads the clock again.
    pub fn batch_done(&mut self) {
        self.batch_clock_ms = None;
    }

    /// Writes what the tracker has decided.
    pub fn flush_tracker(&mut self) -> Result<(), SinkError> {
        for event in self.tracker.drain() {
            self.outputs.emit(event, &self.host)?;
        }
        Ok(())
    }

    /// Files what terminal recorders sent into the open session logs (dropped when the
    /// daemon keeps none); returns what to report.
    pub fn file_recordings(&mut self) -> Vec<SystemKind> {
        let Some(recordings) = self.outputs.recordings.as_mut() else {
            return Vec::new();
        };
        match self.outputs.recorder.as_mut() {
            Some(recorder) => recordings.take(recorder, wall_ms()),
            None => recordings.discard(wall_ms()),
        }
        recordings.take_reports()
    }

    /// A `SystemAction`, written now.
    pub fn system(
        &mut self,
        time_ms: u64,
        outcome: Outcome,
        kind: SystemKind,
    ) -> Result<(), SinkError> {
        self.flush_tracker()?;
        let event = build::system_action(time_ms, outcome, kind);
        self.outputs.emit(event, &self.host)
    }

    /// The host rebooted since the checkpoint: the sessions of the old boot that its
    /// own records did not end are over too. Each gets its `UserLogout` (sealing its
    /// session log), then a `SystemAction` `host-rebooted` says how many there were.
    pub fn end_previous_boot(&mut self) -> anyhow::Result<()> {
        let Some(previous) = self.previous_boot.take() else {
            return Ok(());
        };
        let ended = self.tracker.end_all(previous.alive_ms, "host rebooted");
        self.flush_tracker()?;
        tracing::info!(previous_boot = %previous.id, ended, "old boot's sessions ended");
        let kind = SystemKind::HostRebooted {
            previous_boot_id: previous.id,
            boot_id: self.boot_id.clone(),
            last_seen_alive_ms: previous.alive_ms,
            sessions_ended: ended as u64,
        };
        self.system(wall_ms(), Outcome::Succeeded, kind)?;
        Ok(())
    }
}

/// What the daemon does between items; a replay does nothing.
pub trait Control {
    /// Called between batches, every `interval` (or `quiet_interval`): checkpoints,
    /// signals. Returns false to stop.
    fn between(&mut self, pipeline: &mut Pipeline, inputs: &Inputs) -> anyhow::Result<bool>;
    /// How long to wait for input before calling [`Control::between`] anyway, while
    /// something waits on the clock ([`Pipeline::waiting`]).
    fn interval(&self) -> Duration;
    /// The same when nothing waits on the clock: a quiet daemon wakes this seldom.
    fn quiet_interval(&self) -> Duration {
        self.interval()
    }
    /// Whether a source that ended stops the run (the plugin's stdin closing does).
    fn stop_when_a_source_ends(&self) -> bool;
}

/// Runs `pipeline` on `inputs` until every source has ended (a replay) or `control`
/// says to stop.
pub fn drive(
    pipeline: &mut Pipeline,
    inputs: &mut Inputs,
    control: &mut dyn Control,
) -> anyhow::Result<()> {
    let mut last_between = Instant::now();
    loop {
        let interval = if pipeline.waiting() {
            control.interval()
        } else {
            control.quiet_interval()
        };
        let held = [pipeline.reassembler.oldest_pending_ms(), None];
        let step = inputs.step(interval, held);
        // What a batch (or a wait's end) made is written together: one write per batch.
        let batch_done = match step {
            Step::Item(index) => {
                if let Some((side, batch, item)) = inputs.item(index) {
                    pipeline.handle(side, batch, item)?;
                }
                inputs.consume(index)
            }
            _ => true,
        };
        match step {
            Step::Item(_) => {}
            Step::Changed(side) => {
                let state = inputs.side_state(side);
                if state.ended && control.stop_when_a_source_ends() {
                    // The daemon's input ended (auditd closed the plugin's stdin): stop,
                    // waits left as they are in the checkpoint, not given up.
                    tracing::info!(?side, "a source ended: stopping");
                    break;
                }
                pipeline.side_changed(side, state)?;
            }
            Step::Timeout => {}
            Step::Ended => break,
        }
        if !batch_done {
            // The rest of the batch first; the clock is looked at between batches.
            continue;
        }
        pipeline.batch_done();
        pipeline.outputs.flush()?;
        if last_between.elapsed() >= interval {
            last_between = Instant::now();
            if !control.between(pipeline, inputs)? {
                break;
            }
        }
    }
    pipeline.outputs.flush()?;
    Ok(())
}

/// A replay's [`Control`]: nothing between items.
pub struct Unattended;

impl Control for Unattended {
    fn between(&mut self, _: &mut Pipeline, _: &Inputs) -> anyhow::Result<bool> {
        Ok(true)
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn stop_when_a_source_ends(&self) -> bool {
        false
    }
}
