//! `sshtrail run`: the daemon.
//!
//! Sources run on their own threads and hand raw lines to one pipeline thread over a
//! bounded channel (a slow sink slows the sources; nothing queues without bound). The
//! pipeline thread owns the reassembler, the tracker and the sink, so nothing on the hot
//! path takes a lock.

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use sshtrail::checkpoint::{self, AuditPosition, Checkpoint, OutputMark};
use sshtrail::enrich::add_geo;
use sshtrail::geoip::GeoIp;
use sshtrail::metrics::{self, Metrics};
use sshtrail::sessions::{
    id::{boot_started_ms, this_boot},
    Recorder,
};
use sshtrail::source::audit_dir::{AuditDirTailer, FilePosition, GapReason, TailItem};
use sshtrail::source::journald::{cursor_of, JournalFollower};
use sshtrail::track::from_audit::{audit_fact, redact_fact};
use sshtrail::track::from_sshd::sshd_fact;
use sshtrail::track::redact::Redactor;
use sshtrail::track::system::audit_system_action;
use sshtrail::track::{build, Config as TrackerConfig, Tracker};
use sshtrail_audit::interpret::SystemNames;
use sshtrail_audit::parse::MAX_RECORD_LEN;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_audit::{parse_line, Record};
use sshtrail_event::sink::{FifoSink, FileSink, Rotation, Sink, StdoutSink};
use sshtrail_event::{Host, Outcome};
use sshtrail_sessionstore::Options as StoreOptions;
use sshtrail_sshd::framing::SSHD_PROGRAMS;
use sshtrail_sshd::{Format, Framer, TimeZone};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every setting is a flag and a key of the `--config` TOML file (same name); a flag
/// given on the command line wins over the file.
#[derive(Args, Deserialize, Default, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunArgs {
    /// TOML file with any of the settings below, by their flag names.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Where audit records come from: `file` (tail the audit log directory), `plugin`
    /// (records on standard input, from auditd's plugin framework) or `netlink` (from
    /// the kernel directly; see --netlink-mode). [default: file]
    #[arg(long, value_parser = ["file", "plugin", "netlink"])]
    audit_source: Option<String>,
    /// With `--audit-source netlink`: `multicast` reads beside auditd (the kernel's
    /// read-log group), `unicast` registers sshtrail as the audit daemon (no auditd may
    /// run). [default: multicast]
    #[arg(long, value_parser = ["multicast", "unicast"])]
    netlink_mode: Option<String>,
    /// A rules file (`/etc/audit/audit.rules` format) loaded into the kernel at start,
    /// as `sshtrail audit rules load` does; rules already present are kept. Mostly for
    /// `--audit-source netlink` on hosts without auditd (and its augenrules). Success or
    /// failure is reported as a SystemAction. [default: none]
    #[arg(long)]
    audit_rules: Option<PathBuf>,
    /// The audit log directory the `file` source tails. [default: /var/log/audit]
    #[arg(long)]
    audit_log_dir: Option<PathBuf>,
    /// Where sshd's lines come from: `journald`, `syslog` (a file such as
    /// /var/log/auth.log, followed across rotation) or `fifo` (`<pid> <message>` lines, as
    /// audito-maldito's rsyslog set-up writes them). [default: journald]
    #[arg(long, value_parser = ["journald", "syslog", "fifo"])]
    sshd_source: Option<String>,
    /// The syslog file or fifo for `--sshd-source syslog|fifo`.
    #[arg(long)]
    sshd_log: Option<PathBuf>,
    /// The program names (syslog identifiers) sshd's lines come under, comma-separated:
    /// add any other name a host runs sshd as. [default: sshd,sshd-session,sshd-auth]
    #[arg(long, value_delimiter = ',')]
    sshd_programs: Option<Vec<String>>,
    /// Time zone of RFC 3164 syslog time stamps: local, UTC, +02:00 or a zoneinfo name.
    /// [default: local]
    #[arg(long)]
    timezone: Option<String>,
    /// Where events go: a file (appended, created 0640, reopened on SIGHUP), a fifo, or
    /// `-` for standard output. [required]
    #[arg(long)]
    output: Option<PathBuf>,
    /// Rotate the output file when it would grow past this many bytes (0: never).
    /// [default: 0]
    #[arg(long)]
    output_max_bytes: Option<u64>,
    /// Rotated output files kept (`events.json.1` …). [default: 5]
    #[arg(long)]
    output_keep: Option<u32>,
    /// Directory for sshtrail's state. [required]
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// How long (ms) one side of a login waits for the other. [default: 10000]
    #[arg(long)]
    join_deadline_ms: Option<u64>,
    /// Mask secrets in command lines (`--password=…`, `--token X`, `*_SECRET_*=…`, URL
    /// passwords, bearer tokens). [default: true]
    #[arg(long)]
    redact: Option<bool>,
    /// More words that mark an argument as secret, comma-separated (added to password,
    /// passwd, passphrase, secret, token, apikey, accesskey, privatekey, credential).
    #[arg(long, value_delimiter = ',')]
    redact_keywords: Option<Vec<String>>,
    /// Where session logs go: `none`, `file:///DIR` (one log per session plus a JSON
    /// sidecar) or `s3://BUCKET/PREFIX?endpoint=…&region=…` (spooled under the state
    /// directory, uploaded when the session ends). [default: none]
    #[arg(long)]
    session_storage: Option<String>,
    /// On stop, how long to wait for session log uploads still running (what is left
    /// stays in the spool and is uploaded after the next start). [default: 30]
    #[arg(long)]
    session_shutdown_seconds: Option<u64>,
    /// A MaxMind-format GeoIP City or Country database: the country and city of each
    /// source address go into UserLogin events and session metadata. [default: none]
    #[arg(long)]
    geoip_db: Option<PathBuf>,
    /// A MaxMind-format ASN database, for the source address's network. [default: none]
    #[arg(long)]
    geoip_asn_db: Option<PathBuf>,
    /// Address for /metrics, /healthz and /readyz (`off`: none). [default: 127.0.0.1:9834]
    #[arg(long)]
    metrics_listen: Option<String>,
    /// Check the configuration, print `configuration ok` and exit (0, or 2 naming the
    /// bad key).
    #[arg(long)]
    #[serde(skip)]
    check_config: bool,
}

