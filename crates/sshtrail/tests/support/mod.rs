//! Shared helpers for tests that drive real components (kernel audit, auditd).
#![allow(dead_code)]

pub mod live;

use std::fs::File;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether live tests can run here; panics instead of skipping when
/// `SSHTRAIL_REQUIRE_LIVE=1`, so CI cannot pass by skipping them.
pub fn require_live(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let auditd = auditd_alive();
    if root && auditd {
        return true;
    }
    if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("{test}: needs root and a running auditd (root={root}, auditd={auditd})");
    }
    eprintln!("{test}: skipped (needs root and a running auditd)");
    false
}

/// Whether the kernel's registered audit daemon is a live process (not a zombie).
fn auditd_alive() -> bool {
    let Ok(out) = Command::new("auditctl").arg("-s").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(pid) = text
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p != 0)
    else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit(')').next().map(|rest| rest.trim().to_string()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// Serializes tests that change kernel audit state, across test binaries.
pub fn kernel_audit_lock() -> File {
    let file = File::create("/tmp/sshtrail-kernel-audit.lock").expect("lock file");
    file.lock().expect("lock");
    // auditd started with `-s enable` (its default) switches auditing off when it exits,
    // so a test that stopped or restarted auditd can leave it off: on again (1, never 2).
    let off = Command::new("auditctl")
        .arg("-s")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "enabled 0")
        })
        .unwrap_or(false);
    if off {
        let _ = Command::new("auditctl").args(["-e", "1"]).status();
    }
    file
}

/// An audit rule added for the life of the value and deleted exactly on drop.
pub struct AuditRule {
    args: Vec<String>,
}

impl AuditRule {
    /// `args` as auditctl takes them, starting with `-a`.
    pub fn add(args: &[&str]) -> AuditRule {
        let status = Command::new("auditctl")
            .args(args)
            .status()
            .expect("auditctl");
        assert!(status.success(), "auditctl {args:?}");
        AuditRule::delete_on_drop(args)
    }

    /// Only deletes `args`' rule on drop: for a rule something else (the daemon under
    /// test) installs.
    pub fn delete_on_drop(args: &[&str]) -> AuditRule {
        AuditRule {
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Drop for AuditRule {
    fn drop(&mut self) {
        let mut args = self.args.clone();
        if let Some(first) = args.first_mut() {
            *first = "-d".into();
        }
        let _ = Command::new("auditctl").args(&args).status();
    }
}

/// Waits (up to 15 s) until `path` contains `needle` at least `count` times.
pub fn wait_for_log(path: &str, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read(path).unwrap_or_default();
        let found = String::from_utf8_lossy(&text).matches(needle).count();
        if found >= count {
            // The rest of the event's records follow within the same write burst.
            std::thread::sleep(Duration::from_millis(300));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{needle} not in {path} ({found}/{count})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A real S3-compatible server (s3s-fs via `scripts/s3-server`) on a free loopback port,
/// with one bucket; stopped on drop. `None` (skip) when it is not installed, unless
/// `SSHTRAIL_REQUIRE_LIVE=1`.
pub struct S3Server {
    pub dir: std::path::PathBuf,
    pub port: u16,
    pub bucket: String,
}

pub const S3_ACCESS_KEY: &str = "sshtrail-test";
pub const S3_SECRET_KEY: &str = "sshtrail-test-secret";

impl S3Server {
    pub fn start(test: &str) -> Option<S3Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("sshtrail-s3-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server");
        let status = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg(port.to_string())
            .status()
            .expect("scripts/s3-server");
        if status.code() == Some(3) {
            if std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
                panic!("{test}: s3s-fs is not installed (scripts/install-deps)");
            }
            eprintln!("{test}: skipped (s3s-fs is not installed)");
            return None;
        }
        assert!(status.success(), "{test}: the S3 server did not start");
        let bucket = "sshtrail-sessions".to_string();
        // s3s-fs keeps a bucket as a directory of its data root.
        std::fs::create_dir_all(dir.join("data").join(&bucket)).expect("bucket");
        Some(S3Server { dir, port, bucket })
    }

    /// The `--session-storage` URL for `prefix` in the bucket.
    pub fn url(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint=http://127.0.0.1:{}&region=us-east-1",
            self.bucket, self.port
        )
    }

    /// Stops the server (TERM, then KILL); its objects stay on disk for [`Self::restart`].
    pub fn stop(&self) {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server");
        let status = Command::new(script).arg("stop").arg(&self.dir).status();
        assert!(status.is_ok_and(|s| s.success()), "s3-server stop");
    }

    /// Starts it again on the same port, serving the same objects.
    pub fn restart(&self) {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server");
        let status = Command::new(script)
            .arg("start")
            .arg(&self.dir)
            .arg(self.port.to_string())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "s3-server start (restart)"
        );
    }

    /// Environment that gives sshtrail the server's credentials.
    pub fn env(&self) -> [(&'static str, &'static str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-server");
        let _ = Command::new(script).arg("stop").arg(&self.dir).status();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `log` (auditd log lines) as the next boot would write it, fabricated from the real
/// records: the kernel counts serials from 1 again (events numbered in order of their
/// first record) and the clock has moved on `later_secs`.
pub fn as_next_boot(log: &str, later_secs: u64) -> String {
    let mut numbers: Vec<u64> = Vec::new();
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        let (head, rest) = line.split_once("msg=audit(").expect("a record header");
        let (stamp, rest) = rest.split_once(')').expect("a record header");
        let (time, serial) = stamp.split_once(':').expect("time:serial");
        let (sec, msec) = time.split_once('.').expect("sec.msec");
        let serial: u64 = serial.parse().expect("serial");
        let number = match numbers.iter().position(|s| *s == serial) {
            Some(i) => i + 1,
            None => {
                numbers.push(serial);
                numbers.len()
            }
        };
        let sec: u64 = sec.parse().expect("seconds");
        out.push_str(&format!(
            "{head}msg=audit({}.{msec}:{number}){rest}\n",
            sec + later_secs
        ));
    }
    out
}

/// The events a running daemon has written so far to `path`: every complete line, each
/// one JSON event. A daemon writes a batch with one `write`, and a reader may catch it
/// half copied, so a last line without its newline is not yet an event; any complete
/// line that is not JSON still fails the test.
pub fn complete_events(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON event ({e}): {l}")))
        .collect()
}

/// `(seconds, milliseconds, serial)` of a record line: `msg=audit(1795433572.486:44626)`.
pub fn stamp(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.split_once("msg=audit(")?.1;
    let (inside, _) = rest.split_once(')')?;
    let (time, serial) = inside.split_once(':')?;
    let (secs, millis) = time.split_once('.')?;
    Some((
        secs.parse().ok()?,
        millis.parse().ok()?,
        serial.parse().ok()?,
    ))
}

/// Copy `n` of the capture, renumbered (serials + n·1000, times + n·100 s, audit session
/// ids + n·100), and the serials
/// of its events that carry a session id: each becomes one UserAction.
pub fn renumbered_capture(n: u64) -> (String, std::collections::BTreeSet<u64>) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/sshd-session.audit.log"),
    )
    .expect("examples/sshd-session.audit.log");
    let mut out = String::new();
    let mut with_session = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (secs, millis, serial) = stamp(line).expect("an audit record line");
        let old = format!("msg=audit({secs}.{millis:03}:{serial})");
        let new_serial = serial + n * 1000;
        let new = format!("msg=audit({}.{millis:03}:{new_serial})", secs + n * 100);
        assert!(line.contains(&old), "time stamp format: {line}");
        let line = line.replacen(&old, &new, 1);
        // Each copy's sessions get ids of their own, as the kernel gives every login a new
        // one within a boot.
        let fields: Vec<String> = line
            .split(' ')
            .map(
                |field| match field.strip_prefix("ses=").map(str::parse::<u64>) {
                    Some(Ok(ses)) if ses != 4_294_967_295 => format!("ses={}", ses + n * 100),
                    _ => field.to_string(),
                },
            )
            .collect();
        out.push_str(&fields.join(" "));
        out.push('\n');
        let session = line
            .split(' ')
            .find_map(|field| field.strip_prefix("ses="))
            .is_some_and(|ses| ses != "4294967295");
        if session {
            with_session.insert(new_serial);
        }
    }
    (out, with_session)
}

