//! `sshtrail replay`: join captured audit and sshd logs offline and print the events the
//! daemon would have written (forensics, demos, tests).
//!
//! Both sides are read completely, reduced to tracker facts, merged by event time and fed
//! to the same tracker the daemon uses, with time advancing as the events' own times do.
//! Host, machine id and user names come from the logs (`node=`, journald's `_HOSTNAME`
//! and `_MACHINE_ID`, ENRICHED fields), never from the machine running the replay.

use super::open_inputs;
use anyhow::Context;
use clap::Args;
use sshtrail::enrich::add_geo;
use sshtrail::geoip::GeoIp;
use sshtrail::sessions::Recorder;
use sshtrail::track::facts::{AuditFact, SshdFact};
use sshtrail::track::from_audit::{audit_fact, redact_fact};
use sshtrail::track::from_sshd::sshd_fact;
use sshtrail::track::redact::Redactor;
use sshtrail::track::system::audit_system_action;
use sshtrail::track::{build, Config, Tracker};
use sshtrail_audit::interpret::NoNames;
use sshtrail_audit::lines::{Line, LineReader};
use sshtrail_audit::parse::MAX_RECORD_LEN;
use sshtrail_audit::parse_line;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_event::{AuditEvent, Host, Outcome};
use sshtrail_sessionstore::Options as StoreOptions;
use sshtrail_sshd::{Format, Framer, TimeZone};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
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
    /// Time zone of RFC 3164 syslog time stamps: local, UTC, +02:00 or a zoneinfo name.
    #[arg(long, default_value = "local")]
    timezone: String,
    /// How long (ms of event time) one side of a login waits for the other.
    #[arg(long, default_value_t = 10_000)]
    join_deadline_ms: u64,
    /// Mask secrets in command lines, as the daemon does.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    redact: bool,
    /// Also write each session's log to this store, as the daemon does (`file:///DIR`
    /// or `s3://BUCKET/PREFIX?…`; uploads finish before replay exits).
    #[arg(long)]
    session_storage: Option<String>,
    /// A MaxMind-format GeoIP City or Country database (adds `data.geo` to UserLogin).
    #[arg(long)]
    geoip_db: Option<PathBuf>,
    /// A MaxMind-format ASN database.
    #[arg(long)]
    geoip_asn_db: Option<PathBuf>,
}

