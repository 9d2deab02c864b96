//! `sshtrail run`: the daemon around the [`pipeline`](crate::pipeline).
//!
//! Set-up (settings → sources, sink, session store, metrics endpoint), the restart from
//! the checkpoint ([`restore`]), the plugin and netlink sources' backfill from auditd's
//! own log ([`backfill`]), then the pipeline's loop with what only a daemon does between
//! items: checkpoints every second, SIGHUP (reopen the output), SIGTERM/SIGINT (stop),
//! and its own health as `SystemAction`s.

mod backfill;
mod restore;
mod rules;
mod sshd_config;

use crate::checkpoint;
use crate::geoip::GeoIp;
use crate::metrics::{self, Metrics};
use crate::pipeline::inputs::{BatchWait, Inputs};
use crate::pipeline::outputs::{Output, Outputs};
use crate::pipeline::{drive, Control, Identity, Parts, Pipeline, PreviousBoot, Timing};
use crate::sessions::id::{boot_started_ms, this_boot};
use crate::sessions::Recorder;
use crate::settings::{AuditSource, DaemonSettings, NetlinkMode, PipelineSettings, SshdSource};
use crate::source::audit_dir::AuditDirTailer;
use crate::source::audit_file::AuditFileSource;
use crate::source::fifo::FifoSource;
use crate::source::journald::JournaldSource;
use crate::source::netlink::NetlinkSource;
use crate::source::plugin::PluginSource;
use crate::source::syslog_file::SyslogFileSource;
use crate::source::{wall_ms, Position, Side, Source, MAX_LINE};
use crate::track::redact::Redactor;
use crate::track::{Config as TrackerConfig, Tracker};
use anyhow::Context;
use sshtrail_audit::interpret::SystemNames;
use sshtrail_event::sink::{FifoSink, FileSink, Mark, RestoreReport, Rotation, Sink, StdoutSink};
use sshtrail_event::{Host, Outcome, Started, SystemKind};
use sshtrail_sessionstore::{Options as StoreOptions, Store};
use sshtrail_sshd::{Format, Framer, TimeZone};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the daemon makes its output durable and saves a checkpoint.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// What the command line asked for: the two setting groups, resolved.
pub struct Request {
    pub pipeline: PipelineSettings,
    pub daemon: DaemonSettings,
    pub check_config: bool,
}

/// A setting that cannot be used: exit 2, naming it.
fn usage(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("sshtrail: {message}");
    Ok(ExitCode::from(2))
}

/// The pipeline settings both commands check the same way.
pub struct Checked {
    pub tz: TimeZone,
    pub geo: Option<GeoIp>,
    pub programs: Vec<String>,
    pub sftp_programs: Vec<String>,
    pub redactor: Option<Redactor>,
}

impl Checked {
    /// Every syslog identifier whose lines the pipeline reads.
    pub fn all_programs(&self) -> Vec<String> {
        self.programs
            .iter()
            .chain(&self.sftp_programs)
            .cloned()
            .collect()
    }
}

/// Checks the pipeline group; `Err` is the message for exit 2.
pub fn check_pipeline(settings: &PipelineSettings) -> Result<Checked, String> {
    let tz = TimeZone::from_setting(&settings.timezone)
        .map_err(|e| format!("--timezone (config key `timezone`): {e}"))?;
    let geo = match &settings.geoip_db {
        Some(path) => Some(
            GeoIp::open(path, settings.geoip_asn_db.as_deref())
                .map_err(|e| format!("config key `geoip-db`: {e}"))?,
        ),
        None => None,
    };
    let names = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    };
    let programs = names(&settings.sshd_programs);
    let sftp_programs = names(&settings.sftp_programs);
    if programs.is_empty() {
        return Err("--sshd-programs (config key `sshd-programs`) names no program".into());
    }
    let redactor = settings
        .redact
        .then(|| Redactor::new(&settings.redact_keywords));
    Ok(Checked {
        tz,
        geo,
        programs,
        sftp_programs,
        redactor,
    })
}

