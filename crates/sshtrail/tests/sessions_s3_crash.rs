//! `kill -9` of the daemon while a 30 MB session log is being uploaded to S3, then a
//! restart: the upload resumes under the same upload id, and the object in the bucket is
//! whole and verifies against the digest the session's `UserLogout` event carried.
//!
//! The daemon reads audit records as auditd's plugin framework hands them over (stdin);
//! the session is synthetic, made from a real captured login
//! (`crates/audit/tests/data/ssh-login.log`) with 10,000 extra execs whose long argument is
//! generated, so that its log is large enough for a multipart upload. The S3 server is a
//! real one (s3s-fs via `scripts/s3-server`); the upload is throttled (`max_bandwidth`) so
//! that the kill lands in the middle of it.

mod support;

use support::wait_until;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::S3Server;

const EXTRA_EXECS: usize = 10_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The captured login with `EXTRA_EXECS` execs inserted before its end; serials renumbered
/// so that they stay consecutive.
fn synthetic_session() -> String {
    let text = std::fs::read_to_string(repo().join("crates/audit/tests/data/ssh-login.log"))
        .expect("fixture");
    let serial_of = |line: &str| -> Option<u64> {
        line.split_once("msg=audit(")?
            .1
            .split_once(':')?
            .1
            .split_once(')')?
            .0
            .parse()
            .ok()
    };
    let mut events: Vec<(u64, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let serial = serial_of(line).expect("serial");
        match events.last_mut() {
            Some((s, lines)) if *s == serial => lines.push(line),
            _ => events.push((serial, vec![line])),
        }
    }
    // The user's own `/bin/echo sshtrail-ssh-session` exec is the template.
    let template = events
        .iter()
        .find(|(_, lines)| {
            lines
                .iter()
                .any(|l| l.contains("a1=\"sshtrail-ssh-session\""))
        })
        .expect("the marked exec")
        .clone();
    let end = events
        .iter()
        .position(|(_, lines)| lines[0].starts_with("type=USER_END"))
        .expect("USER_END");
    let mut out = String::new();
    let mut serial = 50_000u64;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let emit = |lines: &[&str], serial: u64, out: &mut String, rename: Option<&str>| {
        for line in lines {
            let old = serial_of(line).expect("serial");
            let mut line = line.replace(&format!(":{old})"), &format!(":{serial})"));
            if let (Some(arg), true) = (rename, line.starts_with("type=EXECVE")) {
                line = format!("{}a1={arg}", &line[..line.find("a1=").expect("a1")]);
            }
            out.push_str(&line);
            out.push('\n');
        }
    };
    for (i, (_, lines)) in events.iter().enumerate() {
        if i == end {
            for n in 0..EXTRA_EXECS {
                // 3,000 generated alphanumerics, hex-encoded as auditd writes such args.
                let mut arg = format!("bulk-{n}-");
                while arg.len() < 3_000 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    arg.push(char::from(
                        b"abcdefghijklmnopqrstuvwxyz0123456789"[(rng % 36) as usize],
                    ));
                }
                let hex: String = arg.bytes().map(|b| format!("{b:02X}")).collect();
                serial += 1;
                emit(&template.1, serial, &mut out, Some(&hex));
            }
        }
        serial += 1;
        emit(lines, serial, &mut out, None);
    }
    out
}

struct Daemon {
    child: Child,
    metrics: String,
}

