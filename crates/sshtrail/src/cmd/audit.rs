//! `sshtrail audit parse`: audit records → JSON lines (records, or coalesced events).

use super::open_inputs;
use clap::{Args, Subcommand};
use sshtrail_audit::interpret::{NameResolver, NoNames, SystemNames};
use sshtrail_audit::lines::{Line, LineReader};
use sshtrail_audit::parse::MAX_RECORD_LEN;
use sshtrail_audit::reassemble::{Output, Reassembler};
use sshtrail_audit::{json, parse_line, Record};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Parse auditd log lines into JSON: one object per record, or per event with
    /// --coalesce. A line that is not a record prints {"error": …, "line": n}.
    Parse(ParseArgs),
    /// The kernel audit status over netlink, as JSON (the values `auditctl -s` shows).
    Status,
    /// The kernel's audit rules over netlink, in auditctl's syntax.
    Rules {
        #[command(subcommand)]
        command: super::kernel::RulesCommand,
    },
}

#[derive(Args)]
pub struct ParseArgs {
    /// Group records into events and print one normalized object per event.
    #[arg(long)]
    coalesce: bool,
    /// Where user and group names come from when a log has no ENRICHED translations:
    /// `system` (this machine's /etc/passwd and /etc/group) or `none` (numbers only; use
    /// it for logs from other machines).
    #[arg(long, default_value = "system", value_parser = ["system", "none"])]
    names: String,
    /// Log files to read (`-` or none: standard input).
    files: Vec<PathBuf>,
}

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Parse(args) => parse(args),
        AuditCommand::Status => super::kernel::status(),
        AuditCommand::Rules { command } => super::kernel::rules(command),
    }
}

/// Counts for the closing summary on stderr.
#[derive(Default)]
struct Tally {
    records: u64,
    errors: u64,
}

fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let resolver: Box<dyn NameResolver> = match args.names.as_str() {
        "none" => Box::new(NoNames),
        _ => Box::new(SystemNames::new()),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf = Vec::with_capacity(4096);
    let mut tally = Tally::default();
    let mut events = EventPrinter::new(args.coalesce);

    for (name, input) in open_inputs(&args.files)? {
        let mut lines = LineReader::new(input, MAX_RECORD_LEN);
        while let Some(line) = lines
            .next_line()
            .map_err(|e| anyhow::anyhow!("reading {name}: {e}"))?
        {
            let result = match line {
                Line::Text(text) => parse_line(text).map_err(|e| (e.kind(), e.to_string())),
                Line::TooLong { len } => Err((
                    "too_long",
                    format!("line of {len} bytes is longer than {MAX_RECORD_LEN}"),
                )),
            };
            buf.clear();
            match result {
                Ok(record) => {
                    tally.records += 1;
                    if args.coalesce {
                        events.push(record, &mut buf, resolver.as_ref());
                    } else {
                        json::write_record(&mut buf, &record, resolver.as_ref());
                        buf.push(b'\n');
                    }
                }
                Err((kind, message)) => {
                    tally.errors += 1;
                    buf.extend_from_slice(b"{\"error\":");
                    json::write_str(&mut buf, &message);
                    buf.extend_from_slice(b",\"kind\":");
                    json::write_str(&mut buf, kind);
                    buf.extend_from_slice(b",\"file\":");
                    json::write_str(&mut buf, &name);
                    buf.extend_from_slice(b",\"line\":");
                    buf.extend_from_slice(lines.line_number().to_string().as_bytes());
                    buf.extend_from_slice(b"}\n");
                }
            }
            out.write_all(&buf)?;
        }
    }
    buf.clear();
    events.finish(&mut buf, resolver.as_ref());
    out.write_all(&buf)?;
    out.flush()?;
    if tally.errors > 0 {
        tracing::warn!(
            records = tally.records,
            errors = tally.errors,
            "some lines were not audit records"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reassembles records into events and prints each as it completes.
struct EventPrinter {
    reassembler: Option<Reassembler>,
    /// Records read so far: the reassembler's clock for files (see its docs).
    clock: u64,
}

impl EventPrinter {
    fn new(enabled: bool) -> Self {
        EventPrinter {
            reassembler: enabled.then(Reassembler::default),
            clock: 0,
        }
    }

    fn push(&mut self, record: Record, out: &mut Vec<u8>, resolver: &dyn NameResolver) {
        let Some(reassembler) = self.reassembler.as_mut() else {
            return;
        };
        self.clock += 1;
        reassembler.push(record, self.clock, &mut |o| print_output(o, out, resolver));
    }

    fn finish(&mut self, out: &mut Vec<u8>, resolver: &dyn NameResolver) {
        let Some(reassembler) = self.reassembler.as_mut() else {
            return;
        };
        reassembler.finish(&mut |o| print_output(o, out, resolver));
        let stats = reassembler.stats();
        if stats.lost + stats.late + stats.overflow > 0 {
            tracing::warn!(
                lost = stats.lost,
                late = stats.late,
                overflow = stats.overflow,
                "the log has holes: serials that never arrived, or records after their event"
            );
        }
    }
}

fn print_output(output: Output, out: &mut Vec<u8>, resolver: &dyn NameResolver) {
    match output {
        Output::Event(event) => {
            crate::cmd::coalesced::write_event(out, event.records(), resolver);
            out.push(b'\n');
        }
        Output::Lost {
            node,
            after_serial,
            count,
        } => {
            tracing::warn!(?node, after_serial, count, "audit events lost");
        }
        Output::Late(record) | Output::Overflow(record) => {
            tracing::warn!(
                serial = record.serial(),
                "record arrived after its event was printed; printed alone"
            );
            crate::cmd::coalesced::write_event(out, std::slice::from_ref(&record), resolver);
            out.push(b'\n');
        }
    }
}