/// Opens `--session-storage`; `Ok(None)` for `none`. With `spool` unset (checking a
/// configuration) nothing is created.
pub fn open_store(url: &str, spool: Option<PathBuf>) -> Result<Option<Box<dyn Store>>, String> {
    if url == "none" {
        return Ok(None);
    }
    let options = StoreOptions {
        spool_dir: spool,
        ..StoreOptions::default()
    };
    sshtrail_sessionstore::open(url, &options)
        .map(Some)
        .map_err(|e| format!("config key `session-storage`: {e}"))
}

/// The tracker the settings ask for.
pub fn tracker(settings: &PipelineSettings) -> Tracker {
    Tracker::new(TrackerConfig {
        join_deadline_ms: settings.join_deadline_ms,
        join_grace_ms: settings.join_grace_ms,
        ..TrackerConfig::default()
    })
}

/// Runs until SIGTERM/SIGINT (or the plugin's stdin closing); SIGHUP reopens the output.
pub fn run(request: Request) -> anyhow::Result<ExitCode> {
    let Request {
        pipeline: settings,
        daemon,
        check_config,
    } = request;
    let Some(output) = daemon.output.clone() else {
        return usage("--output (config key `output`) is required");
    };
    let Some(state_dir) = daemon.state_dir.clone() else {
        return usage("--state-dir (config key `state-dir`) is required");
    };
    let checked = match check_pipeline(&settings) {
        Ok(checked) => checked,
        Err(message) => return usage(message),
    };
    if daemon.sshd_source != SshdSource::Journald && daemon.sshd_log.is_none() {
        return usage("--sshd-log (config key `sshd-log`) is required for this --sshd-source");
    }
    if let Err(message) = crate::sinks::check(&daemon.sink) {
        return usage(message);
    }
    // Checking a configuration creates nothing: a file URL is checked by its shape, an s3
    // URL by opening it without a spool (no upload thread, no files).
    let url = settings.session_storage.as_str();
    if check_config && url.starts_with("file://") {
        if !url.starts_with("file:///") || url.contains('?') {
            return usage(format!(
                "config key `session-storage`: {url}: expected file:///absolute/dir"
            ));
        }
    } else {
        let spool = (!check_config).then(|| state_dir.join("spool"));
        match open_store(url, spool) {
            Ok(store) if check_config => drop(store),
            Ok(store) => return Daemon::start(settings, daemon, checked, store, output, state_dir),
            Err(message) => return usage(message),
        }
    }
    if check_config {
        println!("configuration ok");
        return Ok(ExitCode::SUCCESS);
    }
    Daemon::start(settings, daemon, checked, None, output, state_dir)
}

struct Daemon {
    daemon: DaemonSettings,
    state_dir: PathBuf,
    output: PathBuf,
    shutdown: Arc<AtomicBool>,
    reopen: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    last_checkpoint: Instant,
    /// Items handled and events written when the last checkpoint was saved.
    checkpointed: (u64, u64),
    /// The remote sinks' forwarders, stopped last.
    forwarders: Vec<(String, sshtrail_spool::Forwarder)>,
}