/// The real sshd lines of the capture's sessions (`examples/sshd-session.journal.json`) as
/// rsyslog writes them with its ISO 8601 template, moved like [`renumbered_capture`]`(n)`
/// (times + n·100 s), so that copy `n`'s logins and logouts join copy `n`'s audit events.
pub fn renumbered_sshd(n: u64) -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/sshd-session.journal.json"),
    )
    .expect("examples/sshd-session.journal.json");
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("a journal entry");
        let field = |name: &str| entry[name].as_str().unwrap_or("").to_string();
        let micros: u64 = field("__REALTIME_TIMESTAMP").parse().expect("a time stamp");
        let micros = micros + n * 100_000_000;
        let (y, mo, d, h, mi, s) = sshtrail_fmt::time::civil_from_unix(micros / 1_000_000);
        out.push_str(&format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}+00:00 {} {}[{}]: {}\n",
            micros % 1_000_000,
            field("_HOSTNAME"),
            field("SYSLOG_IDENTIFIER"),
            field("_PID"),
            field("MESSAGE"),
        ));
    }
    out
}

/// The audit serials of the UserActions among `events` (the sink tests' copies name theirs).
pub fn action_serials(events: &[serde_json::Value]) -> std::collections::BTreeSet<u64> {
    events
        .iter()
        .filter(|e| e["type"] == "UserAction")
        .filter_map(|e| e["metadata"]["extra"]["sequence"].as_u64())
        .collect()
}

/// How many `SystemAction`s of kind `action` are among `events`.
pub fn system_actions(events: &[serde_json::Value], action: &str) -> usize {
    events
        .iter()
        .filter(|e| e["type"] == "SystemAction" && e["data"]["action"] == action)
        .count()
}

/// An event's `metadata.eventId`.
pub fn event_id(e: &serde_json::Value) -> String {
    e["metadata"]["eventId"]
        .as_str()
        .expect("every event has metadata.eventId")
        .to_string()
}

/// Polls `check` every 100 ms until it gives something; panics naming `what` after `secs`.
pub fn wait_until<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
