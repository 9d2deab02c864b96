//! Uploads one session through an S3 store and prints the outcome as JSON; the kill -9 test
//! runs it as a child process.
//!
//! ```text
//! upload URL SPOOL_DIR ID SIZE [--resume] [--deadline SECS]
//! ```
//! Without `--resume` it writes SIZE bytes of fabricated session data (deterministic
//! pseudo-random, seeded by SIZE) to the spool and finishes the session; with `--resume` it
//! only opens the store, which resumes whatever the spool holds. Then it waits for the queue
//! (up to `--deadline`, default 120 s) and prints `{"report":…,"stats":…}`.

use sshtrail_sessionstore::{open, Options, SessionMeta};
use std::io::Write;
use std::time::Duration;

fn synthetic(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err("usage: upload URL SPOOL_DIR ID SIZE [--resume] [--deadline SECS]".into());
    }
    let (url, spool, id) = (&args[1], &args[2], &args[3]);
    let size: usize = args[4].parse()?;
    let resume = args.iter().any(|a| a == "--resume");
    let deadline = args
        .iter()
        .position(|a| a == "--deadline")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(120);
    let mut options = Options {
        spool_dir: Some(spool.into()),
        ..Default::default()
    };
    options.retry.initial = Duration::from_millis(100);
    options.retry.max = Duration::from_secs(2);
    let store = open(url, &options)?;
    if !resume {
        let data = synthetic(size as u64, size);
        let mut log = store.open_local(id)?.ok_or("store keeps no logs")?;
        log.write_all(&data)?;
        log.sync_all()?;
        let meta = SessionMeta {
            id: id.clone(),
            user: "alice".into(),
            source: "192.0.2.7".into(),
            host: "web-1".into(),
            start: "2026-11-23T10:00:00Z".into(),
            bytes: size as u64,
            ..Default::default()
        };
        store.finish(&meta)?;
    }
    let report = store.shutdown(Duration::from_secs(deadline));
    let out = serde_json::json!({ "report": report, "stats": store.stats() });
    println!("{out}");
    std::io::stdout().flush()?;
    Ok(())
}