impl Daemon {
    fn start(
        settings: PipelineSettings,
        daemon: DaemonSettings,
        checked: Checked,
        store: Option<Box<dyn Store>>,
        output: PathBuf,
        state_dir: PathBuf,
    ) -> anyhow::Result<ExitCode> {
        std::fs::create_dir_all(&state_dir)
            .with_context(|| format!("creating the state directory {}", state_dir.display()))?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let reopen = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&shutdown))?;
        }
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reopen))?;

        // A checkpoint that cannot be read is reported and set aside, never fatal: the
        // daemon must keep recording.
        let (previous, checkpoint_problem) = match checkpoint::load(&state_dir) {
            Ok(previous) => (previous, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let rotation = match daemon.output_max_bytes {
            0 => None,
            max_bytes => Some(Rotation {
                max_bytes,
                keep: daemon.output_keep,
            }),
        };
        if let Some((mark, saved_at_ms)) = previous
            .as_ref()
            .and_then(|c| Some((c.output?, c.saved_at_ms)))
        {
            // What was written after the checkpoint will be written again, once: the
            // output files go back to what they were then, rotations since undone.
            let mark = Mark {
                inode: mark.inode,
                length: mark.length,
                created_by_ms: Some(saved_at_ms),
            };
            match FileSink::restore_to_mark(&output, rotation, mark)? {
                report @ RestoreReport::Restored { .. } => {
                    if report.changed() {
                        tracing::info!("{report}");
                    }
                }
                report => tracing::warn!("{report}"),
            }
        }
        let sink = open_sink(&output, rotation)?;
        let mut all = vec![Output::new("output", sink, None)];
        let marks: Vec<(String, (u64, u64))> = previous
            .iter()
            .flat_map(|c| c.sinks.iter())
            .map(|(name, mark)| (name.clone(), (mark.inode, mark.length)))
            .collect();
        let host = this_host();
        let context = crate::sinks::Context {
            state_dir: &state_dir,
            marks: &marks,
            host: &host.name,
        };
        let mut forwarders = Vec::new();
        for opened in crate::sinks::open_all(&daemon.sink, &context)? {
            if let Some(forwarder) = opened.forwarder {
                forwarders.push((opened.name.clone(), forwarder));
            }
            all.push(Output::new(opened.name, opened.sink, opened.watch));
        }
        let metrics = Arc::new(Metrics::default());
        let metrics_problem = serve_metrics(&daemon.metrics_listen, &metrics)?;
        let (sources, starts) = sources(&daemon, &checked, previous.as_ref())?;
        let boot_id = this_boot();
        let mut outputs = Outputs::with_sinks(all, Arc::clone(&metrics));
        outputs.geo = checked.geo;
        outputs.recorder = store.map(|store| Recorder::new(store, &boot_id));
        let mut pipeline = Pipeline::new(Parts {
            tracker: tracker(&settings),
            outputs,
            identity: Identity::Local(host),
            boot_id,
            names: Box::new(SystemNames::new()),
            redactor: checked.redactor,
            sftp_programs: checked.sftp_programs.clone(),
            sshd_programs: checked.programs.clone(),
            tz: checked.tz,
            syslog_reference: None,
            timing: Timing::Live,
            metrics: Arc::clone(&metrics),
        });
        let wait = daemon.batch_wait_ms.map_or(BatchWait::PerSource, |ms| {
            BatchWait::All(Duration::from_millis(ms))
        });
        let mut inputs = Inputs::start(sources, Arc::clone(&shutdown), wait)?;
        tracing::info!(sources = ?inputs.names(), "sources started");

        if let Some(problem) = metrics_problem {
            tracing::error!("{problem}");
            let kind = SystemKind::MetricsUnavailable { error: problem };
            pipeline.system(wall_ms(), Outcome::Failed, kind)?;
        }
        let mut started = Started {
            checkpoint_problem,
            sshd_logging_problem: sshd_config::logging_problem("/usr/sbin/sshd"),
            ..Started::default()
        };
        if let Some(problem) = &started.sshd_logging_problem {
            tracing::warn!(
                "{problem}; see /usr/share/sshtrail/sshd_config.d/ (deploy/sshd_config.d/)"
            );
        }
        if let Some(problem) = &started.checkpoint_problem {
            tracing::error!("{problem}; starting without it");
        }
        let mut backfill_since = None;
        let mut previous_boot = None;
        if let Some(previous) = previous {
            backfill_since = Some(previous.saved_at_ms);
            previous_boot = restore::restore(&mut pipeline, previous, &mut started);
        }
        // Where the sources start, for what the checkpoint did not say (a restored audit
        // position is kept whole: it also says how far re-read records are repeats).
        let positions = &mut pipeline.positions;
        if positions.audit_restored.is_none() {
            positions.audit_read = starts.audit_file;
        }
        positions.sshd_file = positions.sshd_file.or(starts.sshd_file);
        if positions.journald_cursor.is_none() {
            positions.journald_cursor = starts.journald_cursor;
        }
        let kind = SystemKind::DaemonStarted(started);
        pipeline.system(wall_ms(), Outcome::Succeeded, kind)?;
        if let Some((id, alive_ms)) = previous_boot {
            // What the old boot logged after the checkpoint (its sessions' ends among it)
            // comes first from the audit source; its sessions still open then are ended.
            tracing::info!(previous_boot = %id, "the host rebooted since the checkpoint");
            pipeline.previous_boot = Some(PreviousBoot {
                id,
                alive_ms,
                this_boot_started_ms: boot_started_ms().unwrap_or(alive_ms),
                deadline: Instant::now() + Duration::from_secs(10),
            });
        }
        if let Some(file) = &daemon.audit_rules {
            rules::load(&mut pipeline, file)?;
        }
        // The plugin and netlink sources cannot rewind: what happened while sshtrail was
        // down is read back from auditd's own log, above what the checkpoint says was
        // written.
        if let (Some(since), AuditSource::Plugin | AuditSource::Netlink) =
            (backfill_since, daemon.audit_source)
        {
            let mut stop = || shutdown.load(Ordering::Relaxed) || inputs.a_stream_ended();
            backfill::backfill(&mut pipeline, &daemon.audit_log_dir, since, &mut stop)?;
        }
        let required = crate::recording::policy::Required::parse(&daemon.require_recording);
        let recordings =
            |rx| crate::recording::Recordings::new(rx, required.clone(), daemon.record_wait_ms);
        pipeline.outputs.recordings = match &daemon.record_socket {
            // Without a socket nothing is recorded: every session that must be is reported.
            None if !required.is_empty() => {
                tracing::warn!(
                    "--require-recording without --record-socket: no session can be recorded"
                );
                Some(recordings(std::sync::mpsc::sync_channel(0).1))
            }
            None => None,
            Some(path) => {
                let policy = crate::recording::socket::Policy {
                    gid: crate::recording::socket::group_id(&daemon.record_group),
                    record_input: daemon.record_input,
                    max_bytes: daemon.record_max_bytes,
                };
                if policy.gid.is_none() {
                    tracing::warn!(group = %daemon.record_group, "no such group: only root's recorders are heard");
                }
                if pipeline.outputs.recorder.is_none() {
                    tracing::warn!("--record-socket without --session-storage: recordings have nowhere to go and are dropped");
                }
                match crate::recording::socket::listen(path, policy) {
                    Ok(rx) => {
                        tracing::info!(socket = %path.display(), "recording socket open");
                        Some(recordings(rx))
                    }
                    Err(e) => {
                        let error = format!("recording socket {}: {e}", path.display());
                        tracing::error!("{error}");
                        pipeline.system(
                            wall_ms(),
                            Outcome::Failed,
                            SystemKind::SourceFailed { error },
                        )?;
                        Some(recordings(std::sync::mpsc::sync_channel(0).1))
                    }
                }
            }
        };
        let mut control = Daemon {
            daemon,
            state_dir,
            output,
            shutdown,
            reopen,
            metrics: Arc::clone(&metrics),
            last_checkpoint: Instant::now(),
            checkpointed: (0, 0),
            forwarders,
        };
        // Where every source starts is durable before anything is read.
        control.checkpoint(&mut pipeline, &inputs)?;
        // Healthy from here, not only from the first tick a second later.
        publish_stats(&pipeline, &metrics);
        metrics.ready.store(true, Ordering::Relaxed);
        tracing::info!(output = %control.output.display(), "sshtrail running");
        let result = drive(&mut pipeline, &mut inputs, &mut control);
        inputs.stop(Duration::from_secs(2));
        pipeline.end_previous_boot()?;
        let mut left = None;
        if let Some(recorder) = &pipeline.outputs.recorder {
            let grace = Duration::from_secs(control.daemon.session_shutdown_seconds);
            let report = recorder.shutdown(grace);
            left = Some(report.pending.len() as u64);
        }
        let kind = SystemKind::DaemonStopped {
            session_uploads_left: left,
        };
        pipeline.system(wall_ms(), Outcome::Succeeded, kind)?;
        control.checkpoint(&mut pipeline, &inputs)?;
        let grace = Duration::from_secs(control.daemon.session_shutdown_seconds);
        let _delivered = crate::sinks::stop_all(std::mem::take(&mut control.forwarders), grace);
        result?;
        Ok(ExitCode::SUCCESS)
    }

    /// Makes the output durable, then records how far every source is covered by it.
    fn checkpoint(&mut self, pipeline: &mut Pipeline, inputs: &Inputs) -> anyhow::Result<()> {
        let saved = restore::save(pipeline, &self.state_dir)?;
        self.metrics
            .checkpoint_ms
            .store(saved.saved_at_ms, Ordering::Relaxed);
        if let Some(audit) = &saved.audit {
            inputs.commit(Side::Audit, &Position::File(audit.resume));
        }
        if let Some(cursor) = &saved.journald_cursor {
            inputs.commit(Side::Sshd, &Position::Cursor(cursor.clone()));
        } else if let Some(file) = saved.sshd_file {
            inputs.commit(Side::Sshd, &Position::File(file));
        }
        self.last_checkpoint = Instant::now();
        self.checkpointed = (pipeline.handled, pipeline.outputs.written);
        Ok(())
    }
}