/// A fact from either side, with its event time, for merging.
enum Fact {
    Sshd(SshdFact),
    Audit(Box<AuditFact>),
    System(AuditEvent),
    /// journald says a new boot began: session logs opened from here on are its.
    Boot(String),
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let tz = match TimeZone::from_setting(&args.timezone) {
        Ok(tz) => tz,
        Err(e) => {
            eprintln!("sshtrail: --timezone: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let format = Format::from_name(&args.sshd_format);
    let geo = match &args.geoip_db {
        Some(path) => match GeoIp::open(path, args.geoip_asn_db.as_deref()) {
            Ok(geo) => Some(geo),
            Err(e) => {
                eprintln!("sshtrail: --geoip-db: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let spool = std::env::temp_dir().join(format!("sshtrail-replay-spool-{}", std::process::id()));
    let store = match args.session_storage.as_deref() {
        None | Some("none") => None,
        Some(url) => {
            let options = StoreOptions {
                spool_dir: Some(spool.clone()),
                ..StoreOptions::default()
            };
            match sshtrail_sessionstore::open(url, &options) {
                Ok(store) => Some(store),
                Err(e) => {
                    eprintln!("sshtrail: --session-storage: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    let mut host = Host::default();
    let mut boot_id = String::new();
    let mut facts: Vec<(u64, Fact)> = Vec::new();

    let redactor = args.redact.then(Redactor::default);
    if args.audit_logs.is_empty() && args.sshd_logs.is_empty() {
        read_audit(SAMPLE_AUDIT.as_bytes(), &mut host, &mut facts)?;
        read_sshd(
            SAMPLE_SSHD.as_bytes(),
            format,
            &tz,
            &mut host,
            &mut boot_id,
            &mut facts,
        )?;
    } else {
        for (name, input) in open_inputs(&args.audit_logs)? {
            read_audit(input, &mut host, &mut facts).with_context(|| format!("reading {name}"))?;
        }
        for (name, input) in open_inputs(&args.sshd_logs)? {
            read_sshd(input, format, &tz, &mut host, &mut boot_id, &mut facts)
                .with_context(|| format!("reading {name}"))?;
        }
    }
    // Stable: facts with equal times keep their reading order.
    facts.sort_by_key(|(time, _)| *time);

    let config = Config {
        join_deadline_ms: args.join_deadline_ms,
        ..Config::default()
    };
    let mut tracker = Tracker::new(config, host.clone());
    let mut recorder = store.map(|store| {
        let mut recorder = Recorder::new(store, &boot_id);
        recorder.keep_reused_ids_apart();
        recorder
    });
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut line = Vec::with_capacity(4096);
    let mut emit = |out: &mut io::BufWriter<io::StdoutLock>,
                    recorder: &mut Option<Recorder>,
                    mut event: AuditEvent| {
        if let Some(geo) = &geo {
            add_geo(geo, &mut event);
        }
        if let Some(recorder) = recorder.as_mut() {
            if let Err(e) = recorder.record(&mut event) {
                tracing::error!("{e}");
            }
        }
        line.clear();
        event.write_line(&mut line);
        out.write_all(&line)
    };
    for (time, fact) in facts {
        tracker.tick(time);
        match fact {
            Fact::Sshd(fact) => tracker.on_sshd(fact),
            Fact::Audit(mut fact) => {
                if let Some(redactor) = &redactor {
                    redact_fact(&mut fact, redactor);
                }
                tracker.on_audit(*fact)
            }
            Fact::System(mut event) => {
                event.target = build_target(&host);
                out.write_all(&event.to_line())?;
            }
            Fact::Boot(id) => {
                if let Some(recorder) = recorder.as_mut() {
                    recorder.set_boot_id(&id);
                }
            }
        }
        for event in tracker.drain() {
            emit(&mut out, &mut recorder, event)?;
        }
    }
    // Each event is written as the end of input settles it, not gathered first: a
    // replay of many open sessions would otherwise hold all their events at once.
    tracker.finish_with(|event| emit(&mut out, &mut recorder, event))?;
    out.flush()?;
    if let Some(recorder) = &recorder {
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
    let stats = tracker.stats();
    tracing::info!(?stats, "replay done");
    Ok(ExitCode::SUCCESS)
}

fn build_target(host: &Host) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        ("host".to_string(), host.name.clone()),
        ("machine-id".to_string(), host.machine_id.clone()),
    ])
}

fn read_audit(
    input: impl io::BufRead,
    host: &mut Host,
    facts: &mut Vec<(u64, Fact)>,
) -> anyhow::Result<()> {
    let mut lines = LineReader::new(input, MAX_RECORD_LEN);
    let mut reassembler = Reassembler::default();
    let mut clock = 0u64;
    let mut last_time = 0u64;
    let mut bad = 0u64;
    let mut handle = |output: Output, host: &mut Host, last_time: u64| match output {
        Output::Event(event) => {
            if host.name.is_empty() {
                if let Some(node) = event.node() {
                    host.name = node.to_string();
                }
            }
            let time = event.id().timestamp.as_millis();
            if let Some((action, details)) = audit_system_action(event.records()) {
                let outcome = Outcome::Succeeded;
                let system = build::system_action(host, time, action, outcome, details);
                facts.push((time, Fact::System(system)));
            }
            let fact = audit_fact(event.records(), &NoNames);
            facts.push((fact.time_ms, Fact::Audit(Box::new(fact))));
        }
        Output::Lost {
            after_serial,
            count,
            ..
        } => {
            let mut details = serde_json::Map::new();
            details.insert("count".into(), count.into());
            details.insert("after_sequence".into(), after_serial.into());
            let system = build::system_action(
                host,
                last_time,
                "audit-records-lost",
                Outcome::Failed,
                details,
            );
            facts.push((last_time, Fact::System(system)));
        }
        Output::Late(record) | Output::Overflow(record) => {
            let records = [record];
            let fact = audit_fact(&records, &NoNames);
            facts.push((fact.time_ms, Fact::Audit(Box::new(fact))));
        }
    };
    while let Some(line) = lines.next_line()? {
        let Line::Text(text) = line else {
            bad += 1;
            continue;
        };
        match parse_line(text) {
            Ok(record) => {
                clock += 1;
                last_time = last_time.max(record.timestamp().as_millis());
                reassembler.push(record, clock, &mut |o| handle(o, host, last_time));
            }
            Err(_) => bad += 1,
        }
    }
    reassembler.finish(&mut |o| handle(o, host, last_time));
    if bad > 0 {
        tracing::warn!(bad, "audit log lines that are not records were skipped");
    }
    Ok(())
}

fn read_sshd(
    input: impl io::BufRead,
    format: Option<Format>,
    tz: &TimeZone,
    host: &mut Host,
    boot_id: &mut String,
    facts: &mut Vec<(u64, Fact)>,
) -> anyhow::Result<()> {
    let mut last_boot = String::new();
    let mut lines = LineReader::new(input, MAX_RECORD_LEN);
    let mut framer: Option<Framer> = format.map(|f| Framer::new(f, tz.clone()));
    let mut bad = 0u64;
    while let Some(line) = lines.next_line()? {
        let Line::Text(text) = line else {
            bad += 1;
            continue;
        };
        if framer.is_none() {
            let sample = String::from_utf8_lossy(text);
            framer = Format::detect(&sample).map(|f| Framer::new(f, tz.clone()));
        }
        let Some(framer) = framer.as_ref() else {
            continue;
        };
        let Ok(framed) = framer.frame_bytes(text) else {
            bad += 1;
            continue;
        };
        if !framed.is_sshd() {
            continue;
        }
        if host.name.is_empty() {
            if let Some(name) = &framed.host {
                host.name = name.to_string();
            }
        }
        if host.machine_id.is_empty() {
            if let Some(id) = &framed.machine_id {
                host.machine_id = id.to_string();
            }
        }
        if let Some(id) = framed.boot_id.as_deref().filter(|id| *id != last_boot) {
            if boot_id.is_empty() {
                *boot_id = id.to_string();
            }
            // Later boots in the same journal: their sessions' logs carry their boot.
            if !last_boot.is_empty() {
                if let Some(time_ms) = framed.timestamp.map(|t| {
                    (t.unix_seconds().max(0) as u64) * 1000 + u64::from(t.subsec_micros() / 1000)
                }) {
                    facts.push((time_ms, Fact::Boot(id.to_string())));
                }
            }
            last_boot = id.to_string();
        }
        if let Some(fact) = sshd_fact(&framed) {
            facts.push((fact.time_ms(), Fact::Sshd(fact)));
        }
    }
    if bad > 0 {
        tracing::warn!(bad, "sshd log lines that could not be framed were skipped");
    }
    Ok(())
}
