//! The session index at fleet size: fills an S3 prefix with N sessions as the uploader leaves
//! them (log, sidecar, three index entries, the completion marker), then times `list_matching`
//! through the index and through the sidecars. `scripts/bench-session-index` runs it against a
//! loopback server.
//!
//! ```text
//! index_bench fill URL N [--threads T] [--hosts H] [--users U] [--days D]
//! index_bench list URL [--user U] [--host H] [--day D] [--sidecars]
//! ```
//! `fill` writes sessions 0..N: session i belongs to user `user-<i % U>` on host
//! `host-<i % H>` (so both filters pick evenly spread sessions) and starts on day
//! `i % D` counted back from 2026-11-30, at a time of day made from i. It PUTs straight through
//! the store's client with T threads, the same keys and bodies the uploader writes
//! (`index::keys`, the sidecar JSON), because going through the uploader would measure the
//! spool's fsyncs instead of the index. `list` prints one JSON line: the filter, how many
//! sessions matched, seconds, and the requests, GETs and LIST pages it took; `--sidecars`
//! lists by reading every sidecar (the store without its index), the baseline.

use sshtrail_sessionstore::s3::{index, Client, LOG_SUFFIX, META_SUFFIX};
use sshtrail_sessionstore::{connect, create_bucket, open, Filter, Options, SessionMeta};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn number(args: &[String], name: &str, default: usize) -> Result<usize> {
    Ok(flag(args, name)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(default))
}

/// Days back from 2026-11-30 as a date (the bench spans at most a few months).
fn date(days_back: usize) -> String {
    const MONTH_DAYS: [usize; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut month, mut day) = (11usize, 30usize);
    for _ in 0..days_back {
        if day > 1 {
            day -= 1;
        } else {
            month = if month == 1 { 12 } else { month - 1 };
            day = MONTH_DAYS[month - 1];
        }
    }
    let year = if days_back > 333 { 2025 } else { 2026 };
    format!("{year}-{month:02}-{day:02}")
}

fn session(i: usize, hosts: usize, users: usize, days: usize) -> SessionMeta {
    let day = date(i % days);
    let second = (i * 7919) % 86_400;
    let start = format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        second / 3600,
        second / 60 % 60,
        second % 60,
        i % 1000
    );
    let end_second = (second + 300).min(86_399);
    SessionMeta {
        id: format!("{:016x}-{:08x}-{i}", 0x5eed_u64 + (i % hosts) as u64, i),
        user: format!("user-{}", i % users),
        source: format!("198.51.100.{}", i % 250 + 1),
        source_port: Some(40_000 + (i % 20_000) as u16),
        host: format!("host-{}", i % hosts),
        machine_id: format!("{:032x}", i % hosts),
        start,
        end: Some(format!(
            "{day}T{:02}:{:02}:{:02}.000Z",
            end_second / 3600,
            end_second / 60 % 60,
            end_second % 60
        )),
        digest: Some(format!("sha256:{:064x}", i)),
        bytes: 4096,
        records: 42,
        ..Default::default()
    }
}

fn put_session(client: &Client, meta: &SessionMeta) -> Result<()> {
    let cfg = client.config();
    let prefix = cfg.list_prefix();
    // The log's bytes do not matter to a listing; its key does (the sidecar listing pages
    // through it).
    client.put_object(&cfg.key(&meta.id, LOG_SUFFIX), b"log", &[])?;
    client.put_object(
        &cfg.key(&meta.id, META_SUFFIX),
        &serde_json::to_vec(meta)?,
        &[("content-type".into(), "application/json".into())],
    )?;
    for key in index::keys(&prefix, meta) {
        client.put_object(&key, b"", &[])?;
    }
    Ok(())
}

fn fill(url: &str, args: &[String]) -> Result<()> {
    let n: usize = args.first().ok_or("fill URL N")?.parse()?;
    let threads = number(args, "--threads", 8)?.max(1);
    let hosts = number(args, "--hosts", 200)?.max(1);
    let users = number(args, "--users", 500)?.max(1);
    let days = number(args, "--days", 30)?.max(1);
    let options = Options::default();
    // A bucket that already exists is fine: a second fill adds to the first.
    let _ = create_bucket(url, &options);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let client = connect(url, &options)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(());
                        }
                        put_session(&client, &session(i, hosts, users, days))?;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| "a fill thread panicked")??;
        }
        Ok(())
    })?;
    let client = connect(url, &options)?;
    let marker = format!("{}{}", client.config().list_prefix(), index::MARKER);
    client.put_object(&marker, b"", &[])?;
    println!(
        "{}",
        serde_json::json!({"filled": n, "hosts": hosts, "users": users, "days": days,
            "objects": n * 5 + 1, "seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

fn list(url: &str, args: &[String]) -> Result<()> {
    let filter = Filter {
        user: flag(args, "--user"),
        host: flag(args, "--host"),
        since: flag(args, "--day"),
        until: flag(args, "--day"),
    };
    let sidecars = args.iter().any(|a| a == "--sidecars");
    let store = open(url, &Options::default())?;
    let started = Instant::now();
    let found = if sidecars {
        let mut all = store.list()?;
        all.retain(|m| filter.matches(m));
        all
    } else {
        store.list_matching(&filter)?
    };
    let seconds = started.elapsed().as_secs_f64();
    let stats = store.stats();
    println!(
        "{}",
        serde_json::json!({"via": if sidecars { "sidecars" } else { "index" },
            "user": filter.user, "host": filter.host, "day": filter.since,
            "sessions": found.len(), "seconds": seconds, "requests": stats.requests,
            "gets": stats.get_requests, "list_pages": stats.list_requests})
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("fill"), Some(url)) => fill(url, &args[2..]),
        (Some("list"), Some(url)) => list(url, &args[2..]),
        _ => Err("usage: index_bench fill URL N [...] | list URL [--user U] [--host H] [--day D] [--sidecars]".into()),
    }
}
