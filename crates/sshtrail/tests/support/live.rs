//! What the live daemon tests share: the testbed's sshd driven by real `ssh`, and
//! `sshtrail run` started, waited on, crashed and stopped.

use super::{kernel_audit_lock, require_live, AuditRule};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the testbed's sshd answers; panics instead when live tests are required.
pub fn testbed_up() -> bool {
    let up = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:22830".parse().expect("address"),
        Duration::from_secs(1),
    )
    .is_ok();
    if !up && std::env::var("SSHTRAIL_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("the sshd testbed is not running (scripts/testbed/up.sh)");
    }
    up
}

/// Runs `tb_ssh_*` from scripts/testbed/client.sh; returns (success, stdout).
pub fn ssh(call: &str) -> (bool, String) {
    let script = format!(". scripts/testbed/client.sh && {call}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo())
        .output()
        .expect("bash");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// [`ssh`], left running: a session that lasts across what the test does meanwhile.
pub fn background_ssh(call: &str) -> Child {
    let script = repo().join("scripts/testbed/client.sh");
    Command::new("bash")
        .arg("-c")
        .arg(format!(". {} && {call}", script.display()))
        .current_dir(repo())
        .stdout(Stdio::piped())
        .spawn()
        .expect("a session in the background")
}

pub struct Daemon {
    pub child: Child,
    pub output: PathBuf,
}

impl Daemon {
    pub fn start(dir: &Path) -> Daemon {
        Daemon::start_nth(dir, 1)
    }

    /// Starts the daemon on `dir` and waits for its `nth` start event in the output.
    pub fn start_nth(dir: &Path, nth: usize) -> Daemon {
        Daemon::start_with(dir, nth, &[])
    }

    pub fn start_with(dir: &Path, nth: usize, extra: &[&str]) -> Daemon {
        Daemon::start_env(dir, nth, extra, &[])
    }

    pub fn start_env(dir: &Path, nth: usize, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let output = dir.join("events.json");
        let child = Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .envs(env.iter().copied())
            .args(["run", "--output"])
            .arg(&output)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args(["--metrics-listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshtrail run");
        let daemon = Daemon { child, output };
        daemon.wait_for(|events| {
            events
                .iter()
                .filter(|e| e["data"]["action"] == "daemon-started")
                .count()
                >= nth
        });
        // The journald follower starts at "now": give it a moment to be reading.
        std::thread::sleep(Duration::from_millis(500));
        daemon
    }

    pub fn events(&self) -> Vec<Value> {
        super::complete_events(&self.output)
    }

    pub fn wait_for(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_for_within(Duration::from_secs(30), done)
    }

    pub fn wait_for_within(&self, limit: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; events so far: {events:#?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `kill -9`: no chance to write anything more.
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn stop(mut self) -> Vec<Value> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "sshtrail run exited with {status}");
        self.events()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every live daemon test needs: the preconditions checked, the kernel lock held,
/// an execve rule for logged-in users with the test's own key (deleted on drop), and an
/// empty working directory.
pub struct LiveCase {
    pub key: String,
    pub dir: PathBuf,
    _rule: AuditRule,
    _lock: std::fs::File,
}

impl LiveCase {
    pub fn new(test: &str, short: &str) -> Option<LiveCase> {
        if !require_live(test) || !testbed_up() {
            return None;
        }
        let lock = kernel_audit_lock();
        let key = format!("sshtrail-live-{short}-{}", std::process::id());
        let rule = AuditRule::add(&[
            "-A",
            "exit,always",
            "-F",
            "arch=b64",
            "-S",
            "execve",
            "-F",
            "auid>=1000",
            "-F",
            "auid!=-1",
            "-k",
            &key,
        ]);
        let dir =
            std::env::temp_dir().join(format!("sshtrail-live-{short}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Some(LiveCase {
            key,
            dir,
            _rule: rule,
            _lock: lock,
        })
    }
}

impl Drop for LiveCase {
    fn drop(&mut self) {
        // Kept after a failure, for a look at the events and session logs.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What a session said about itself: (kernel session id, client ip, client port).
pub fn session_facts(stdout: &str) -> (String, String, String) {
    // A terminal session's lines end in "\r\n".
    let stdout = stdout.replace('\r', "");
    let stdout = stdout.as_str();
    let ses = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ses="))
        .expect("ses line")
        .to_string();
    let client = stdout
        .lines()
        .find_map(|l| l.strip_prefix("client="))
        .expect("client line");
    let mut parts = client.split_whitespace();
    let ip = parts.next().unwrap_or_default().to_string();
    let port = parts.next().unwrap_or_default().to_string();
    (ses, ip, port)
}

/// Events whose process arguments contain `marker`.
pub fn with_marker<'a>(events: &'a [Value], marker: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| {
            e["metadata"]["extra"]["process_args"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(marker)))
        })
        .collect()
}

/// The session log a `UserLogout` names, checked against the digest it carries: its id.
pub fn verified_log(storage: &str, logout: &Value) -> String {
    let id = logout["data"]["session_log_id"]
        .as_str()
        .expect("session_log_id");
    let digest = logout["data"]["session_log_digest"]
        .as_str()
        .expect("session_log_digest");
    let verify = sessions_cli(storage, &["verify", id, "--digest", digest]);
    assert!(
        verify.status.success(),
        "{id}: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    id.to_string()
}

pub fn sessions_cli(storage: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sshtrail"))
        .args(["sessions", "--storage", storage])
        .args(args)
        .output()
        .expect("sshtrail sessions")
}

/// Where the journal ends now: what `--cursor` reads from.
pub fn journal_cursor() -> String {
    let out = Command::new("journalctl")
        .args(["--show-cursor", "-n", "0", "-o", "cat"])
        .output()
        .expect("journalctl");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("-- cursor: ").map(str::to_string))
        .expect("a cursor")
}

/// The bytes `path` gained since it was `offset` long (through a rotation to `.1`).
pub fn grown_since(path: &Path, inode: u64, offset: u64) -> Vec<u8> {
    use std::os::unix::fs::MetadataExt;
    let now = std::fs::read(path).expect("audit log");
    let same = std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0) == inode;
    if same {
        return now.get(offset as usize..).unwrap_or_default().to_vec();
    }
    let mut rotated = std::fs::read(path.with_extension("log.1")).expect("rotated audit log");
    let mut out = rotated.split_off((offset as usize).min(rotated.len()));
    out.extend(now);
    out
}

/// The journal's entries of `identifiers` after `cursor` (`journalctl --cursor`, with the
/// cursor's own entry dropped: systemd 252's `--after-cursor` with a match skips the
/// first match), one JSON object a line.
pub fn journal_since(cursor: &str, identifiers: &[&str]) -> String {
    let journal = Command::new("journalctl")
        .args(["-o", "json", "--no-pager", &format!("--cursor={cursor}")])
        .args(identifiers.iter().map(|i| format!("SYSLOG_IDENTIFIER={i}")))
        .output()
        .expect("journalctl");
    String::from_utf8_lossy(&journal.stdout)
        .lines()
        .filter(|l| !l.contains(&format!("\"__CURSOR\":\"{cursor}\"")))
        .map(|l| format!("{l}\n"))
        .collect()
}