impl Control for Daemon {
    fn between(&mut self, pipeline: &mut Pipeline, inputs: &Inputs) -> anyhow::Result<bool> {
        pipeline.tick()?;
        for kind in pipeline.file_recordings() {
            pipeline.system(wall_ms(), Outcome::Failed, kind)?;
        }
        publish_stats(pipeline, &self.metrics);
        for (outcome, kind) in pipeline.outputs.sink_reports() {
            pipeline.system(wall_ms(), outcome, kind)?;
        }
        if self.reopen.swap(false, Ordering::Relaxed) {
            pipeline.outputs.reopen()?;
            tracing::info!(output = %self.output.display(), "output reopened");
        }
        // Nothing read and nothing written since the last one: nothing to save (a quiet
        // daemon does not fsync every second).
        let done = (pipeline.handled, pipeline.outputs.written);
        if done != self.checkpointed && self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(pipeline, inputs)?;
        }
        Ok(!self.shutdown.load(Ordering::Relaxed))
    }

    fn interval(&self) -> Duration {
        Duration::from_millis(100)
    }

    fn quiet_interval(&self) -> Duration {
        // Signals are looked at this often too: a stop takes at most this long.
        Duration::from_secs(1)
    }

    fn stop_when_a_source_ends(&self) -> bool {
        true
    }
}

