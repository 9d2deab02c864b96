//! `sshtrail sessions`: list, show, export and verify the session logs in a store.
//!
//! The store is given as a URL, the same the daemon writes to (`--session-storage`):
//! `file:///var/lib/sshtrail/sessions` or `s3://bucket/prefix?endpoint=…&region=…`.

use anyhow::Context;
use clap::{Args, Subcommand};
use sshtrail_sessionlog::{export, verify, Reader};
use sshtrail_sessionstore::{Filter, Options, SessionMeta, Store};
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the daemon's packaged configuration keeps session logs.
pub const DEFAULT_STORAGE: &str = "file:///var/lib/sshtrail/sessions";

#[derive(Args)]
pub struct StorageArg {
    /// The store: `file:///DIR` or `s3://BUCKET/PREFIX?endpoint=…&region=…`
    /// [default: $SSHTRAIL_SESSION_STORAGE, else file:///var/lib/sshtrail/sessions]
    #[arg(long, global = true)]
    storage: Option<String>,
}

#[derive(Subcommand)]
pub enum SessionsCommand {
    /// One JSON object per session: id, user, source, host, start, end (and digest), oldest
    /// first. From S3 it reads the store's session index: key listings only.
    List(ListArgs),
    /// Adds the session index entries a store written before the index lacks (S3), then
    /// marks the index complete; safe beside running daemons, and to run again.
    Reindex,
    /// A session's metadata and its timeline, for reading.
    Show { id: String },
    /// A session's log as JSON lines, a text timeline, or an asciinema v2 recording.
    Export {
        id: String,
        #[arg(long, default_value = "json", value_parser = ["json", "text", "asciinema"])]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Plays a session's terminal output here, at the pace it was recorded: what the user
    /// saw, as they saw it (the recorded bytes go to this terminal as they are).
    Play {
        id: String,
        /// How much faster than recorded (2: twice as fast).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Pauses longer than this many seconds are cut to it.
        #[arg(long, default_value_t = 2.0)]
        idle_limit: f64,
    },
    /// Checks the log's hash chain end to end, and that its final digest is the one
    /// recorded at logout (the sidecar's, and `--digest` when given: the
    /// `session_log_digest` of the session's UserLogout event). Exit 0 when it holds,
    /// 1 when it does not.
    Verify {
        id: String,
        /// The digest the UserLogout event carried (`sha256:…`).
        #[arg(long)]
        digest: Option<String>,
    },
}

/// Which sessions `list` prints (each given one must match).
#[derive(Args)]
pub struct ListArgs {
    /// Sessions of this account.
    #[arg(long)]
    user: Option<String>,
    /// Sessions on this host (its name as the session records it).
    #[arg(long)]
    host: Option<String>,
    /// Sessions that started on this UTC day (YYYY-MM-DD): --since DAY --until DAY.
    #[arg(long, conflicts_with_all = ["since", "until"])]
    day: Option<String>,
    /// Sessions that started on this UTC day or later.
    #[arg(long)]
    since: Option<String>,
    /// Sessions that started on this UTC day or earlier.
    #[arg(long)]
    until: Option<String>,
}

impl ListArgs {
    fn filter(self) -> Filter {
        Filter {
            user: self.user,
            host: self.host,
            since: self.day.clone().or(self.since),
            until: self.day.or(self.until),
        }
    }
}

#[derive(Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    storage: StorageArg,
    #[command(subcommand)]
    command: SessionsCommand,
}

