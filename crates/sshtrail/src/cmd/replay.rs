//! `sshtrail replay`: join captured audit and sshd logs offline and print the events the
//! daemon writes for them (forensics, demos, tests).
//!
//! The same pipeline as the daemon's (`sshtrail::pipeline`), with the captured files as
//! its sources: they are merged by event time, and time advances as the records' own do.
//! Host, machine id, boot and user names come from the logs (`node=`, journald's
//! `_HOSTNAME`, `_MACHINE_ID` and `_BOOT_ID`, syslog's host, ENRICHED fields), never from
//! the machine running the replay.

use anyhow::Context;
use clap::Args;
use sshtrail::daemon::{check_pipeline, open_store, tracker};
use sshtrail::metrics::Metrics;
use sshtrail::pipeline::inputs::{BatchWait, Inputs};
use sshtrail::pipeline::outputs::{Output, Outputs};
use sshtrail::pipeline::{self, drive, Identity, Parts, Pipeline, Timing, Unattended};
use sshtrail::sessions::Recorder;
use sshtrail::settings::{read_config, PipelineLayer};
use sshtrail::source::file::{Contents, FileSource};
use sshtrail::source::Source;
use sshtrail_audit::interpret::NoNames;
use sshtrail_event::sink::StdoutSink;
use sshtrail_event::Host;
use sshtrail_sshd::{Format, Framer, TimeZone, Timestamp};
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Sample logs captured from a real auditd and sshd by `scripts/capture-examples`; used
/// when no log is named.
const SAMPLE_AUDIT: &str = include_str!("../../../../examples/sshd-session.audit.log");
const SAMPLE_SSHD: &str = include_str!("../../../../examples/sshd-session.journal.json");