/// Where the sources start: what the first checkpoint commits, so that a daemon stopped
/// before it read anything still resumes there (and misses nothing written meanwhile).
#[derive(Default)]
struct Starts {
    audit_file: Option<crate::source::audit_dir::FilePosition>,
    sshd_file: Option<crate::source::audit_dir::FilePosition>,
    journald_cursor: Option<String>,
}

/// The sources the settings name, resumed where the checkpoint says.
fn sources(
    daemon: &DaemonSettings,
    checked: &Checked,
    previous: Option<&checkpoint::Checkpoint>,
) -> anyhow::Result<(Vec<Box<dyn Source>>, Starts)> {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let mut starts = Starts::default();
    match daemon.audit_source {
        AuditSource::File => {
            let dir = &daemon.audit_log_dir;
            let resume = previous.and_then(|c| c.audit.as_ref()).map(|a| a.resume);
            let tailer = AuditDirTailer::open(dir, "audit.log", resume, false, MAX_LINE)
                .with_context(|| format!("opening {}/audit.log", dir.display()))?;
            starts.audit_file = Some(tailer.position());
            sources.push(Box::new(AuditFileSource::new(tailer)));
        }
        AuditSource::Plugin => sources.push(Box::new(
            PluginSource::stdin().context("reading standard input")?,
        )),
        AuditSource::Netlink => {
            use sshtrail_audit::netlink::AuditClient;
            let client = match daemon.netlink_mode {
                NetlinkMode::Unicast => AuditClient::unicast()
                    .context("registering as the audit daemon (is auditd running?)")?,
                NetlinkMode::Multicast => {
                    AuditClient::multicast().context("joining the kernel's audit read-log group")?
                }
            };
            sources.push(Box::new(NetlinkSource::new(client)));
        }
    }
    match (daemon.sshd_source, &daemon.sshd_log) {
        (SshdSource::Syslog, Some(path)) => {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let base = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| anyhow::anyhow!("--sshd-log {}: not a file name", path.display()))?;
            // Rotated auth.log siblings (`auth.log.1`) are followed the same way as auditd's.
            let resume = previous.and_then(|c| c.sshd_file);
            let tailer = AuditDirTailer::open(dir, base, resume, false, MAX_LINE)
                .with_context(|| format!("opening {}", path.display()))?;
            starts.sshd_file = Some(tailer.position());
            let framer = Framer::new(Format::Syslog, checked.tz.clone());
            sources.push(Box::new(SyslogFileSource::new(tailer, framer)));
        }
        (SshdSource::Fifo, Some(path)) => sources.push(Box::new(FifoSource::new(path.clone()))),
        _ => {
            let cursor = previous
                .and_then(|c| c.journald_cursor.clone())
                .or_else(crate::source::journald::tail_cursor);
            starts.journald_cursor = cursor.clone();
            sources.push(Box::new(JournaldSource::new(
                cursor,
                checked.all_programs(),
            )));
        }
    }
    Ok((sources, starts))
}

