//! The daemon's outputs under the conditions operators create: a fifo whose reader is
//! slow (backpressure, nothing dropped) and logrotate moving the output file away
//! (SIGHUP reopens it, nothing lost between the two files). No root needed: the audit
//! log is a temporary directory written the way auditd writes it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Setup {
    dir: PathBuf,
    log: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir =
            std::env::temp_dir().join(format!("sshtrail-sinks-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("audit")).expect("dirs");
        let log = dir.join("audit/audit.log");
        std::fs::write(&log, b"").expect("log");
        assert!(Command::new("mkfifo")
            .arg(dir.join("sshd.fifo"))
            .status()
            .expect("mkfifo")
            .success());
        Setup { dir, log }
    }

    fn start(&self, output: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_sshtrail"))
            .args(["run", "--audit-log-dir"])
            .arg(self.dir.join("audit"))
            .args(["--sshd-source", "fifo", "--sshd-log"])
            .arg(self.dir.join("sshd.fifo"))
            .arg("--output")
            .arg(output)
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .args(["--metrics-listen", "off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start")
    }

    /// Appends the captured login `copies` times with serials renumbered densely, so
    /// each copy is a distinct run of events with no serial gaps (a fabricated
    /// multiplication of real records; the fixture alone has gaps where other activity on
    /// the capture host was left out, and live gaps are waited for).
    fn append_sessions(&self, copies: u64, first_serial: u64) -> u64 {
        let real = std::fs::read_to_string(repo().join("crates/audit/tests/data/ssh-login.log"))
            .expect("fixture");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .expect("open");
        let mut next = first_serial;
        for _ in 0..copies {
            let mut renumbered: Vec<(u64, u64)> = Vec::new();
            for line in real.lines() {
                let Some(start) = line.find("msg=audit(") else {
                    continue;
                };
                let Some(colon) = line[start..].find(':').map(|i| start + i) else {
                    continue;
                };
                let Some(close) = line[colon..].find(')').map(|i| colon + i) else {
                    continue;
                };
                let serial: u64 = line[colon + 1..close].parse().expect("serial");
                let new = match renumbered.iter().find(|(old, _)| *old == serial) {
                    Some((_, new)) => *new,
                    None => {
                        renumbered.push((serial, next));
                        next += 1;
                        next - 1
                    }
                };
                writeln!(file, "{}{}{}", &line[..colon + 1], new, &line[close..]).expect("write");
            }
        }
        next
    }

    fn stop(&self, mut child: Child) {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().expect("wait");
        assert!(status.success(), "{status}");
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn count_actions(text: &str) -> usize {
    text.lines()
        .filter(|l| l.contains("\"type\":\"UserAction\""))
        .count()
}

#[test]
fn a_slow_fifo_reader_gets_every_event() {
    let setup = Setup::new("fifo");
    let fifo = setup.dir.join("events.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    // The reader: slow (a pause every 50 lines), collecting what it reads.
    let actions_seen = Arc::new(AtomicUsize::new(0));
    let reader_fifo = fifo.clone();
    let seen = Arc::clone(&actions_seen);
    // A first start (no checkpoint) reads from the end of the log: write only once the
    // daemon is running.
    let daemon_started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Arc::clone(&daemon_started);
    let reader = std::thread::spawn(move || {
        let file = std::fs::File::open(&reader_fifo).expect("open fifo");
        let mut lines = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else { break };
            if i % 50 == 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
            if line.contains("daemon-started") {
                started.store(true, Ordering::Relaxed);
            }
            if line.contains("\"type\":\"UserAction\"") {
                seen.fetch_add(1, Ordering::Relaxed);
            }
            let done = line.contains("daemon-stopped");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let child = setup.start(&fifo);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !daemon_started.load(Ordering::Relaxed) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    const COPIES: u64 = 40;
    let expected = 16 * COPIES as usize;
    setup.append_sessions(COPIES, 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    while actions_seen.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    setup.stop(child);
    let lines = reader.join().expect("reader");
    let text = lines.join("\n");
    // Each copy of the login has 16 session events (see the fixture).
    assert_eq!(
        count_actions(&text),
        16 * COPIES as usize,
        "nothing dropped"
    );
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).expect("whole lines, never interleaved");
    }
}

#[test]
fn sighup_reopens_the_output_after_logrotate_moved_it() {
    let setup = Setup::new("hup");
    let output = setup.dir.join("events.json");
    let child = setup.start(&output);
    // A first start reads from the end of the log: write only once the daemon runs.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&output)
        .unwrap_or_default()
        .contains("daemon-started")
    {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let next = setup.append_sessions(1, 1);
    let wait_for = |path: &Path, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while count_actions(&std::fs::read_to_string(path).unwrap_or_default()) < n {
            assert!(
                Instant::now() < deadline,
                "waiting for {n} actions in {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for(&output, 16);
    let rotated = setup.dir.join("events.json.1");
    std::fs::rename(&output, &rotated).expect("rotate");
    let _ = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(500));
    setup.append_sessions(2, next);
    wait_for(&output, 32);
    setup.stop(child);
    let old = std::fs::read_to_string(&rotated).expect("rotated");
    let new = std::fs::read_to_string(&output).expect("new");
    assert_eq!(
        count_actions(&old) + count_actions(&new),
        16 * 3,
        "nothing lost across"
    );
    assert!(
        count_actions(&new) >= 16,
        "the reopened file gets the new events"
    );
}