#[derive(Args)]
pub struct ReplayArgs {
    /// Audit logs (auditd's format, RAW or ENRICHED). With neither this nor --sshd-log,
    /// the bundled sample session is replayed.
    #[arg(long = "audit-log", num_args = 1..)]
    audit_logs: Vec<PathBuf>,
    /// sshd logs (journalctl -o json, syslog files, or fifo lines).
    #[arg(long = "sshd-log", num_args = 1..)]
    sshd_logs: Vec<PathBuf>,
    /// Format of the sshd logs: auto (guessed from each file's first line), journal-json,
    /// syslog, fifo.
    #[arg(long, default_value = "auto", value_parser = ["auto", "journal-json", "syslog", "fifo"])]
    sshd_format: String,
    /// A daemon configuration file: its pipeline settings (sshd programs, time zone,
    /// join waits, redaction, session storage, GeoIP) apply, the rest is ignored.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also send every event to this sink, as the daemon does (`file:///…`, `nats://…`,
    /// `s3-lake://…`; repeat the flag): backfilling a host's old logs into the stream or
    /// the lake. Replay ends once every sink holds every event (exit 1 if one could not
    /// take them within --sink-wait-seconds; what is left stays in --state-dir's spool).
    #[arg(long = "sink")]
    sinks: Vec<sshtrail::sinks::SinkSpec>,
    /// Where remote sinks spool (default: a temporary directory, removed when all went).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// How long replay waits for its sinks at the end.
    #[arg(long, default_value_t = 600)]
    sink_wait_seconds: u64,
    #[command(flatten)]
    pipeline: PipelineLayer,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let mut layer = args.pipeline;
    if let Some(path) = &args.config {
        match read_config(path) {
            Ok((file, _)) => layer = layer.or(file),
            Err(e) => {
                eprintln!("sshtrail: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let settings = layer.resolve();
    let checked = match check_pipeline(&settings) {
        Ok(checked) => checked,
        Err(message) => {
            eprintln!("sshtrail: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let spool = std::env::temp_dir().join(format!("sshtrail-replay-spool-{}", std::process::id()));
    let store = match open_store(&settings.session_storage, Some(spool.clone())) {
        Ok(store) => store,
        Err(message) => {
            eprintln!("sshtrail: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let format = Format::from_name(&args.sshd_format);
    // RFC 3164 stamps have no year: a captured file's lines are read as the year that
    // puts them before its last change (any time before it, for the bundled sample).
    let syslog_reference = args
        .sshd_logs
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok()?.modified().ok())
        .max()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)));
    let mut scan = Scan::default();
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let sample = args.audit_logs.is_empty() && args.sshd_logs.is_empty();
    if sample {
        scan.audit(SAMPLE_AUDIT.as_bytes());
        scan.sshd(SAMPLE_SSHD.as_bytes(), format, &checked.tz, None);
        sources.push(file_source(
            "sample audit log",
            SAMPLE_AUDIT,
            Contents::Audit,
            &checked.tz,
        ));
        sources.push(file_source(
            "sample journal",
            SAMPLE_SSHD,
            Contents::Sshd(format),
            &checked.tz,
        ));
    } else {
        for path in &args.audit_logs {
            let input = open(path, |head| scan.audit(head))?;
            sources.push(Box::new(FileSource::new(
                path.display().to_string(),
                input,
                Contents::Audit,
                checked.tz.clone(),
                None,
            )));
        }
        for path in &args.sshd_logs {
            let input = open(path, |head| {
                scan.sshd(head, format, &checked.tz, syslog_reference)
            })?;
            sources.push(Box::new(FileSource::new(
                path.display().to_string(),
                input,
                Contents::Sshd(format),
                checked.tz.clone(),
                syslog_reference,
            )));
        }
    }
    let metrics = Arc::new(Metrics::default());
    let sink = StdoutSink::new();
    let mut all = vec![Output::new("output", Box::new(sink), None)];
    // Nothing more will come: a remote sink sends each batch at once rather than wait
    // for it to fill.
    let specs: Vec<sshtrail::sinks::SinkSpec> = args
        .sinks
        .iter()
        .cloned()
        .map(|mut spec| {
            spec.batch_seconds.get_or_insert(0);
            spec
        })
        .collect();
    let temporary_state = args.state_dir.is_none();
    let state_dir = args.state_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sshtrail-replay-sinks-{}", std::process::id()))
    });
    let mut forwarders = Vec::new();
    if !specs.is_empty() {
        if let Err(message) = sshtrail::sinks::check(&specs) {
            eprintln!("sshtrail: {message}");
            return Ok(ExitCode::from(2));
        }
        let context = sshtrail::sinks::Context {
            state_dir: &state_dir,
            marks: &[],
            host: &scan.host.name,
        };
        for opened in sshtrail::sinks::open_all(&specs, &context)? {
            if let Some(forwarder) = opened.forwarder {
                forwarders.push((opened.name.clone(), forwarder));
            }
            all.push(Output::new(opened.name, opened.sink, opened.watch));
        }
    }
    let mut outputs = Outputs::with_sinks(all, Arc::clone(&metrics));
    outputs.geo = checked.geo;
    outputs.recorder = store.map(|store| {
        let mut recorder = Recorder::new(store, &scan.boot_id);
        recorder.keep_reused_ids_apart();
        recorder
    });
    let mut pipeline = Pipeline::new(Parts {
        tracker: tracker(&settings),
        outputs,
        identity: Identity::FromLogs,
        boot_id: scan.boot_id.clone(),
        names: Box::new(NoNames),
        redactor: checked.redactor,
        sftp_programs: checked.sftp_programs,
        sshd_programs: checked.programs,
        tz: checked.tz,
        syslog_reference,
        timing: Timing::Replay { records: 0 },
        metrics,
    });
    pipeline.host = scan.host;
    let mut inputs = Inputs::start(
        sources,
        Arc::new(AtomicBool::new(false)),
        BatchWait::All(Duration::ZERO),
    )?;
    drive(&mut pipeline, &mut inputs, &mut Unattended)?;
    pipeline.finish()?;
    if !forwarders.is_empty() {
        // What the spools hold is all there is: durable, then free to go.
        pipeline.outputs.sync()?;
        pipeline.outputs.commit();
        let wait = Duration::from_secs(args.sink_wait_seconds);
        if !sshtrail::sinks::stop_all(forwarders, wait) {
            eprintln!(
                "sshtrail: a sink did not take every event within {}s; the rest waits in {}",
                args.sink_wait_seconds,
                state_dir.display()
            );
            return Ok(ExitCode::from(1));
        }
        if temporary_state {
            let _ = std::fs::remove_dir_all(&state_dir);
        }
    }
    if let Some(recorder) = &pipeline.outputs.recorder {
        let stats = recorder.stats();
        tracing::info!(?stats, open = recorder.open_logs(), "session logs written");
        let report = recorder.shutdown(Duration::from_secs(600));
        if !report.is_clean() {
            eprintln!(
                "sshtrail: {} session log(s) not uploaded yet; they wait in {}",
                report.pending.len(),
                spool.display()
            );
            return Ok(ExitCode::from(1));
        }
        if stats.write_failures > 0 {
            eprintln!(
                "sshtrail: {} session log write(s) failed",
                stats.write_failures
            );
            return Ok(ExitCode::from(1));
        }
    }
    let unframed = pipeline
        .metrics
        .sshd_lines_unframed
        .load(std::sync::atomic::Ordering::Relaxed);
    if unframed > 0 {
        tracing::warn!(
            unframed,
            "sshd log lines that could not be framed were skipped"
        );
    }
    let stats = pipeline.tracker.stats();
    tracing::info!(?stats, "replay done");
    Ok(ExitCode::SUCCESS)
}

fn file_source(
    name: &str,
    text: &'static str,
    contents: Contents,
    tz: &TimeZone,
) -> Box<dyn Source> {
    Box::new(FileSource::new(
        name.to_string(),
        Box::new(text.as_bytes()),
        contents,
        tz.clone(),
        None,
    ))
}

/// How much of a file's beginning is looked at for whose logs they are.
const HEAD: usize = 64 * 1024;

/// Opens a named input (`-`: standard input), showing its beginning to `scan` first.
fn open(path: &PathBuf, scan: impl FnOnce(&[u8])) -> anyhow::Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let name = path.display();
    let mut file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {name}"))?;
    scan(&head);
    let rest = File::open(path).with_context(|| format!("cannot open {name}"))?;
    Ok(Box::new(rest))
}

/// Whose logs they are, from their first lines: the events of the whole replay carry it,
/// even those written before a line that says it.
#[derive(Default)]
struct Scan {
    host: Host,
    boot_id: String,
}

impl Scan {
    fn audit(&mut self, head: &[u8]) {
        if !self.host.name.is_empty() {
            return;
        }
        for line in head.split(|b| *b == b'\n') {
            if let Ok(record) = sshtrail_audit::parse_line(line) {
                if let Some(node) = record.node() {
                    self.host.name = node.to_string();
                }
                return;
            }
        }
    }

    fn sshd(
        &mut self,
        head: &[u8],
        format: Option<Format>,
        tz: &TimeZone,
        reference: Option<Timestamp>,
    ) {
        let mut framer: Option<Framer> = format.map(|f| pipeline::framer(f, tz, reference));
        for line in head.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if framer.is_none() {
                framer = Format::detect(&String::from_utf8_lossy(line))
                    .map(|f| Framer::new(f, tz.clone()));
            }
            let Some(framed) = framer.as_ref().and_then(|f| f.frame_bytes(line).ok()) else {
                continue;
            };
            if !framed.is_sshd() {
                continue;
            }
            let fill = |slot: &mut String, value: Option<&str>| {
                if slot.is_empty() {
                    if let Some(value) = value {
                        *slot = value.to_string();
                    }
                }
            };
            fill(&mut self.host.name, framed.host.as_deref());
            fill(&mut self.host.machine_id, framed.machine_id.as_deref());
            fill(&mut self.boot_id, framed.boot_id.as_deref());
            let journal = framed.cursor.is_some();
            let known = !self.host.name.is_empty()
                && (!journal || (!self.host.machine_id.is_empty() && !self.boot_id.is_empty()));
            if known {
                return;
            }
        }
    }
}