/// Serves /metrics; a port that cannot be had is reported, not fatal.
fn serve_metrics(listen: &str, metrics: &Arc<Metrics>) -> anyhow::Result<Option<String>> {
    if listen == "off" {
        return Ok(None);
    }
    match std::net::TcpListener::bind(listen) {
        Ok(listener) => {
            if let Ok(bound) = listener.local_addr() {
                tracing::info!(%bound, "metrics listening");
            }
            metrics::serve(listener, Arc::clone(metrics))?;
            metrics::poll_kernel_status(Arc::clone(metrics));
            Ok(None)
        }
        // The trail matters more than its metrics: report and carry on.
        Err(e) => Ok(Some(format!("metrics-listen {listen}: {e}"))),
    }
}

/// Copies the pipeline's counters to where the metrics endpoint reads them.
fn publish_stats(pipeline: &Pipeline, m: &Metrics) {
    let set = |a: &std::sync::atomic::AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
    set(&m.heartbeat_ms, wall_ms());
    let audit = pipeline.reassembler.stats();
    set(&m.audit_events_lost, audit.lost);
    set(&m.audit_records_late, audit.late);
    set(
        &m.audit_records_replayed_skipped,
        pipeline.positions.replay_skipped,
    );
    let track = pipeline.tracker.stats();
    set(&m.giveup_no_sshd_login, track.giveup_no_sshd_login);
    set(&m.giveup_no_audit_login, track.giveup_no_audit_login);
    set(&m.giveup_buffer_full, track.giveup_buffer_full);
    set(&m.giveup_too_many_sessions, track.giveup_too_many_sessions);
    set(&m.giveup_log_actions, track.giveup_log_actions);
    set(&m.non_ssh_events, track.non_ssh_events);
    set(&m.sessions_tracked, pipeline.tracker.open() as u64);
    if let Some(recorder) = &pipeline.outputs.recorder {
        let logs = recorder.stats();
        set(&m.session_logs_opened, logs.logs_opened);
        set(&m.session_logs_sealed, logs.logs_sealed);
        set(&m.session_log_records, logs.records_written);
        set(&m.session_log_failures, logs.write_failures);
        set(&m.session_log_late_events, logs.late_events);
        let store = recorder.store_stats();
        set(&m.session_uploads_pending, store.uploads_pending);
        set(&m.session_uploads_done, store.uploads_done);
        set(&m.session_upload_retries, store.upload_retries);
        set(&m.session_upload_failures, store.upload_failures);
        set(&m.session_uploads_resumed, store.uploads_resumed);
        set(&m.session_upload_parts_reused, store.parts_reused);
    }
}

/// `target`: `NODE_NAME` or the kernel's host name, and /etc/machine-id.
pub fn this_host() -> Host {
    let name = std::env::var("NODE_NAME").ok().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    });
    let machine_id = std::fs::read_to_string("/etc/machine-id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    Host { name, machine_id }
}

fn open_sink(output: &Path, rotation: Option<Rotation>) -> anyhow::Result<Box<dyn Sink>> {
    if output == Path::new("-") {
        return Ok(Box::new(StdoutSink::new()));
    }
    let is_fifo = std::fs::metadata(output)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false);
    if is_fifo {
        return Ok(Box::new(FifoSink::open(output)?));
    }
    Ok(Box::new(FileSink::open(output, rotation)?))
}