pub fn run(args: SessionsArgs) -> anyhow::Result<ExitCode> {
    let url = args
        .storage
        .storage
        .or_else(|| std::env::var("SSHTRAIL_SESSION_STORAGE").ok())
        .unwrap_or_else(|| DEFAULT_STORAGE.to_string());
    let store = match sshtrail_sessionstore::open(&url, &Options::default()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("sshtrail: --storage {url}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let code = match args.command {
        SessionsCommand::List(args) => list(store.as_ref(), &args.filter(), &mut out)?,
        SessionsCommand::Reindex => reindex(store.as_ref(), &url, &mut out)?,
        SessionsCommand::Show { id } => show(store.as_ref(), &id, &mut out)?,
        SessionsCommand::Export { id, format, output } => match output {
            Some(path) => {
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut file = io::BufWriter::new(file);
                let code = export_to(store.as_ref(), &id, &format, &mut file)?;
                file.flush()?;
                code
            }
            None => export_to(store.as_ref(), &id, &format, &mut out)?,
        },
        SessionsCommand::Play {
            id,
            speed,
            idle_limit,
        } => play(store.as_ref(), &id, speed, idle_limit, &mut out)?,
        SessionsCommand::Verify { id, digest } => {
            verify_log(store.as_ref(), &id, digest.as_deref(), &mut out)?
        }
    };
    out.flush()?;
    Ok(code)
}

fn list(store: &dyn Store, filter: &Filter, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if let Err(e) = filter.check() {
        eprintln!("sshtrail: sessions list: {e}");
        return Ok(ExitCode::from(2));
    }
    let mut sessions = store.list_matching(filter).context("listing sessions")?;
    sessions.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
    for meta in sessions {
        let line = serde_json::json!({
            "id": meta.id,
            "user": meta.user,
            "source": meta.source,
            "host": meta.host,
            "start": meta.start,
            "end": meta.end,
            "digest": meta.digest,
        });
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn reindex(store: &dyn Store, url: &str, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match store.reindex().context("indexing sessions")? {
        Some(report) => {
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("sshtrail: --storage {url}: this kind of store keeps no index");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open_log(
    store: &dyn Store,
    id: &str,
) -> anyhow::Result<Reader<BufReader<Box<dyn io::Read + Send>>>> {
    let input = store.open(id).with_context(|| format!("session {id}"))?;
    Reader::new(BufReader::new(input)).with_context(|| format!("session {id}"))
}

fn show(store: &dyn Store, id: &str, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let meta = store.meta(id).with_context(|| format!("session {id}"))?;
    write_meta(&meta, out)?;
    writeln!(out)?;
    export::text(open_log(store, id)?, out).with_context(|| format!("session {id}"))?;
    Ok(ExitCode::SUCCESS)
}

fn write_meta(meta: &SessionMeta, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "session  {}", meta.id)?;
    writeln!(out, "user     {}", meta.user)?;
    let port = meta
        .source_port
        .map(|p| format!(" port {p}"))
        .unwrap_or_default();
    writeln!(out, "source   {}{port}", meta.source)?;
    for (key, value) in &meta.geo {
        writeln!(out, "  {key:<7}{value}")?;
    }
    writeln!(out, "host     {} ({})", meta.host, meta.machine_id)?;
    writeln!(out, "start    {}", meta.start)?;
    writeln!(out, "end      {}", meta.end.as_deref().unwrap_or("(open)"))?;
    writeln!(
        out,
        "digest   {}",
        meta.digest.as_deref().unwrap_or("(not sealed)")
    )?;
    writeln!(out, "records  {}", meta.records)
}

fn export_to(
    store: &dyn Store,
    id: &str,
    format: &str,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let reader = open_log(store, id)?;
    match format {
        "text" => {
            export::text(reader, out).with_context(|| format!("session {id}"))?;
        }
        "asciinema" => {
            if !export::asciinema(reader, out).with_context(|| format!("session {id}"))? {
                eprintln!("sshtrail: session {id} has no terminal data to play back");
                return Ok(ExitCode::from(1));
            }
        }
        _ => {
            export::json_lines(reader, out).with_context(|| format!("session {id}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_log(
    store: &dyn Store,
    id: &str,
    expected: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let meta = store.meta(id).ok();
    let input = store.open(id).with_context(|| format!("session {id}"))?;
    let report = verify(BufReader::new(input));
    let mut problems = Vec::new();
    if let Some(problem) = &report.problem {
        let record = problem
            .record_index
            .map_or("header".to_string(), |i| format!("record {i}"));
        problems.push(format!(
            "{record} at offset {}: {}",
            problem.offset, problem.what
        ));
    } else if !report.sealed {
        problems.push("the log is not sealed: it was cut short or is still being written".into());
    }
    let recorded = meta.as_ref().and_then(|m| m.digest.clone());
    for (what, digest) in [("metadata", recorded.as_deref()), ("--digest", expected)] {
        if let Some(digest) = digest {
            if digest != report.digest {
                problems.push(format!(
                    "final digest {} differs from the {what} digest {digest}",
                    report.digest
                ));
            }
        }
    }
    let ok = problems.is_empty();
    let line = serde_json::json!({
        "id": id,
        "ok": ok,
        "records": report.records,
        "sealed": report.sealed,
        "digest": report.digest,
        "recorded_digest": recorded,
        "problems": problems,
    });
    writeln!(out, "{line}")?;
    if !ok {
        eprintln!(
            "sshtrail: session {id} FAILED verification: {}",
            problems.join("; ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `play`: the terminal's output records, each after the pause that preceded it.
fn play(
    store: &dyn Store,
    id: &str,
    speed: f64,
    idle_limit: f64,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let usable = speed.is_finite() && speed > 0.0 && idle_limit.is_finite() && idle_limit >= 0.0;
    if !usable {
        eprintln!("sshtrail: sessions play: --speed must be above 0 and --idle-limit 0 or more");
        return Ok(ExitCode::from(2));
    }
    let reader = open_log(store, id)?;
    let mut last_ms: Option<u64> = None;
    let mut played = false;
    for entry in reader {
        let entry = entry.with_context(|| format!("session {id}"))?;
        let sshtrail_sessionlog::Message::Io { stream, data, .. } = entry.message else {
            continue;
        };
        if stream == sshtrail_sessionlog::Stream::Stdin {
            continue; // the terminal echoed what was shown of it
        }
        if let Some(last) = last_ms {
            let pause = entry.time_ms.saturating_sub(last) as f64 / 1000.0 / speed;
            out.flush()?;
            std::thread::sleep(std::time::Duration::from_secs_f64(pause.min(idle_limit)));
        }
        last_ms = Some(entry.time_ms);
        out.write_all(&data)?;
        played = true;
    }
    if !played {
        eprintln!("sshtrail: session {id} has no terminal data to play back");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