impl RunArgs {
    /// The same settings with the audit source fixed (as a flag: it wins over the file).
    pub fn with_audit_source(mut self, source: &str) -> RunArgs {
        self.audit_source = Some(source.to_string());
        self
    }

    /// Fills every setting the command line left out from the config file.
    fn merged(mut self) -> Result<RunArgs, String> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("--config {}: {e}", path.display()))?;
        let file: RunArgs =
            toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))?;
        macro_rules! fill {
            ($($field:ident),*) => { $( if self.$field.is_none() { self.$field = file.$field; } )* };
        }
        fill!(
            audit_rules,
            netlink_mode,
            audit_source,
            audit_log_dir,
            sshd_source,
            sshd_log,
            sshd_programs,
            timezone,
            output,
            output_max_bytes,
            output_keep,
            state_dir,
            join_deadline_ms,
            redact,
            redact_keywords,
            session_storage,
            session_shutdown_seconds,
            geoip_db,
            geoip_asn_db,
            metrics_listen
        );
        self.validate()?;
        Ok(self)
    }

    /// Checks what clap cannot check for values that came from the file.
    fn validate(&self) -> Result<(), String> {
        let one_of = |key: &str, value: &Option<String>, allowed: &[&str]| match value {
            Some(v) if !allowed.contains(&v.as_str()) => Err(format!(
                "config key `{key}`: `{v}` is not one of {}",
                allowed.join(", ")
            )),
            _ => Ok(()),
        };
        one_of(
            "audit-source",
            &self.audit_source,
            &["file", "plugin", "netlink"],
        )?;
        one_of(
            "netlink-mode",
            &self.netlink_mode,
            &["multicast", "unicast"],
        )?;
        one_of(
            "sshd-source",
            &self.sshd_source,
            &["journald", "syslog", "fifo"],
        )
    }
}

/// Raw input from the sources, in the order each source read it.
enum Input {
    /// A line and, for the file source, the position just after it.
    AuditLine(Vec<u8>, Option<FilePosition>),
    /// A record from netlink: its type and payload.
    AuditNetlink(u16, Vec<u8>),
    /// The netlink socket overflowed this many times since the last report.
    NetlinkOverflow(u64),
    AuditGap {
        lost: FilePosition,
        resumed_at: FilePosition,
        reason: GapReason,
    },
    AuditTooLong(u64),
    /// An sshd line and, for the syslog file source, the position just after it.
    SshdLine(String, Option<FilePosition>),
    SshdGap {
        lost: FilePosition,
        resumed_at: FilePosition,
        reason: GapReason,
    },
    SourceFailed(String),
}