impl Daemon {
    fn start(dir: &Path, storage: &str, s3: &S3Server) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let metrics = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--audit-source", "plugin", "--audit-log-dir"])
            .arg(dir.join("no-audit-log"))
            .args(["--sshd-source", "syslog", "--sshd-log"])
            .arg(dir.join("auth.log"))
            .arg("--output")
            .arg(dir.join("events.json"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args(["--metrics-listen", &metrics])
            .args(["--join-deadline-ms", "300"])
            .args(["--session-storage", storage])
            .envs(s3.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshtrail run");
        Daemon { child, metrics }
    }

    fn metric(&self, name: &str) -> Option<u64> {
        let mut stream = std::net::TcpStream::connect(&self.metrics).ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stream, &mut text).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn events(dir: &Path) -> Vec<Value> {
    support::complete_events(&dir.join("events.json"))
}

#[test]
fn a_crash_in_the_middle_of_an_upload_resumes_and_the_object_verifies() {
    let Some(s3) = S3Server::start("sessions_s3_crash") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("sshtrail-s3-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("auth.log"), "").expect("auth.log");
    // 8 MiB parts at 6 MB/s: the upload takes about 5 s.
    let storage = format!("{}&max_bandwidth=6000000", s3.url("crash"));

    let mut first = Daemon::start(&dir, &storage, &s3);
    first
        .child
        .stdin
        .as_mut()
        .expect("stdin")
        .write_all(synthetic_session().as_bytes())
        .expect("feed records");
    let logout = wait_until("the logout", 120, || {
        events(&dir).into_iter().find(|e| e["type"] == "UserLogout")
    });
    let id = logout["data"]["session_log_id"]
        .as_str()
        .expect("session_log_id")
        .to_string();
    let digest = logout["data"]["session_log_digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let spool = dir.join("state/spool");
    let size = std::fs::metadata(spool.join(format!("{id}.sshlog")))
        .expect("the log waits in the spool")
        .len();
    assert!(size > 30_000_000, "a log of {size} bytes");
    // Killed once the server holds at least one part, before the upload completes.
    let record = spool.join(format!("{id}.upload.json"));
    let upload_id = wait_until("a part uploaded", 60, || {
        let text = std::fs::read_to_string(&record).ok()?;
        let json: Value = serde_json::from_str(&text).ok()?;
        let parts = json["parts"].as_object().map_or(0, |p| p.len());
        (parts >= 1 && json["log_uploaded"] != true)
            .then(|| json["upload_id"].as_str().map(str::to_string))
            .flatten()
    });
    let _ = first.child.kill();
    let _ = first.child.wait();
    drop(first);

    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["sessions", "--storage", &storage])
            .args(args)
            .envs(s3.env())
            .output()
            .expect("sshtrail sessions")
    };
    let listed = String::from_utf8_lossy(&cli(&["list"]).stdout).to_string();
    assert!(
        !listed.contains(&id),
        "not in the bucket before the restart"
    );

    let second = Daemon::start(&dir, &storage, &s3);
    wait_until("the upload to finish", 120, || {
        (!record.exists() && !spool.join(format!("{id}.sshlog")).exists()).then_some(())
    });
    assert_eq!(
        second.metric("sshtrail_session_uploads_resumed_total"),
        Some(1),
        "continued under upload id {upload_id}"
    );
    assert!(second.metric("sshtrail_session_upload_parts_reused_total") >= Some(1));

    let listed = cli(&["list"]);
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(text.contains(&id), "{text}");
    // The daemon found the prefix empty at its first start and marked the session index
    // complete, so the listing read index entries, not sidecars.
    assert!(
        !String::from_utf8_lossy(&listed.stderr).contains("no session index"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let session: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["id"] == id.as_str())
        .expect("the session's line");
    let (user, host) = (
        session["user"].as_str().unwrap(),
        session["host"].as_str().unwrap(),
    );
    let day = &session["start"].as_str().unwrap()[..10];
    let filtered = cli(&["list", "--user", user, "--host", host, "--day", day]);
    let filtered = String::from_utf8_lossy(&filtered.stdout).to_string();
    assert!(filtered.contains(&id), "{filtered}");
    let other = cli(&["list", "--user", "nobody-of-this-test"]);
    assert!(other.status.success() && other.stdout.is_empty());
    let verify = cli(&["verify", &id, "--digest", &digest]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let report: Value = serde_json::from_slice(&verify.stdout).expect("JSON");
    assert_eq!(
        report["records"].as_u64().map(|r| r > EXTRA_EXECS as u64),
        Some(true)
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
