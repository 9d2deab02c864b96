//! `sshtrail sshd parse`: sshd log lines in, one JSON object per message out.

use clap::Subcommand;
use serde::Serialize;
use sshtrail_sshd::{parse, Format, Framed, Framer, Kind, Message, TimeZone};
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SshdCommand {
    /// Parse sshd log lines (journalctl -o json, syslog files, or `<pid> <message>` fifo
    /// lines) and print one JSON object per recognised message.
    Parse {
        /// Input format: auto (guess from each input's first line), journal-json, syslog,
        /// fifo.
        #[arg(long, default_value = "auto", value_parser = ["auto", "journal-json", "syslog", "fifo"])]
        format: String,
        /// Time zone of RFC 3164 syslog timestamps (which carry none): local (the machine's,
        /// from $TZ or /etc/localtime), UTC, an offset such as +02:00, or a zoneinfo name.
        #[arg(long, default_value = "local")]
        timezone: String,
        /// Also print messages that are not recognised, as kind "other".
        #[arg(long)]
        all: bool,
        /// Input files; `-` or none reads standard input.
        files: Vec<PathBuf>,
    },
}

pub fn run(command: SshdCommand) -> anyhow::Result<ExitCode> {
    match command {
        SshdCommand::Parse {
            format,
            timezone,
            all,
            files,
        } => {
            let tz = match TimeZone::from_setting(&timezone) {
                Ok(tz) => tz,
                Err(e) => {
                    eprintln!("sshtrail: --timezone: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let format = Format::from_name(&format);
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let mut stats = Stats::default();
            for (name, input) in super::open_inputs(&files)? {
                if let Err(e) = parse_input(input, format, &tz, all, &mut out, &mut stats) {
                    // A closed stdout (`| head`) stays a bare io::Error so main exits quietly.
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return Err(e.into());
                    }
                    return Err(anyhow::Error::from(e).context(format!("reading {name}")));
                }
            }
            out.flush()?;
            eprintln!(
                "sshtrail: {} lines, {} printed, {} not from sshd, {} bad",
                stats.lines, stats.printed, stats.not_sshd, stats.bad
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Default)]
struct Stats {
    lines: u64,
    printed: u64,
    not_sshd: u64,
    bad: u64,
}

fn parse_input(
    mut input: Box<dyn BufRead>,
    format: Option<Format>,
    tz: &TimeZone,
    all: bool,
    out: &mut impl Write,
    stats: &mut Stats,
) -> io::Result<()> {
    let mut framer: Option<Framer> = format.map(|f| make_framer(f, tz));
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line_no += 1;
        stats.lines += 1;
        // sshd escapes what it logs, so invalid UTF-8 is damage; keep the readable part.
        let line = String::from_utf8_lossy(&buf);
        if line.trim().is_empty() {
            continue;
        }
        let framer = match &framer {
            Some(f) => f,
            None => match Format::detect(&line) {
                Some(f) => framer.insert(make_framer(f, tz)),
                None => continue,
            },
        };
        let framed = match framer.frame(&line) {
            Ok(f) => f,
            Err(e) => {
                stats.bad += 1;
                serde_json::to_writer(
                    &mut *out,
                    &BadLine {
                        error: e.to_string(),
                        line: line_no,
                    },
                )
                .map_err(io::Error::from)?;
                out.write_all(b"\n")?;
                continue;
            }
        };
        if !framed.is_sshd() {
            stats.not_sshd += 1;
            continue;
        }
        let message = parse(&framed.message);
        if message.event.kind() == Kind::Other && !all {
            continue;
        }
        serde_json::to_writer(&mut *out, &Record::new(&framed, &message))
            .map_err(io::Error::from)?;
        out.write_all(b"\n")?;
        stats.printed += 1;
    }
}

fn make_framer(format: Format, tz: &TimeZone) -> Framer {
    Framer::new(format, tz.clone())
}

#[derive(Serialize)]
struct BadLine {
    error: String,
    line: u64,
}

/// One output line. Every key is always present (null when the message lacks it), so
/// consumers can rely on the shape.
#[derive(Serialize)]
struct Record<'a> {
    kind: &'static str,
    timestamp: Option<String>,
    host: Option<&'a str>,
    pid: Option<u32>,
    program: Option<&'a str>,
    user: Option<&'a str>,
    invalid_user: bool,
    ip: Option<String>,
    port: Option<u16>,
    method: Option<&'a str>,
    key_type: Option<&'a str>,
    fingerprint: Option<&'a str>,
    cert_id: Option<&'a str>,
    cert_serial: Option<u64>,
    ca_key_type: Option<&'a str>,
    ca_fingerprint: Option<&'a str>,
    preauth: bool,
    reason: Option<&'a str>,
    message: &'a str,
    cursor: Option<&'a str>,
    boot_id: Option<&'a str>,
    machine_id: Option<&'a str>,
}

impl<'a> Record<'a> {
    fn new(framed: &'a Framed<'a>, message: &Message<'a>) -> Record<'a> {
        let f = message.fields();
        Record {
            kind: message.event.kind().as_str(),
            timestamp: framed.timestamp.map(|t| t.to_rfc3339()),
            host: framed.host.as_deref(),
            pid: framed.pid,
            program: framed.program.as_deref(),
            user: f.user,
            invalid_user: f.invalid_user,
            ip: f
                .ip
                .map(|ip| ip.to_string())
                .or_else(|| f.host.map(str::to_string)),
            port: f.port,
            method: f.method,
            key_type: f.key_type,
            fingerprint: f.fingerprint,
            cert_id: f.cert.map(|c| c.id),
            cert_serial: f.cert.map(|c| c.serial),
            ca_key_type: f.cert.map(|c| c.ca_key_type),
            ca_fingerprint: f.cert.map(|c| c.ca_fingerprint),
            preauth: message.preauth,
            reason: f.reason,
            message: framed.message.as_ref(),
            cursor: framed.cursor.as_deref(),
            boot_id: framed.boot_id.as_deref(),
            machine_id: framed.machine_id.as_deref(),
        }
    }
}
