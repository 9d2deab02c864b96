//! Shared set-up of the storage tests: a real S3-compatible server (s3s-fs through
//! `scripts/s3-server`) on a free loopback port, and synthetic session bytes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const ACCESS_KEY: &str = "sshtrail-test";
pub const SECRET_KEY: &str = "sshtrail-test-secret";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server")
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// One server instance with its own data directory; stopped on drop.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// `s3s-fs` (persistent, checks signatures) or `moto` (in memory).
    pub kind: &'static str,
}

impl Server {
    /// Starts a server, or returns `None` (test skipped) when s3s-fs is not installed, unless
    /// `SSHTRAIL_REQUIRE_LIVE=1` makes that a failure.
    pub fn start_or_skip(test: &str) -> Option<Server> {
        Self::start_kind_or_skip(test, "s3s-fs")
    }

    pub fn start_kind_or_skip(test: &str, kind: &'static str) -> Option<Server> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let server = Server { dir, port, kind };
        match server.run("start") {
            0 => Some(server),
            3 => {
                if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
                    panic!("{test}: {kind} is not installed and SSHTRAIL_REQUIRE_LIVE=1 (run scripts/install-deps)");
                }
                eprintln!("SKIP {test}: {kind} is not installed (run scripts/install-deps)");
                None
            }
            rc => panic!("{test}: scripts/s3-server start failed with {rc}"),
        }
    }

    fn run(&self, verb: &str) -> i32 {
        let mut cmd = Command::new(script());
        cmd.arg(verb).arg(self.dir.path());
        if verb == "start" {
            cmd.arg(self.port.to_string());
        }
        cmd.env("S3_ACCESS_KEY", ACCESS_KEY)
            .env("S3_SECRET_KEY", SECRET_KEY)
            .env("S3_SERVER_KIND", self.kind);
        cmd.status()
            .expect("run scripts/s3-server")
            .code()
            .unwrap_or(-1)
    }

    pub fn stop(&self) {
        assert_eq!(self.run("stop"), 0, "s3-server stop");
    }

    pub fn restart(&self) {
        assert_eq!(self.run("start"), 0, "s3-server start (restart)");
    }

    /// `s3://BUCKET/PREFIX?endpoint=…` with the test credentials and `extra` query keys.
    pub fn url(&self, bucket: &str, prefix: &str, extra: &str) -> String {
        let mut u = format!(
            "s3://{bucket}/{prefix}?endpoint=http://127.0.0.1:{}&region=us-east-1&access_key_id={ACCESS_KEY}&secret_access_key={SECRET_KEY}",
            self.port
        );
        if !extra.is_empty() {
            u.push('&');
            u.push_str(extra);
        }
        u
    }

    pub fn bucket(&self, bucket: &str) -> String {
        let url = self.url(bucket, "", "");
        sshtrail_sessionstore::create_bucket(&url, &Default::default()).expect("create bucket");
        url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.run("stop");
    }
}

/// Fabricated session bytes (the issue allows synthetic large sessions for the S3 tests):
/// deterministic pseudo-random, so a test can regenerate what it expects to read back.
pub fn synthetic(seed: u64, len: usize) -> Vec<u8> {
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

/// A session's metadata as the daemon would fill it in (values made up).
pub fn meta(id: &str, bytes: u64) -> sshtrail_sessionstore::SessionMeta {
    sshtrail_sessionstore::SessionMeta {
        id: id.into(),
        user: "alice".into(),
        source: "192.0.2.7".into(),
        source_port: Some(50022),
        host: "web-1".into(),
        machine_id: "0123456789abcdef0123456789abcdef".into(),
        start: "2026-11-23T10:00:00Z".into(),
        end: Some("2026-11-23T10:05:00Z".into()),
        digest: Some(format!("sha256:{:064x}", bytes)),
        bytes,
        records: 42,
        ..Default::default()
    }
}

/// Waits up to `secs` for `cond`.
pub fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn read_all(mut r: Box<dyn std::io::Read + Send>) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).expect("read stored log");
    v
}

/// A writable store's options with a spool and quick retries (the tests' servers fail fast).
#[allow(dead_code)] // not every test binary writes
pub fn spooled_options(spool: &std::path::Path) -> sshtrail_sessionstore::Options {
    let mut o = sshtrail_sessionstore::Options {
        spool_dir: Some(spool.to_path_buf()),
        ..Default::default()
    };
    o.retry.initial = std::time::Duration::from_millis(50);
    o.retry.max = std::time::Duration::from_millis(500);
    o
}