/// Run until SIGTERM/SIGINT; SIGHUP reopens the output.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let args = match args.merged() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("sshtrail: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let Some(output) = args.output.clone() else {
        eprintln!("sshtrail: --output (config key `output`) is required");
        return Ok(ExitCode::from(2));
    };
    let Some(state_dir) = args.state_dir.clone() else {
        eprintln!("sshtrail: --state-dir (config key `state-dir`) is required");
        return Ok(ExitCode::from(2));
    };
    let tz = match TimeZone::from_setting(args.timezone.as_deref().unwrap_or("local")) {
        Ok(tz) => tz,
        Err(e) => {
            eprintln!("sshtrail: --timezone (config key `timezone`): {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let geo = match &args.geoip_db {
        Some(path) => match GeoIp::open(path, args.geoip_asn_db.as_deref()) {
            Ok(geo) => Some(geo),
            Err(e) => {
                eprintln!("sshtrail: geoip-db: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let store = match args.session_storage.as_deref() {
        None | Some("none") => None,
        // Checking a configuration creates nothing: a file URL is checked by its shape,
        // an s3 URL by opening it without a spool (no upload thread, no files).
        Some(url) if args.check_config && url.starts_with("file://") => {
            if !url.starts_with("file:///") || url.contains('?') {
                eprintln!(
                    "sshtrail: config key `session-storage`: {url}: expected file:///absolute/dir"
                );
                return Ok(ExitCode::from(2));
            }
            None
        }
        Some(url) => {
            let options = StoreOptions {
                spool_dir: (!args.check_config).then(|| state_dir.join("spool")),
                ..StoreOptions::default()
            };
            match sshtrail_sessionstore::open(url, &options) {
                Ok(store) => Some(store),
                Err(e) => {
                    eprintln!("sshtrail: config key `session-storage`: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    if args.check_config {
        println!("configuration ok");
        return Ok(ExitCode::SUCCESS);
    }
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
    if let Some(mark) = previous.as_ref().and_then(|c| c.output) {
        // What was written after the checkpoint will be written again, once.
        let removed = FileSink::truncate_to_mark(&output, mark.inode, mark.length)?;
        if removed > 0 {
            tracing::info!(removed, "output cut back to the last checkpoint");
        }
    }
    let mut sink = open_sink(&output, &args)?;
    let host = this_host();
    let metrics = Arc::new(Metrics::default());
    let listen = args.metrics_listen.as_deref().unwrap_or("127.0.0.1:9834");
    let metrics_problem = match listen {
        "off" => None,
        address => match std::net::TcpListener::bind(address) {
            Ok(listener) => {
                if let Ok(bound) = listener.local_addr() {
                    tracing::info!(%bound, "metrics listening");
                }
                metrics::serve(listener, Arc::clone(&metrics))?;
                metrics::poll_kernel_status(Arc::clone(&metrics));
                None
            }
            // The trail matters more than its metrics: report and carry on.
            Err(e) => Some(format!("metrics-listen {address}: {e}")),
        },
    };
    let (tx, rx) = sync_channel::<Input>(4096);

    match args.audit_source.as_deref().unwrap_or("file") {
        "plugin" => spawn_plugin_source(tx.clone()),
        "netlink" => {
            let unicast = args.netlink_mode.as_deref() == Some("unicast");
            spawn_netlink_source(unicast, tx.clone(), Arc::clone(&shutdown))?;
        }
        _ => {
            let dir = args
                .audit_log_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/var/log/audit"));
            let resume = previous
                .as_ref()
                .and_then(|c| c.audit.as_ref())
                .map(|a| a.resume);
            spawn_audit_dir_source(dir, resume, tx.clone(), Arc::clone(&shutdown))?;
        }
    }
    let sshd_programs: Vec<String> = match &args.sshd_programs {
        Some(names) => names
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect(),
        None => SSHD_PROGRAMS.iter().map(|n| n.to_string()).collect(),
    };
    if sshd_programs.is_empty() {
        eprintln!("sshtrail: --sshd-programs (config key `sshd-programs`) names no program");
        return Ok(ExitCode::from(2));
    }
    let sshd_format = match args.sshd_source.as_deref().unwrap_or("journald") {
        "syslog" | "fifo" => {
            let Some(path) = args.sshd_log.clone() else {
                eprintln!("sshtrail: --sshd-log (config key `sshd-log`) is required for this --sshd-source");
                return Ok(ExitCode::from(2));
            };
            let fifo = args.sshd_source.as_deref() == Some("fifo");
            let resume = previous.as_ref().and_then(|c| c.sshd_file);
            spawn_sshd_file_source(path, fifo, resume, tx.clone(), Arc::clone(&shutdown))?;
            if fifo {
                Format::Fifo
            } else {
                Format::Syslog
            }
        }
        _ => {
            let cursor = previous.as_ref().and_then(|c| c.journald_cursor.clone());
            spawn_journald_source(
                cursor,
                sshd_programs.clone(),
                tx.clone(),
                Arc::clone(&shutdown),
            );
            Format::JournalJson
        }
    };
    drop(tx);

    let tracker_config = TrackerConfig {
        join_deadline_ms: args.join_deadline_ms.unwrap_or(10_000),
        ..TrackerConfig::default()
    };
    let boot_id = this_boot();
    let mut pipeline = Pipeline {
        reassembler: Reassembler::default(),
        tracker: Tracker::new(tracker_config, host.clone()),
        framer: Framer::new(sshd_format, tz),
        names: SystemNames::new(),
        host,
        sink: sink.as_mut(),
        state_dir: state_dir.clone(),
        positions: Positions::default(),
        redactor: args
            .redact
            .unwrap_or(true)
            .then(|| Redactor::new(args.redact_keywords.as_deref().unwrap_or(&[]))),
        metrics: Arc::clone(&metrics),
        recorder: store.map(|store| Recorder::new(store, &boot_id)),
        geo,
        boot_id,
        previous_boot: None,
        sshd_programs: sshd_programs.clone(),
    };
    if let Some(problem) = metrics_problem {
        tracing::error!("{problem}");
        let mut details = serde_json::Map::new();
        details.insert("error".into(), problem.into());
        pipeline.system("metrics-unavailable", Outcome::Failed, details)?;
    }
    let mut started = serde_json::Map::new();
    if let Some(problem) = checkpoint_problem {
        tracing::error!("{problem}; starting without it");
        started.insert("checkpoint_problem".into(), problem.into());
    }
    let mut backfill_since = None;
    let mut previous_boot = None;
    if let Some(previous) = previous {
        backfill_since = Some(previous.saved_at_ms);
        previous_boot = pipeline.restore(previous, &mut started);
    }
    pipeline.system("daemon-started", Outcome::Succeeded, started)?;
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
    if let Some(file) = &args.audit_rules {
        pipeline.load_audit_rules(file)?;
    }
    // The plugin and netlink sources cannot rewind: what happened while sshtrail was down
    // is read back from auditd's own log, above what the checkpoint says was written.
    if let (Some(since), Some("plugin" | "netlink")) =
        (backfill_since, args.audit_source.as_deref())
    {
        let dir = args
            .audit_log_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("/var/log/audit"));
        pipeline.backfill(&dir, since)?;
    }
    metrics.ready.store(true, Ordering::Relaxed);
    tracing::info!(output = %output.display(), "sshtrail running");
    let result = pipeline.run(&rx, &shutdown, &reopen);
    pipeline.end_previous_boot()?;
    let mut stopped = serde_json::Map::new();
    if let Some(recorder) = &pipeline.recorder {
        let grace = Duration::from_secs(args.session_shutdown_seconds.unwrap_or(30));
        let report = recorder.shutdown(grace);
        stopped.insert("session_uploads_left".into(), report.pending.len().into());
    }
    pipeline.system("daemon-stopped", Outcome::Succeeded, stopped)?;
    pipeline.checkpoint()?;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// In a backfill, a record this much older than the last event written is taken for one
/// of an earlier boot (the log keeps several) rather than one the stream missed.
const EARLIER_BOOT_MS: u64 = 3_600_000;

struct Pipeline<'s> {
    reassembler: Reassembler,
    tracker: Tracker,
    framer: Framer,
    names: SystemNames,
    host: Host,
    sink: &'s mut dyn Sink,
    state_dir: PathBuf,
    positions: Positions,
    redactor: Option<Redactor>,
    metrics: Arc<Metrics>,
    recorder: Option<Recorder>,
    geo: Option<GeoIp>,
    /// This boot's id (`/proc/sys/kernel/random/boot_id`), saved with each checkpoint.
    boot_id: String,
    /// The names sshd's lines come under (`--sshd-programs`).
    sshd_programs: Vec<String>,
    /// The checkpoint was saved in another boot: its sessions end once the audit
    /// source has given what that boot still logged.
    previous_boot: Option<PreviousBoot>,
}

/// A boot that ended while sshtrail was down (see [`Pipeline::end_previous_boot`]).
struct PreviousBoot {
    id: String,
    /// The latest moment the old boot is known to have been alive: the checkpoint's
    /// save, then the time of any of its records read since.
    alive_ms: u64,
    /// When this boot began: audit records from then on are this boot's.
    this_boot_started_ms: u64,
    /// If the audit source gives nothing of this boot by then, the old boot's sessions
    /// end anyway.
    deadline: Instant,
}

/// Source positions, kept so that a checkpoint commits only what the sink has.
#[derive(Default)]
struct Positions {
    /// End of the last audit line handled.
    audit_read: Option<FilePosition>,
    /// The restored checkpoint's audit position, until a line has been read.
    audit_restored: Option<AuditPosition>,
    /// Until this position is passed, re-read records of events already written are
    /// skipped.
    replay_until: Option<FilePosition>,
    replay_skipped: u64,
    /// Start of the first record of each event still being assembled, in read order.
    in_flight: BTreeMap<u64, FilePosition>,
    in_flight_by_event: HashMap<(Option<String>, u64), u64>,
    next_order: u64,
    journald_cursor: Option<String>,
    /// End of the last line handled from the syslog file sshd source.
    sshd_file: Option<FilePosition>,
    /// Until then, stream records (plugin, netlink) of events already written are
    /// dropped: the window after a backfill.
    stream_dedup_until: Option<Instant>,
}

impl Positions {
    /// Where reading must resume so that every event not yet written is read again.
    fn audit_resume(&self) -> Option<FilePosition> {
        self.in_flight.values().next().copied().or(self.audit_read)
    }

    fn event_done(&mut self, node: Option<&str>, serial: u64) {
        if let Some(order) = self
            .in_flight_by_event
            .remove(&(node.map(str::to_string), serial))
        {
            self.in_flight.remove(&order);
        }
    }
}

impl Pipeline<'_> {
    fn run(
        &mut self,
        rx: &Receiver<Input>,
        shutdown: &AtomicBool,
        reopen: &AtomicBool,
    ) -> anyhow::Result<()> {
        let mut last_sync = Instant::now();
        while !shutdown.load(Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(input) => self.handle(input)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = now_ms();
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
            self.tracker.tick(now);
            self.flush_tracker()?;
            self.publish_stats(now);
            if reopen.swap(false, Ordering::Relaxed) {
                self.sink.reopen()?;
            }
            if last_sync.elapsed() >= Duration::from_secs(1) {
                self.checkpoint()?;
                last_sync = Instant::now();
            }
        }
        Ok(())
    }

    fn handle(&mut self, input: Input) -> anyhow::Result<()> {
        match input {
            Input::AuditLine(line, end) => {
                self.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
                match parse_line(&line) {
                    Ok(record) => {
                        self.metrics
                            .last_event_time_ms
                            .fetch_max(record.timestamp().as_millis(), Ordering::Relaxed);
                        self.audit_record(record, line.len(), end)?
                    }
                    Err(e) => {
                        self.metrics.parse_error(e.kind());
                        tracing::debug!(kind = e.kind(), "audit line skipped: {e}");
                    }
                }
                if end.is_some() {
                    self.positions.audit_read = end;
                }
            }
            Input::AuditNetlink(msg_type, payload) => {
                self.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
                match sshtrail_audit::parse_netlink(msg_type, &payload) {
                    Ok(record) => self.audit_record(record, 0, None)?,
                    Err(e) => self.metrics.parse_error(e.kind()),
                }
            }
            Input::NetlinkOverflow(times) => {
                let mut details = serde_json::Map::new();
                details.insert("socket_overflows".into(), times.into());
                self.system("audit-records-lost", Outcome::Failed, details)?;
            }
            Input::AuditTooLong(len) => {
                self.metrics.parse_error("too_long");
                tracing::warn!(len, "over-long audit line skipped");
            }
            Input::AuditGap {
                lost,
                resumed_at,
                reason,
            } => {
                let details = gap(lost, resumed_at, reason);
                self.system("audit-log-gap", Outcome::Failed, details)?;
            }
            Input::SshdGap {
                lost,
                resumed_at,
                reason,
            } => {
                let details = gap(lost, resumed_at, reason);
                self.system("sshd-log-gap", Outcome::Failed, details)?;
            }
            Input::SshdLine(line, position) => {
                if let Some(cursor) = cursor_of(&line) {
                    self.positions.journald_cursor = Some(cursor.to_string());
                }
                if position.is_some() {
                    self.positions.sshd_file = position;
                }
                self.metrics.sshd_lines.fetch_add(1, Ordering::Relaxed);
                let framed = self.framer.frame(&line);
                if framed.is_err() {
                    self.metrics
                        .sshd_lines_unframed
                        .fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(framed) = framed {
                    if framed.is_from(&self.sshd_programs) {
                        if let Some(fact) = sshd_fact(&framed) {
                            self.tracker.on_sshd(fact);
                        }
                    }
                }
                self.flush_tracker()?;
            }
            Input::SourceFailed(message) => {
                tracing::error!("{message}");
                let mut details = serde_json::Map::new();
                details.insert("error".into(), message.into());
                self.system("source-failed", Outcome::Failed, details)?;
            }
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
        if end.is_none() {
            if let Some(until) = self.positions.stream_dedup_until {
                // Right after a backfill the stream repeats what the log already gave.
                // An event still in flight is always above the high-water mark, so only
                // repeats (and records late beyond the reorder wait) are dropped here.
                if Instant::now() > until {
                    self.positions.stream_dedup_until = None;
                } else if self.reassembler.already_emitted_at(
                    record.node(),
                    record.serial(),
                    record.timestamp().as_millis(),
                ) {
                    self.positions.replay_skipped += 1;
                    return Ok(());
                }
            }
        }
        if let Some(end) = end {
            let positions = &mut self.positions;
            if let Some(until) = positions.replay_until {
                let passed = end.inode == until.inode && end.offset >= until.offset;
                if passed {
                    positions.replay_until = None;
                }
                if self.reassembler.already_emitted_at(
                    record.node(),
                    record.serial(),
                    record.timestamp().as_millis(),
                ) {
                    positions.replay_skipped += 1;
                    return Ok(());
                }
            }
            let key = (record.node().map(str::to_string), record.serial());
            if !positions.in_flight_by_event.contains_key(&key) {
                let start = FilePosition {
                    offset: end.offset.saturating_sub(line_len as u64 + 1),
                    ..end
                };
                let order = positions.next_order;
                positions.next_order += 1;
                positions.in_flight.insert(order, start);
                positions.in_flight_by_event.insert(key, order);
            }
        }
        self.push_record(record)
    }

    fn push_record(&mut self, record: Record) -> anyhow::Result<()> {
        if let Some(previous) = self.previous_boot.as_mut() {
            let time_ms = record.timestamp().as_millis();
            if time_ms >= previous.this_boot_started_ms {
                self.end_previous_boot()?;
            } else {
                previous.alive_ms = previous.alive_ms.max(time_ms);
            }
        }
        let mut outputs = Vec::new();
        self.reassembler
            .push(record, now_ms(), &mut |o| outputs.push(o));
        for output in outputs {
            self.audit_output(output)?;
        }
        self.flush_tracker()
    }

    fn audit_output(&mut self, output: Output) -> anyhow::Result<()> {
        match output {
            Output::Event(event) => {
                self.positions.event_done(event.node(), event.id().serial);
                if let Some((action, details)) = audit_system_action(event.records()) {
                    self.system(action, Outcome::Succeeded, details)?;
                }
                let mut fact = audit_fact(event.records(), &self.names);
                if let Some(redactor) = &self.redactor {
                    redact_fact(&mut fact, redactor);
                }
                self.tracker.on_audit(fact);
            }
            Output::Lost {
                after_serial,
                count,
                ..
            } => {
                let mut details = serde_json::Map::new();
                details.insert("count".into(), count.into());
                details.insert("after_sequence".into(), after_serial.into());
                self.system("audit-records-lost", Outcome::Failed, details)?;
            }
            Output::Late(record) | Output::Overflow(record) => {
                let records = [record];
                let mut fact = audit_fact(&records, &self.names);
                if let Some(redactor) = &self.redactor {
                    redact_fact(&mut fact, redactor);
                }
                self.tracker.on_audit(fact);
            }
        }
        Ok(())
    }

    /// Copies the pipeline's counters to where the metrics endpoint reads them.
    fn publish_stats(&self, now: u64) {
        let m = &self.metrics;
        let set = |a: &std::sync::atomic::AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
        set(&m.heartbeat_ms, now);
        let audit = self.reassembler.stats();
        set(&m.audit_events_lost, audit.lost);
        set(&m.audit_records_late, audit.late);
        set(
            &m.audit_records_replayed_skipped,
            self.positions.replay_skipped,
        );
        let track = self.tracker.stats();
        set(&m.giveup_no_sshd_login, track.giveup_no_sshd_login);
        set(&m.giveup_no_audit_login, track.giveup_no_audit_login);
        set(&m.giveup_buffer_full, track.giveup_buffer_full);
        set(&m.giveup_too_many_sessions, track.giveup_too_many_sessions);
        set(&m.non_ssh_events, track.non_ssh_events);
        if let Some(recorder) = &self.recorder {
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

    /// Makes the output durable, then records how far every source is covered by it.
    fn checkpoint(&mut self) -> anyhow::Result<()> {
        self.flush_tracker()?;
        self.sink.sync()?;
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.sync()?;
        }
        let positions = &self.positions;
        let audit = match (positions.audit_resume(), positions.audit_read) {
            (Some(resume), Some(read_until)) => Some(AuditPosition {
                resume,
                read_until,
                high_water: self.reassembler.high_water(),
            }),
            _ => positions.audit_restored.clone(),
        };
        let mut checkpoint = Checkpoint::new(now_ms());
        checkpoint.audit = audit;
        checkpoint.audit_high_water = self.reassembler.high_water();
        checkpoint.audit_emitted_times = self.reassembler.emitted_times();
        // The session table belongs to the old boot until its sessions are ended: a
        // crash before then must find them again as the old boot's.
        let boot_id = self.previous_boot.as_ref().map_or(&self.boot_id, |p| &p.id);
        checkpoint.boot_id = Some(boot_id.clone());
        checkpoint.journald_cursor = positions.journald_cursor.clone();
        checkpoint.sshd_file = positions.sshd_file;
        checkpoint.tracker = self.tracker.snapshot();
        if let Some(recorder) = self.recorder.as_mut() {
            checkpoint.sessions = recorder.snapshot();
        }
        checkpoint.output = self
            .sink
            .mark()
            .map(|(inode, length)| OutputMark { inode, length });
        checkpoint::save(&self.state_dir, &checkpoint)?;
        self.metrics
            .checkpoint_ms
            .store(checkpoint.saved_at_ms, Ordering::Relaxed);
        Ok(())
    }

    /// Installs `--audit-rules` and says how it went, as a SystemAction: an auditor must
    /// see when the rules the trail depends on could not be installed.
    fn load_audit_rules(&mut self, file: &Path) -> anyhow::Result<()> {
        let mut details = serde_json::Map::new();
        details.insert("file".into(), file.display().to_string().into());
        let parser = sshtrail_audit::rule::RuleParser::default();
        let outcome = match super::kernel::load_rules(&parser, file, true) {
            Ok(report) => {
                details.insert("applied".into(), report.applied.into());
                details.insert("already_present".into(), report.already_present.into());
                if report.failed.is_empty() {
                    Outcome::Succeeded
                } else {
                    tracing::error!(failed = ?report.failed, "audit rules not all loaded");
                    details.insert("errors".into(), report.failed.into());
                    Outcome::Failed
                }
            }
            Err(super::kernel::LoadError::Parse(message)) => {
                tracing::error!("{message}");
                details.insert("errors".into(), vec![message].into());
                Outcome::Failed
            }
            Err(super::kernel::LoadError::Other(e)) => {
                tracing::error!("{e:#}");
                details.insert("errors".into(), vec![format!("{e:#}")].into());
                Outcome::Failed
            }
        };
        self.system("audit-rules-loaded", outcome, details)
    }

    /// Reads auditd's log directory (oldest file first) for events above the
    /// checkpoint's high-water mark: what the plugin or netlink stream missed while
    /// sshtrail was down. Serials that are in neither are reported as lost by the
    /// reassembler; a log that cannot be read at all is reported with the time span.
    fn backfill(&mut self, dir: &Path, since_ms: u64) -> anyhow::Result<()> {
        let mut details = serde_json::Map::new();
        details.insert("since".into(), build::rfc3339(since_ms).into());
        details.insert("until".into(), build::rfc3339(now_ms()).into());
        details.insert("audit_log_dir".into(), dir.display().to_string().into());
        let mut tailer = match AuditDirTailer::open(dir, "audit.log", None, true, MAX_RECORD_LEN) {
            Ok(tailer) => tailer,
            Err(e) => {
                tracing::error!("backfill from {}: {e}", dir.display());
                details.insert("error".into(), e.to_string().into());
                return self.system("audit-backfill-failed", Outcome::Failed, details);
            }
        };
        let (mut read, mut added) = (0u64, 0u64);
        loop {
            match tailer.next_item() {
                Ok(TailItem::Line(line, _)) => {
                    read += 1;
                    let Ok(record) = parse_line(&line) else {
                        continue;
                    };
                    let time_ms = record.timestamp().as_millis();
                    if self
                        .reassembler
                        .already_emitted_at(record.node(), record.serial(), time_ms)
                    {
                        continue;
                    }
                    // The log also holds earlier boots, whose serials may stand above
                    // the mark: a record an hour older than the last event written is
                    // one of theirs (or long written), never one the stream missed.
                    let latest = self.reassembler.latest_emitted_ms(record.node());
                    if latest.is_some_and(|t| time_ms.saturating_add(EARLIER_BOOT_MS) < t) {
                        continue;
                    }
                    added += 1;
                    self.push_record(record)?;
                }
                Ok(TailItem::Idle) => break,
                Ok(TailItem::TooLong { .. } | TailItem::Gap { .. }) => {}
                Err(e) => {
                    details.insert("error".into(), e.to_string().into());
                    break;
                }
            }
        }
        // Events the log holds only the beginning of (auditd was writing them as we
        // read) are completed now; their remaining records on the stream are repeats.
        let mut outputs = Vec::new();
        self.reassembler.finish(&mut |o| outputs.push(o));
        for output in outputs {
            self.audit_output(output)?;
        }
        self.flush_tracker()?;
        self.positions.stream_dedup_until = Some(Instant::now() + Duration::from_secs(60));
        details.insert("records_read".into(), read.into());
        details.insert("records_backfilled".into(), added.into());
        tracing::info!(read, added, "backfilled from the audit log");
        let outcome = if details.contains_key("error") {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        };
        self.system("audit-backfilled", outcome, details)
    }

    /// The host rebooted since the checkpoint: the sessions of the old boot that its
    /// own records did not end are over too. Each gets its `UserLogout` (sealing its
    /// session log), then a `SystemAction` `host-rebooted` says how many there were.
    fn end_previous_boot(&mut self) -> anyhow::Result<()> {
        let Some(previous) = self.previous_boot.take() else {
            return Ok(());
        };
        let (boot_id, alive_ms) = (previous.id.as_str(), previous.alive_ms);
        let ended = self.tracker.end_all(alive_ms, "host rebooted");
        self.flush_tracker()?;
        tracing::info!(previous_boot = boot_id, ended, "old boot's sessions ended");
        let mut details = serde_json::Map::new();
        details.insert("previous_boot_id".into(), boot_id.into());
        details.insert("boot_id".into(), self.boot_id.clone().into());
        details.insert("last_seen_alive".into(), build::rfc3339(alive_ms).into());
        details.insert("sessions_ended".into(), ended.into());
        self.system("host-rebooted", Outcome::Succeeded, details)
    }

    /// Takes up where the previous run's checkpoint left off. Returns the checkpoint's
    /// boot id and save time when that was another boot.
    fn restore(
        &mut self,
        previous: Checkpoint,
        started: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Option<(String, u64)> {
        let down_ms = now_ms().saturating_sub(previous.saved_at_ms);
        started.insert("resumed".into(), true.into());
        started.insert("downtime_seconds".into(), (down_ms as f64 / 1000.0).into());
        if let Some(audit) = &previous.audit {
            self.reassembler.restore_high_water(&audit.high_water);
            self.positions.replay_until = Some(audit.read_until);
        } else {
            self.reassembler
                .restore_high_water(&previous.audit_high_water);
        }
        self.reassembler
            .restore_emitted_times(&previous.audit_emitted_times);
        self.positions.audit_restored = previous.audit;
        self.positions.journald_cursor = previous.journald_cursor;
        self.positions.sshd_file = previous.sshd_file;
        if let Err(e) = self.tracker.restore(previous.tracker) {
            tracing::error!("session table in the checkpoint unreadable: {e}");
            started.insert("sessions_restored".into(), false.into());
        }
        if let Some(recorder) = self.recorder.as_mut() {
            match recorder.restore(previous.sessions) {
                Ok(reopened) => {
                    started.insert("session_logs_reopened".into(), reopened.into());
                }
                Err(e) => {
                    tracing::error!("{e}");
                    started.insert("session_logs_reopened".into(), false.into());
                }
            }
        }
        let saved_at = previous.saved_at_ms;
        previous
            .boot_id
            .filter(|boot| !boot.is_empty() && !self.boot_id.is_empty() && *boot != self.boot_id)
            .map(|boot| (boot, saved_at))
    }

    fn flush_tracker(&mut self) -> anyhow::Result<()> {
        let mut failures = Vec::new();
        for mut event in self.tracker.drain() {
            if let Some(geo) = &self.geo {
                add_geo(geo, &mut event);
            }
            if let Some(recorder) = self.recorder.as_mut() {
                if let Err(e) = recorder.record(&mut event) {
                    tracing::error!("{e}");
                    failures.push(e.to_string());
                }
            }
            self.sink.write_line(&event.to_line())?;
            self.metrics
                .event_written(event_type_name(event.event_type));
        }
        for failure in failures {
            let mut details = serde_json::Map::new();
            details.insert("error".into(), failure.into());
            self.system("session-log-failed", Outcome::Failed, details)?;
        }
        Ok(())
    }

    fn system(
        &mut self,
        action: &str,
        outcome: Outcome,
        details: serde_json::Map<String, serde_json::Value>,
    ) -> anyhow::Result<()> {
        let event = build::system_action(&self.host, now_ms(), action, outcome, details);
        self.sink.write_line(&event.to_line())?;
        self.metrics.event_written("SystemAction");
        Ok(())
    }
}

/// A file that could not be read on (rotated away, its inode reused, or truncated): where
/// reading stopped, and the file it resumed with.
fn gap(
    lost: FilePosition,
    resumed_at: FilePosition,
    reason: GapReason,
) -> serde_json::Map<String, serde_json::Value> {
    let mut details = serde_json::Map::new();
    details.insert("reason".into(), reason.as_str().into());
    details.insert("lost_inode".into(), lost.inode.into());
    details.insert("lost_offset".into(), lost.offset.into());
    details.insert("resumed_inode".into(), resumed_at.inode.into());
    details
}

fn now_ms() -> u64 {
    metrics::now_ms()
}

fn event_type_name(event_type: sshtrail_event::EventType) -> &'static str {
    use sshtrail_event::EventType;
    match event_type {
        EventType::UserLogin => "UserLogin",
        EventType::UserAction => "UserAction",
        EventType::UserLogout => "UserLogout",
        EventType::SystemAction => "SystemAction",
    }
}

/// `target`: `NODE_NAME` or the kernel's host name, and /etc/machine-id.
fn this_host() -> Host {
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

fn open_sink(output: &Path, args: &RunArgs) -> anyhow::Result<Box<dyn Sink>> {
    if output == Path::new("-") {
        return Ok(Box::new(StdoutSink::new()));
    }
    let is_fifo = std::fs::metadata(output)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false);
    if is_fifo {
        return Ok(Box::new(FifoSink::open(output)?));
    }
    let rotation = match args.output_max_bytes.unwrap_or(0) {
        0 => None,
        max_bytes => Some(Rotation {
            max_bytes,
            keep: args.output_keep.unwrap_or(5),
        }),
    };
    Ok(Box::new(FileSink::open(output, rotation)?))
}

fn spawn_audit_dir_source(
    dir: PathBuf,
    resume: Option<FilePosition>,
    tx: SyncSender<Input>,
    shutdown: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut tailer = AuditDirTailer::open(&dir, "audit.log", resume, false, MAX_RECORD_LEN)
        .with_context(|| format!("opening {}/audit.log", dir.display()))?;
    std::thread::Builder::new()
        .name("audit-file".into())
        .spawn(move || {
            while !shutdown.load(Ordering::Relaxed) {
                let input = match tailer.next_item() {
                    Ok(TailItem::Line(line, end)) => Input::AuditLine(line, Some(end)),
                    Ok(TailItem::TooLong { len, .. }) => Input::AuditTooLong(len),
                    Ok(TailItem::Gap {
                        lost,
                        resumed_at,
                        reason,
                    }) => Input::AuditGap {
                        lost,
                        resumed_at,
                        reason,
                    },
                    Ok(TailItem::Idle) => {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    Err(e) => {
                        let _ = tx.send(Input::SourceFailed(format!("audit log: {e}")));
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                if tx.send(input).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

fn spawn_netlink_source(
    unicast: bool,
    tx: SyncSender<Input>,
    shutdown: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    use sshtrail_audit::netlink::AuditClient;
    let mut client = if unicast {
        AuditClient::unicast().context("registering as the audit daemon (is auditd running?)")?
    } else {
        AuditClient::multicast().context("joining the kernel's audit read-log group")?
    };
    std::thread::Builder::new()
        .name("audit-netlink".into())
        .spawn(move || {
            let mut overflows_seen = 0;
            while !shutdown.load(Ordering::Relaxed) {
                let input = match client.receive(Duration::from_millis(200)) {
                    // Netlink replies and control messages are not records.
                    Ok(Some(raw)) if sshtrail_audit::RecordType(raw.msg_type).is_record() => {
                        Input::AuditNetlink(raw.msg_type, raw.payload)
                    }
                    Ok(_) => {
                        let overflows = client.stats().enobufs;
                        if overflows > overflows_seen {
                            let new = overflows - overflows_seen;
                            overflows_seen = overflows;
                            Input::NetlinkOverflow(new)
                        } else {
                            continue;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Input::SourceFailed(format!("netlink: {e}")));
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                if tx.send(input).is_err() {
                    break;
                }
            }
            // Unregisters a unicast daemon so that auditd can take over again.
            let _ = client.close();
        })?;
    Ok(())
}

fn spawn_plugin_source(tx: SyncSender<Input>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut lines = sshtrail_audit::lines::LineReader::new(stdin.lock(), MAX_RECORD_LEN);
        loop {
            let input = match lines.next_line() {
                Ok(Some(sshtrail_audit::lines::Line::Text(line))) => {
                    Input::AuditLine(line.to_vec(), None)
                }
                Ok(Some(sshtrail_audit::lines::Line::TooLong { len })) => Input::AuditTooLong(len),
                Ok(None) => return,
                Err(e) => Input::SourceFailed(format!("plugin stdin: {e}")),
            };
            if tx.send(input).is_err() {
                return;
            }
        }
    });
}

fn spawn_journald_source(
    mut cursor: Option<String>,
    programs: Vec<String>,
    tx: SyncSender<Input>,
    shutdown: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        while !shutdown.load(Ordering::Relaxed) {
            let mut follower = match JournalFollower::spawn(cursor.as_deref(), &programs) {
                Ok(follower) => follower,
                Err(e) => {
                    let _ = tx.send(Input::SourceFailed(format!("journalctl: {e}")));
                    std::thread::sleep(Duration::from_secs(5));
                    continue;
                }
            };
            loop {
                match follower.next_line() {
                    Ok(Some(line)) => {
                        if tx.send(Input::SshdLine(line, None)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Input::SourceFailed(format!("journalctl: {e}")));
                        break;
                    }
                }
            }
            cursor = follower.last_cursor().map(str::to_string);
            // journalctl exited (journald restarted, say): follow again after a pause.
            std::thread::sleep(Duration::from_secs(1));
        }
    });
}

fn spawn_sshd_file_source(
    path: PathBuf,
    fifo: bool,
    resume: Option<FilePosition>,
    tx: SyncSender<Input>,
    shutdown: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    if fifo {
        std::thread::spawn(move || {
            while !shutdown.load(Ordering::Relaxed) {
                // Opening blocks until a writer comes; EOF means the writer went away.
                let Ok(file) = std::fs::File::open(&path) else {
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                };
                for line in BufReader::new(file).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(Input::SshdLine(line, None)).is_err() {
                        return;
                    }
                }
            }
        });
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let base = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("--sshd-log {}: not a file name", path.display()))?
        .to_string();
    // Rotated auth.log siblings (`auth.log.1`) are followed the same way as auditd's.
    let mut tailer = AuditDirTailer::open(&dir, &base, resume, false, MAX_RECORD_LEN)
        .with_context(|| format!("opening {}", path.display()))?;
    std::thread::spawn(move || {
        while !shutdown.load(Ordering::Relaxed) {
            match tailer.next_item() {
                Ok(TailItem::Line(line, end)) => {
                    let line = String::from_utf8_lossy(&line).into_owned();
                    if tx.send(Input::SshdLine(line, Some(end))).is_err() {
                        return;
                    }
                }
                Ok(TailItem::Idle) => std::thread::sleep(Duration::from_millis(50)),
                Ok(TailItem::Gap {
                    lost,
                    resumed_at,
                    reason,
                }) => {
                    let gap = Input::SshdGap {
                        lost,
                        resumed_at,
                        reason,
                    };
                    if tx.send(gap).is_err() {
                        return;
                    }
                }
                // A line longer than any sshd writes: not sshd's.
                Ok(TailItem::TooLong { .. }) => {}
                Err(e) => {
                    let _ = tx.send(Input::SourceFailed(format!("sshd log: {e}")));
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    });
    Ok(())
}
